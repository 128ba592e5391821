# Lists built with expressions instead of literals, as some real apps write them (django-allauth's
# socialaccount 0001_initial): joined with `+`, chosen with a condition (true in the settings the
# state dump runs with, so Django sees the same fields as rollsafe, which keeps every branch), and
# extended with `+=` in the class body.
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stateprobe", "0003_more")] + ([("auth", "0001_initial")] if settings.USE_TZ else [])

    operations = [
        migrations.CreateModel(
            name="Badge",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("label", models.CharField(max_length=40)),
            ]
            + ([("owners", models.ManyToManyField(to="auth.User"))] if settings.USE_TZ else [])
            + [("rank", models.IntegerField(default=0))],
        ),
    ] + ([migrations.AddField("badge", "colour", models.CharField(max_length=7, default="#000000"))] if settings.USE_TZ else [])

    operations += [
        migrations.AlterField("badge", "label", models.CharField(max_length=80)),
        migrations.RemoveField("badge", "rank"),
    ]
