#!/usr/bin/python3
"""Dump the schema state Django itself reconstructs from the given apps' migrations, as JSON.

    /usr/bin/python3 test/django-state/dump_django_state.py \\
        [--site-packages DIR]... APP_MODULE...

APP_MODULE is a dotted app module as it would appear in INSTALLED_APPS (`django.contrib.auth`).
Each --site-packages directory is put in front of sys.path, in the order given, so the extracted
Debian corpus is loaded instead of (or next to) what is installed.

The state is Django's own: `MigrationLoader(None, ignore_no_migrations=True).project_state()`,
rendered with `state.apps` so that auto-created many-to-many tables and truncated table names
are exactly what Django computes (with PostgreSQL's 63-character limit, see settings_for_state.py).
No database is opened. The JSON shape is the one `rollsafe state --format json` prints:

    {"version": 1,
     "apps": ["admin", "auth", ...],                  # labels whose state is included
     "skipped": [{"app": "...", "reason": "..."}],    # requested apps that could not be loaded
     "tables": [{"app", "model", "table", "managed", "proxy", "autoCreated",
                 "columns": [{"name", "field", "type", "null", "unique", "dbIndex",
                              "primaryKey", "hasDefault", "hasDbDefault"}],
                 "indexes": [...], "constraints": [...]}]}

Field meanings (they are Django's attributes of the rendered field, not re-derived):
- name: `field.column` (the attname, `author_id` for a ForeignKey, unless `db_column`);
- type: the field class name, e.g. `ForeignKey`, `CharField`, `TimeZoneField`;
- unique: `field.unique`, which Django makes true for primary keys and OneToOneFields;
- dbIndex: `field.db_index` as passed, which ForeignKey defaults to true;
- hasDefault: `field.has_default()`; hasDbDefault: `db_default` given (Django 5.0+; false on 4.2).

Exit status: 0 with the JSON on stdout, 2 with one line on stderr when the dump is impossible.
"""

import argparse
import importlib
import json
import os
import sys

# Never leave __pycache__ directories in the fixture project, the corpus or this directory.
sys.dont_write_bytecode = True


def fail(message):
    sys.stderr.write("dump_django_state: %s\n" % message)
    sys.exit(2)


def one_line(error):
    text = str(error).strip().splitlines()
    return "%s: %s" % (type(error).__name__, text[0] if text else "")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-packages", action="append", default=[], metavar="DIR")
    parser.add_argument("apps", nargs="+", metavar="APP_MODULE")
    return parser.parse_args(argv)


def failing_app(error):
    """
    The app whose setup raised `error`, read from the traceback: the AppConfig whose
    `import_models()` or `ready()` was running inside `Apps.populate()`, or the INSTALLED_APPS
    entry it was creating. None when the failure is not tied to one app.
    """
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for index, frame in enumerate(frames):
        if frame.f_code.co_name != "populate" or not frame.f_code.co_filename.endswith("registry.py"):
            continue
        inner = frames[index + 1] if index + 1 < len(frames) else None
        if inner is not None and inner.f_code.co_name in ("import_models", "ready"):
            config = inner.f_locals.get("self")
            if config is not None and hasattr(config, "name"):
                return config.name
        entry = frame.f_locals.get("entry")
        if isinstance(entry, str):
            return entry
    return None


def restart_without(module, reason, skipped):
    """
    Run this script again without `module`: a failed `Apps.populate()` leaves the registry
    half-built and it cannot be populated twice in one process.
    """
    skipped = skipped + [{"app": module, "reason": reason}]
    env = dict(os.environ, ROLLSAFE_STATE_SKIPPED=json.dumps(skipped))
    argv = [sys.executable, os.path.abspath(__file__)] + [
        arg for arg in sys.argv[1:] if arg != module
    ]
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


def django_3_2_names():
    """
    Put back names Django 4.0 removed, as Django 3.2 defined them: Debian bookworm ships Django
    3.2, and django-uwsgi-ng there still imports them (`python_2_unicode_compatible` returned the
    class unchanged on Python 3; the `u` translation functions were aliases). They play no part
    in the schema.
    """
    from django.utils import encoding, translation

    if not hasattr(encoding, "python_2_unicode_compatible"):
        encoding.python_2_unicode_compatible = lambda klass: klass

    for old, new in (("ugettext", "gettext"), ("ugettext_lazy", "gettext_lazy"), ("ugettext_noop", "gettext_noop"), ("ungettext", "ngettext"), ("ungettext_lazy", "ngettext_lazy")):
        if not hasattr(translation, old):
            setattr(translation, old, getattr(translation, new))


