# Values named by module-level constants and read from settings with a default, as django-allauth
# and social-auth-app-django write them. None of these settings is set in the state dump's
# settings, so Django takes each default, as rollsafe does.
from django.conf import settings
from django.db import migrations, models

CODE_LENGTH = 12
UNIQUE_CODE = getattr(settings, "STATEPROBE_UNIQUE_CODE", True)
NOTE_LENGTH = getattr(settings, "STATEPROBE_NOTE_LENGTH", None) or 300
USER_MODEL = getattr(settings, "STATEPROBE_USER_MODEL", None) or getattr(settings, "AUTH_USER_MODEL", "auth.User")


class Migration(migrations.Migration):
    dependencies = [("stateprobe", "0004_computed_lists"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="Voucher",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("code", models.CharField(max_length=CODE_LENGTH, unique=UNIQUE_CODE)),
                ("note", models.CharField(max_length=NOTE_LENGTH, null=True)),
                ("owner", models.ForeignKey(on_delete=models.CASCADE, to=USER_MODEL)),
            ],
        ),
    ]
