from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=40)),
                ("sku", models.CharField(max_length=12)),
                ("price", models.DecimalField(decimal_places=2, max_digits=8)),
                ("notes", models.TextField(null=True)),
                ("stock", models.IntegerField(null=True)),
            ],
        ),
    ]