def importable_apps(modules, skipped):
    """The app modules that import; the others are reported as skipped."""
    ok = []
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as error:  # any import-time failure of third-party code
            skipped.append({"app": module, "reason": "import failed: " + one_line(error)})
        else:
            ok.append(module)
    return ok


def load_migrations(modules, skipped):
    """
    Build Django's MigrationLoader over `modules`, dropping apps whose migrations depend on apps
    or migrations that are not available (and, transitively, the apps depending on those).
    """
    from django.apps import apps
    from django.db.migrations.exceptions import NodeNotFoundError
    from django.db.migrations.loader import MigrationLoader

    modules = list(modules)
    while True:
        loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
        loader.load_disk()
        labels = {config.label: config.name for config in apps.get_app_configs()}
        drop = {}
        for (app_label, name), migration in sorted(loader.disk_migrations.items()):
            for dep in list(migration.dependencies) + list(getattr(migration, "run_before", [])):
                if dep[0] not in labels and app_label not in drop:
                    drop[app_label] = "migration %s.%s depends on app %r, which is not installed" % (
                        app_label,
                        name,
                        dep[0],
                    )
        if not drop:
            try:
                loader.build_graph()
                return loader
            except NodeNotFoundError as error:
                origin = error.origin[0] if error.origin else error.node[0]
                drop[origin] = "missing migration: " + one_line(error)
        for app_label, reason in sorted(drop.items()):
            module = labels.get(app_label, app_label)
            skipped.append({"app": module, "reason": reason})
            if module in modules:
                modules.remove(module)
        # Re-populate the app registry without the dropped apps, then load again.
        apps.set_installed_apps(modules)


def column_of(field):
    from django.db.models import NOT_PROVIDED

    return {
        "name": field.column,
        "field": field.name,
        "type": type(field).__name__,
        "null": bool(field.null),
        "unique": bool(field.unique),
        "dbIndex": bool(field.db_index),
        "primaryKey": bool(field.primary_key),
        "hasDefault": bool(field.has_default()),
        "hasDbDefault": getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED,
    }


def table_of(model):
    meta = model._meta
    columns = []
    if not meta.proxy:
        # local_concrete_fields: the fields with a column in this model's own table (a child of
        # multi-table inheritance keeps its parent's columns in the parent's table), in the order
        # of the migration state, which is the order the fields are declared in.
        columns = [column_of(field) for field in meta.local_concrete_fields]
    return {
        "app": meta.app_label,
        "model": meta.model_name,
        "table": meta.db_table,
        "managed": bool(meta.managed),
        "proxy": bool(meta.proxy),
        "autoCreated": bool(meta.auto_created),
        "columns": columns,
        "indexes": sorted(index.name for index in meta.indexes),
        "constraints": sorted(constraint.name for constraint in meta.constraints),
    }


def main(argv):
    args = parse_args(argv)
    for directory in reversed(args.site_packages):
        if not os.path.isdir(directory):
            fail("not a directory: %s" % directory)
        sys.path.insert(0, os.path.abspath(directory))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    try:
        import django
    except ImportError:
        fail("Django is not importable by %s: run scripts/install-django.sh" % sys.executable)

    # Apps dropped by an earlier run of this script (see restart_without).
    skipped = json.loads(os.environ.get("ROLLSAFE_STATE_SKIPPED", "[]"))
    already_skipped = {entry["app"] for entry in skipped}
    requested = [app for app in args.apps if app not in already_skipped]
    # Some apps read settings when imported (constance): the settings must be there first, and
    # then list only the apps that import.
    os.environ["ROLLSAFE_STATE_APPS"] = ",".join(requested)
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings_for_state"
    django_3_2_names()
    modules = importable_apps(requested, skipped)
    from django.conf import settings

    settings.INSTALLED_APPS = modules
    try:
        django.setup()
    except Exception as error:
        culprit = failing_app(error)
        if culprit not in modules:
            fail("django.setup() failed: " + one_line(error))
        restart_without(culprit, "setup failed: " + one_line(error), skipped)

    from django.db import connection

    if connection.vendor != "postgresql" or connection.ops.max_name_length() != 63:
        fail("expected the PostgreSQL backend with 63-character names, got %s" % connection.vendor)

    try:
        loader = load_migrations(modules, skipped)
        state = loader.project_state()
        rendered = state.apps
    except Exception as error:
        fail("loading migrations failed: " + one_line(error))

    tables = [table_of(model) for model in rendered.get_models(include_auto_created=True)]
    tables.sort(key=lambda table: (table["table"], table["app"], table["model"]))
    from django.apps import apps

    document = {
        "version": 1,
        "django": django.get_version(),
        "apps": sorted(config.label for config in apps.get_app_configs()),
        "skipped": sorted(skipped, key=lambda entry: entry["app"]),
        "tables": tables,
    }
    json.dump(document, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
