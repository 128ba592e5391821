"""Minimal Django settings for dump_django_state.py: enough to load migrations, never a database.

INSTALLED_APPS comes from the ROLLSAFE_STATE_APPS environment variable (comma-separated dotted
module paths), which dump_django_state.py sets from its command line.

The default database uses the PostgreSQL backend on purpose. Django truncates generated table
names (`app_model`, and the `app_model_field` of auto-created many-to-many tables) to the
backend's `connection.ops.max_name_length()`: 63 on PostgreSQL, where SQLite has no limit.
rollsafe models PostgreSQL, so the Django side must truncate the same way. Only `connection.ops`
is consulted, which needs psycopg2 importable but never opens a connection: MigrationLoader is
created with `connection=None`, so it does not read the django_migrations table either.
"""

import os

INSTALLED_APPS = [app for app in os.environ.get("ROLLSAFE_STATE_APPS", "").split(",") if app]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        # Never connected to: nothing here runs a query.
        "NAME": "rollsafe_state_never_connects",
        "HOST": "unreachable.invalid",
    }
}

SECRET_KEY = "rollsafe-state-dump-not-secret"
USE_TZ = True
# Only affects models without an explicit primary key; every migration writes its `id` field out.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Some apps read these at import or ready() time; they play no part in the schema.
SITE_ID = 1
ROOT_URLCONF = __name__
urlpatterns = []
RQ_QUEUES = {"default": {"HOST": "unreachable.invalid", "PORT": 6379, "DB": 0}}  # django-rq
HOOK_EVENTS = {}  # django-rest-hooks
CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"  # django-constance
