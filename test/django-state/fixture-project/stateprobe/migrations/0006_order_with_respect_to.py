# Meta.order_with_respect_to: the migration state's fields never list `_order`, but every model
# Django renders from that state has it (an OrderWrt, added by Options._prepare after the declared
# fields), so its table has the column. Set in CreateModel's options and by AlterOrderWithRespectTo,
# kept last by a later AddField and RenameField, and taken away again with the option.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stateprobe", "0005_module_constants")]

    operations = [
        migrations.CreateModel(
            name="Chapter",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("volume", models.ForeignKey(on_delete=models.CASCADE, to="stateprobe.volume")),
            ],
            options={"order_with_respect_to": "volume"},
        ),
        migrations.AddField("chapter", "title", models.CharField(default="", max_length=50)),
        migrations.CreateModel(
            name="Verse",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("chapter", models.ForeignKey(on_delete=models.CASCADE, to="stateprobe.chapter")),
                ("text", models.TextField()),
            ],
        ),
        migrations.AlterOrderWithRespectTo("verse", "chapter"),
        migrations.RenameField("verse", "text", "body"),
        migrations.CreateModel(
            name="Footnote",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("verse", models.ForeignKey(on_delete=models.CASCADE, to="stateprobe.verse")),
            ],
            options={"order_with_respect_to": "verse"},
        ),
        migrations.AlterOrderWithRespectTo(name="footnote", order_with_respect_to=None),
    ]
