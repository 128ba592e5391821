#!/usr/bin/python3
"""Run one fixture case on a real PostgreSQL and print what happened as one JSON line.

A case is a tiny Django project directory holding app packages with migrations. The migration
under test ("target") is every migration carrying an `# expect: <rule>` marker (bad cases) or the
leaf migration of every app (good cases). For the target, this script:

1. migrates a fresh database to the state just before the target with Django's executor;
2. renders the OLD code's models from the historical state, inserts a few rows through the ORM and
   runs the old code's queries (an INSERT and a SELECT of every model);
3. applies the target and records the locks it takes on pre-existing tables, whether it scanned
   them, and whether it rewrote them (changed `pg_class.relfilenode`);
4. re-runs the old code's queries and records which fail;
5. runs the NEW code's queries (models rendered from the state after the target).

Usage: /usr/bin/python3 verify/run_case.py --case DIR --kind bad|good --db NAME
           [--host 127.0.0.1] [--port 5432] [--user postgres]
       The password is read from the ROLLSAFE_PG_PASSWORD environment variable. The database is
       created fresh and dropped at the end.
"""

import argparse
import datetime
import decimal
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
STUBS = os.path.join(HERE, "stubs")

# pg_locks modes, weakest to strongest. SHARE and everything above it conflict with ROW EXCLUSIVE,
# the lock every INSERT/UPDATE/DELETE takes: those modes block the application's writes.
LOCK_MODES = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]
LOCK_RANK = {mode: rank for rank, mode in enumerate(LOCK_MODES)}
MARKER = re.compile(r"#[ \t]*expect:[ \t]*([A-Za-z0-9_, \t-]+)")
ROWS_PER_MODEL = 3
MIGRATION_TIMEOUT_S = 120


class CaseError(Exception):
    """A problem with the case or the harness itself (not an observation); reported as `error`."""


BOOKKEEPING = re.compile(r"django_migrations|pg_catalog\.")


def schema_statements(statements):
    """The migration's own SQL, without Django's introspection and migration bookkeeping."""
    return [sql for sql in statements if not BOOKKEEPING.search(sql)]


def strongest(modes):
    """The strongest of the given pg_locks modes, or None."""
    ranked = [m for m in modes if m in LOCK_RANK]
    return max(ranked, key=LOCK_RANK.get) if ranked else None


def one_line(error):
    """An exception as one short line: its class and first message line."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


# ---------------------------------------------------------------------------------------------
# The case on disk


def find_apps(project_dir):
    """App packages of the case: directories with `__init__.py` and `migrations/__init__.py`."""
    apps = []
    for name in sorted(os.listdir(project_dir)):
        path = os.path.join(project_dir, name)
        if (
            os.path.isfile(os.path.join(path, "__init__.py"))
            and os.path.isfile(os.path.join(path, "migrations", "__init__.py"))
        ):
            apps.append(name)
    if not apps:
        raise CaseError("no app package with migrations/__init__.py in the case directory")
    return apps


def read_markers(project_dir, packages):
    """`{(package, migration_name): [rule, ...]}` for migration files with `# expect:` markers."""
    found = {}
    for package in packages:
        migrations_dir = os.path.join(project_dir, package, "migrations")
        for filename in sorted(os.listdir(migrations_dir)):
            if not filename.endswith(".py") or filename == "__init__.py":
                continue
            with open(os.path.join(migrations_dir, filename), encoding="utf-8") as handle:
                rules = []
                for match in MARKER.finditer(handle.read()):
                    rules.extend(r for r in re.split(r"[ \t,]+", match.group(1)) if r)
            if rules:
                found[(package, filename[:-3])] = sorted(set(rules))
    return found


def extra_installed_apps(project_dir, packages):
    """Django contrib apps the case's migrations depend on (auth, contenttypes, postgres)."""
    text = ""
    for package in packages:
        migrations_dir = os.path.join(project_dir, package, "migrations")
        for filename in os.listdir(migrations_dir):
            if filename.endswith(".py"):
                with open(os.path.join(migrations_dir, filename), encoding="utf-8") as handle:
                    text += handle.read()
    extra = []
    if "AUTH_USER_MODEL" in text or re.search(r"""["']auth["']""", text):
        extra += ["django.contrib.contenttypes", "django.contrib.auth"]
    elif re.search(r"""["']contenttypes["']""", text):
        extra += ["django.contrib.contenttypes"]
    if "django.contrib.postgres" in text:
        extra.append("django.contrib.postgres")
    return extra


def copy_case(case_dir, packages):
    """Copies the case to a temporary project directory (fixtures are never written to)."""
    root = tempfile.mkdtemp(prefix="rollsafe-case-")
    project = os.path.join(root, "project")
    shutil.copytree(case_dir, project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for package in packages:
        models = os.path.join(project, package, "models.py")
        if not os.path.exists(models):
            with open(models, "w", encoding="utf-8") as handle:
                handle.write("")
    return root, project


# ---------------------------------------------------------------------------------------------
# Database


def create_database(args, password):
    import psycopg2

    conn = psycopg2.connect(
        host=args.host, port=args.port, user=args.user, password=password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
        cursor.execute(f'CREATE DATABASE "{args.db}" TEMPLATE template0')
    conn.close()


def drop_database(args, password):
    import psycopg2

    conn = psycopg2.connect(
        host=args.host, port=args.port, user=args.user, password=password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    conn.close()


def raw_connection(args, password, autocommit):
    import psycopg2

    conn = psycopg2.connect(
        host=args.host, port=args.port, user=args.user, password=password, dbname=args.db
    )
    conn.autocommit = autocommit
    return conn


def user_tables(cursor):
    """`{table: (oid, relfilenode)}` of ordinary and partitioned tables outside system schemas."""
    cursor.execute(
        """
        SELECT c.relname, c.oid, c.relfilenode
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%%'
          AND c.relname <> 'django_migrations'
        """
    )
    return {name: (oid, filenode) for name, oid, filenode in cursor.fetchall()}


# ---------------------------------------------------------------------------------------------
# Rows for a historical model


class RowFactory:
    """Inserts plausible rows into the models of one rendered state, through the ORM."""

    def __init__(self, models_by_label):
        self.models = models_by_label
        self.field_counters = {}

    # One numbering for the whole case, shared by the old and the new code's factories, so that
    # a value of a column with a unique index never repeats (rows of both releases coexist).
    numbers = iter(range(1001, 10**9))

    def next(self):
        return next(RowFactory.numbers)

    def per_field(self, field):
        """1, 2, 3... for each column separately (tables keep their own numbering)."""
        key = (field.model._meta.db_table, field.column)
        self.field_counters[key] = self.field_counters.get(key, 0) + 1
        return self.field_counters[key]

    def create(self, model, depth=0, fill_nullable=False, overrides=None):
        """Inserts one row and returns the instance; creates FK targets first.

        An application's INSERT leaves NULL-able fields it has no value for as NULL; rows that
        stand for existing data (`fill_nullable`) get a value in every column, so that a
        migration which only succeeds on non-NULL data can be observed doing its work.
        """
        if depth > 6:
            raise CaseError(
                f"cannot build a row for {model._meta.label}: its NOT NULL foreign keys form a cycle"
            )
        values = {}
        for field in model._meta.concrete_fields:
            if self.skip(field, fill_nullable):
                continue
            if field.is_relation:
                target = field.remote_field.model
                # A NULL-able key to its own table (a parent, a previous row) stays NULL: filling
                # it would need a row of the same model first, and that one another.
                if field.null and target is model:
                    continue
                row = self.create(target, depth + 1, fill_nullable)
                values[field.attname] = getattr(row, field.target_field.attname)
            else:
                values[field.attname] = self.value(field)
        values.update(overrides or {})
        return model.objects.create(**values)

    @staticmethod
    def skip(field, fill_nullable):
        """Fields the old code would leave to Django: auto keys, defaults, NULL-able columns."""
        from django.db import models

        if isinstance(field, models.AutoField) or getattr(field, "db_returning", False):
            return True
        if field.remote_field is not None and getattr(field.remote_field, "parent_link", False):
            return True
        if field.has_default():
            return True
        return field.null and not fill_nullable

    def value(self, field):
        """A value valid for the column: respects max_length, decimal digits and choices."""
        from django.db import models

        n = self.next()
        if field.choices:
            for value, _label in field.flatchoices:
                if value not in (None, ""):
                    return value
        if isinstance(field, models.UUIDField):
            return uuid.uuid4()
        if isinstance(field, models.EmailField):
            return self.fit(f"u{n}@example.com", field)
        if isinstance(field, models.URLField):
            return self.fit(f"https://example.com/{n}", field)
        if isinstance(field, models.GenericIPAddressField):
            return f"192.0.2.{n % 250 + 1}"
        if isinstance(field, (models.FileField, models.FilePathField)):
            return self.fit(f"f{n}.txt", field)
        if isinstance(field, (models.CharField, models.TextField)):
            return self.fit(f"v{n}", field)
        if isinstance(field, models.BooleanField):
            return True
        if isinstance(field, models.DecimalField):
            integer_digits = (field.max_digits or 10) - (field.decimal_places or 0)
            if integer_digits >= 1:
                return decimal.Decimal(1 + (self.per_field(field) - 1) % 5)
            return decimal.Decimal(1).scaleb(-(field.decimal_places or 1))
        if isinstance(field, models.FloatField):
            return n + 0.5
        if isinstance(field, (models.IntegerField, models.SmallIntegerField, models.BigIntegerField)):
            # Small positive numbers satisfy the usual CHECK constraints (`> 0`, `<= 5`); unique
            # columns take the run-wide counter, which no other row (old or new code) reuses.
            if field.unique or field.primary_key:
                return n % 30000
            return 1 + (self.per_field(field) - 1) % 5
        if isinstance(field, models.DateTimeField):
            return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
                minutes=n
            )
        if isinstance(field, models.DateField):
            return datetime.date(2024, 1, 1) + datetime.timedelta(days=n % 3000)
        if isinstance(field, models.TimeField):
            return datetime.time(12, n % 60)
        if isinstance(field, models.DurationField):
            return datetime.timedelta(seconds=n)
        if isinstance(field, models.BinaryField):
            return b"\x00\x01"
        if isinstance(field, models.JSONField):
            return {"n": n}
        internal = field.get_internal_type()
        if internal == "ArrayField":
            return [self.value(field.base_field)]
        if internal == "HStoreField":
            return {"k": str(n)}
        raise CaseError(
            f"no value generator for {type(field).__name__} `{field.model._meta.label}.{field.name}`"
        )

    @staticmethod
    def fit(text, field):
        limit = getattr(field, "max_length", None)
        return text[-limit:] if limit else text


def app_models(state_apps, labels):
    """Models of the case's apps that Django manages; auto-created M2M tables last, so that a
    failure is reported on the model the application names rather than on a through table."""
    models = [
        model
        for model in state_apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels and model._meta.managed and not model._meta.proxy
    ]
    return sorted(models, key=lambda model: bool(model._meta.auto_created))


def deploy_stage(migration):
    """`post` when the migration carries a post-deploy marker (safemigrate, syzygy, Sentry)."""
    safe = getattr(migration, "safe", None)
    stage = getattr(migration, "stage", None)
    if str(safe) == "after_deploy" or getattr(stage, "name", None) == "POST_DEPLOY":
        return "post"
    if getattr(migration, "is_post_deployment", False) is True:
        return "post"
    return "pre"


def widest_value(field):
    """The largest value the field itself accepts (its validators: max_length, the integer
    range, max_digits), or None for fields without such a bound."""
    from django.db import connection, models

    if field.is_relation or field.primary_key or field.choices:
        return None
    if isinstance(field, models.CharField):
        return "w" * (field.max_length or 1000)
    if isinstance(field, models.TextField):
        return "w" * 1000
    if isinstance(field, (models.IntegerField, models.SmallIntegerField, models.BigIntegerField)):
        return connection.ops.integer_field_range(field.get_internal_type())[1]
    if isinstance(field, models.DecimalField) and field.max_digits and field.decimal_places is not None:
        return decimal.Decimal("9" * (field.max_digits - field.decimal_places) or "0")
    return None


def drifted_fields(model):
    """`(field, widest value)` for each field whose type in the model differs from its column's
    type in the database (a state-only change): the application writes values the field allows,
    which the column may refuse. Columns the table lacks are left to the ordinary INSERT."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        columns = dict(cursor.fetchall())

    def spelled(db_type):
        return re.sub(r"\s+", "", (db_type or "").lower().replace("character varying", "varchar"))

    drifted = [
        field
        for field in model._meta.concrete_fields
        if field.column in columns and spelled(field.db_type(connection)) != spelled(columns[field.column])
    ]
    return [(field, value) for field in drifted if (value := widest_value(field)) is not None]


def run_queries(models, factory, label, probe_drift=False):
    """The application's queries per model: INSERT one row, SELECT all. Never raises.

    With `probe_drift`, a field whose column has another type than the field's (see
    `drifted_fields`) also gets an INSERT with the widest value the field accepts.
    """
    from django.db import transaction

    results = []
    for model in models:
        # (query, the values an INSERT sets itself); a SELECT has none.
        queries = [("insert", {}), ("select", None)]
        if probe_drift:
            queries += [(f"insert widest {field.name}", {field.attname: value}) for field, value in drifted_fields(model)]
        for query, overrides in queries:
            entry = {"model": model._meta.label, "query": query, "ok": True}
            try:
                with transaction.atomic():
                    if overrides is None:
                        list(model.objects.all())
                    else:
                        factory.create(model, overrides=overrides)
            except CaseError:
                raise
            except Exception as error:  # the observation: this query fails on this schema
                entry["ok"] = False
                entry["error"] = one_line(error)
            results.append(entry)
    return {"code": label, "ok": all(r["ok"] for r in results), "queries": results}


# ---------------------------------------------------------------------------------------------
# Watching the target migration


def watch_atomic(connection, executor, plan, state, tables):
    """Applies an atomic target inside an outer transaction and inspects it before commit.

    Locks are held until the transaction ends, so `pg_locks` of our own backend shows every lock
    the migration took; `pg_stat_xact_user_tables` shows which tables it scanned.
    """
    from django.db import transaction

    oids = [oid for oid, _ in tables.values()]
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(" ".join(str(sql).split())[:300])
        return execute(sql, params, many, context)

    with transaction.atomic():
        with connection.execute_wrapper(record):
            executor.migrate(None, plan=plan, state=state)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                WHERE l.locktype = 'relation' AND l.granted AND l.pid = pg_backend_pid()
                  AND l.relation = ANY(%s)
                """,
                [oids],
            )
            locks = {}
            for table, mode in cursor.fetchall():
                locks[table] = strongest([mode, locks.get(table)])
            cursor.execute(
                """
                SELECT c.relname, s.seq_scan, COALESCE(s.idx_scan, 0)
                FROM pg_stat_xact_user_tables s JOIN pg_class c ON c.oid = s.relid
                WHERE s.relid = ANY(%s)
                """,
                [oids],
            )
            scanned = sorted(t for t, seq, idx in cursor.fetchall() if seq + idx > 0)
            after = user_tables(cursor)
    return locks, scanned, after, statements, "outer transaction"


class Gate:
    """Pauses the migration thread before each statement until the observer has armed."""

    def __init__(self):
        self.cond = threading.Condition()
        self.pending = None  # the statement waiting to run
        self.armed = False
        self.running = False
        self.finished = False
        self.statements = []

    def wrapper(self, execute, sql, params, many, context):
        text = " ".join(str(sql).split())[:300]
        with self.cond:
            self.pending = text
            self.cond.notify_all()
            while not self.armed:
                self.cond.wait()
            self.armed = False
            self.pending = None
            self.running = True
            self.statements.append(text)
        try:
            return execute(sql, params, many, context)
        finally:
            try:
                # Make this backend publish its table statistics as soon as it is idle, so the
                # observer can attribute scans to this one statement (PostgreSQL 15+).
                # A separate raw cursor: the statement's own cursor still holds its result set.
                with context["connection"].connection.cursor() as flush:
                    flush.execute("SELECT pg_stat_force_next_flush()")
            except Exception:
                pass
            with self.cond:
                self.running = False
                self.cond.notify_all()


def watch_nonatomic(args, password, plan, state, tables):
    """Applies a non-atomic target (e.g. CREATE INDEX CONCURRENTLY) in a thread and watches it.

    Such a migration commits after each statement, so its locks are gone by the time it ends.
    Instead, before each statement an observer takes ROW EXCLUSIVE (what an application's INSERT
    takes) on every pre-existing table, one connection per table, with NOWAIT so the observer
    itself never waits. A statement that needs SHARE or stronger on a table then queues behind
    that lock, and `pg_locks` shows the mode it asked for; a concurrent index build queues behind
    the observer's transaction and shows what it holds. The observer then releases the table
    (or all of them) and the statement proceeds. Weaker locks that never conflict with ROW
    EXCLUSIVE are seen only if a poll catches them.
    """
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    oids = {oid: table for table, (oid, _) in tables.items()}
    gate = Gate()
    outcome = {"error": None, "pid": None}

    def migrate():
        connection = connections["default"]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            with connection.execute_wrapper(gate.wrapper):
                MigrationExecutor(connection).migrate(None, plan=plan, state=state)
            with connection.cursor() as cursor:
                # Flushes this backend's table statistics before the observer reads them.
                cursor.execute("SELECT pg_stat_force_next_flush()")
        except Exception as error:
            outcome["error"] = error
        finally:
            connection.close()
            with gate.cond:
                gate.finished = True
                gate.cond.notify_all()

    poll = raw_connection(args, password, autocommit=True)
    arms = {table: raw_connection(args, password, autocommit=False) for table in tables}
    scans_before = table_scans(poll, oids)
    locks = {}
    # Each statement of a non-atomic migration commits on its own, so a scan only blocks writers
    # if the same statement held SHARE or stronger on that table: attribute both per statement.
    statement_locks = {}
    scans_seen = dict(scans_before)
    blocking_scans = set()

    def release(tables_to_release):
        for table in tables_to_release:
            arms[table].rollback()

    def observe(pid):
        with poll.cursor() as cursor:
            cursor.execute(
                "SELECT locktype, relation, mode, granted FROM pg_locks WHERE pid = %s", [pid]
            )
            rows = cursor.fetchall()
        waiting = False
        for locktype, relation, mode, granted in rows:
            table = oids.get(relation) if locktype == "relation" else None
            if table is not None:
                locks[table] = strongest([mode, locks.get(table)])
                statement_locks[table] = strongest([mode, statement_locks.get(table)])
                if not granted:
                    release([table])
                    waiting = True
            elif not granted:
                # Waiting on our transactions (a concurrent index build waits for older
                # transactions) or on an index of a table: let everything go.
                release(arms)
                waiting = True
        return waiting

    thread = threading.Thread(target=migrate, daemon=True)
    started = time.monotonic()
    thread.start()
    try:
        while True:
            with gate.cond:
                while gate.pending is None and not gate.finished:
                    gate.cond.wait(0.5)
                    if time.monotonic() - started > MIGRATION_TIMEOUT_S:
                        raise CaseError("the target migration did not finish in time")
                if gate.finished:
                    break
            if outcome["pid"] is not None:
                observe(outcome["pid"])  # locks held across statements (explicit transactions)
            for table, conn in arms.items():
                with conn.cursor() as cursor:
                    try:
                        cursor.execute(f'LOCK TABLE "{table}" IN ROW EXCLUSIVE MODE NOWAIT')
                    except Exception:
                        conn.rollback()  # the migration already holds a conflicting lock
            with gate.cond:
                gate.armed = True
                gate.cond.notify_all()
                # Wait for the thread to take the statement.
                while gate.armed and not gate.finished:
                    gate.cond.wait(0.05)
            while True:
                with gate.cond:
                    if not gate.running:
                        break
                observe(outcome["pid"])
                if time.monotonic() - started > MIGRATION_TIMEOUT_S:
                    with poll.cursor() as cursor:
                        cursor.execute("SELECT pg_cancel_backend(%s)", [outcome["pid"]])
                    raise CaseError("the target migration did not finish in time")
                time.sleep(0.002)
            release(arms)
            time.sleep(0.05)  # the backend flushes its statistics once idle
            scans_now = table_scans(poll, oids)
            for table, count in scans_now.items():
                if count > scans_seen.get(table, 0) and LOCK_RANK.get(statement_locks.get(table), -1) >= LOCK_RANK["ShareLock"]:
                    blocking_scans.add(table)
            scans_seen = scans_now
            statement_locks = {}
        thread.join(MIGRATION_TIMEOUT_S)
    finally:
        release(arms)
        with gate.cond:
            gate.armed = True  # never leave the thread waiting
            gate.cond.notify_all()
    if outcome["error"] is not None:
        raise outcome["error"]
    scans_after = table_scans(poll, oids)
    if any(scans_after[t] > scans_seen.get(t, 0) for t in scans_after):
        # Scans the per-statement reads missed (late statistics): attribute them to the migration.
        blocking_scans.update(t for t in scans_after if scans_after[t] > scans_before.get(t, 0) and LOCK_RANK.get(locks.get(t), -1) >= LOCK_RANK["ShareLock"])
    scanned = sorted(blocking_scans)
    with poll.cursor() as cursor:
        after = user_tables(cursor)
    poll.close()
    for conn in arms.values():
        conn.close()
    return locks, scanned, after, gate.statements, "observer connections"


def table_scans(conn, oids):
    """Cumulative sequential + index scans per table, from the shared statistics."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relid, seq_scan + COALESCE(idx_scan, 0) FROM pg_stat_user_tables WHERE relid = ANY(%s)",
            [list(oids)],
        )
        return {oids[relid]: count for relid, count in cursor.fetchall()}


# ---------------------------------------------------------------------------------------------
# The case


def plan_targets(loader, executor, packages, labels_by_package, markers, kind):
    """The target migrations, the migrations applied before them, and those applied with them."""
    graph = loader.graph
    labels = set(labels_by_package.values())
    if kind == "bad":
        if not markers:
            raise CaseError("bad case without any `# expect:` marker")
        targets = [(labels_by_package[package], name) for package, name in markers]
    else:
        targets = [node for node in graph.leaf_nodes() if node[0] in labels]
    for target in targets:
        if target not in graph.nodes:
            raise CaseError(f"migration {target[0]}.{target[1]} is not in Django's migration graph")
    full_plan = [
        (migration.app_label, migration.name)
        for migration, _ in executor.migration_plan(graph.leaf_nodes(), clean_start=True)
    ]
    after_targets = set()
    for target in targets:
        after_targets.update(graph.backwards_plan(target))
    needed = set()
    for target in targets:
        needed.update(graph.forwards_plan(target))
    before = [node for node in full_plan if node not in after_targets]
    window = [node for node in full_plan if node in after_targets and node in needed]
    return targets, before, window


def run(args, password):
    case_dir = os.path.abspath(args.case)
    if not os.path.isdir(case_dir):
        raise CaseError(f"case directory not found: {case_dir}")
    packages = find_apps(case_dir)
    markers = read_markers(case_dir, packages)
    root, project = copy_case(case_dir, packages)
    try:
        return observe_case(args, password, project, packages, markers)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def observe_case(args, password, project, packages, markers):
    sys.path.insert(0, project)
    sys.path.insert(1, STUBS)
    sys.dont_write_bytecode = True

    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="rollsafe-verify",
        USE_TZ=True,
        INSTALLED_APPS=extra_installed_apps(project, packages) + packages,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": args.db,
                "HOST": args.host,
                "PORT": str(args.port),
                "USER": args.user,
                "PASSWORD": password,
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    try:
        django.setup()
    except Exception as error:
        raise CaseError(f"Django could not load the case's apps: {one_line(error)}")

    from django.apps import apps
    from django.db import connection, transaction
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.state import ProjectState

    labels_by_package = {}
    for package in packages:
        config = next((c for c in apps.get_app_configs() if c.name == package), None)
        if config is None:
            raise CaseError(f"app package {package} is not a Django app")
        labels_by_package[package] = config.label
    labels = set(labels_by_package.values())

    try:
        executor = MigrationExecutor(connection)
    except Exception as error:
        raise CaseError(f"Django could not load the migrations: {one_line(error)}")
    loader = executor.loader
    targets, before, window = plan_targets(
        loader, executor, packages, labels_by_package, markers, args.kind
    )
    nodes = loader.graph.nodes

    result = {
        "django": django.get_version(),
        "postgres": connection.pg_version,
        "targets": [f"{app}.{name}" for app, name in targets],
        "expect": sorted({rule for rules in markers.values() for rule in rules}),
        "applied_before": [f"{app}.{name}" for app, name in before],
        "window": [f"{app}.{name}" for app, name in window],
        "atomic": all(nodes[node].atomic for node in window),
    }

    # 1. The state just before the target, built by Django's own executor.
    if before:
        try:
            executor.migrate(None, plan=[(nodes[node], False) for node in before])
        except Exception as error:
            raise CaseError(f"migrating to the state before the target failed: {one_line(error)}")
    def state_after(applied):
        """A fresh ProjectState after the given migrations (Django mutates states in place)."""
        if not applied:
            return ProjectState(real_apps=loader.unmigrated_apps)
        return loader.project_state(applied)

    old_state = state_after(before)
    new_state = state_after(before + window)
    try:
        old_models = app_models(old_state.apps, labels)
    except Exception as error:
        raise CaseError(f"the models before the target cannot be rendered: {one_line(error)}")
    try:
        new_models = app_models(new_state.apps, labels)
        new_render_error = None
    except Exception as error:
        # Django itself would refuse to start the new release with these models.
        new_models = None
        new_render_error = {
            "code": "new",
            "ok": False,
            "queries": [
                {"model": "(all)", "query": "render", "ok": False, "error": one_line(error)}
            ],
        }
    result["old_models"] = [m._meta.label for m in old_models]
    result["new_models"] = [m._meta.label for m in new_models or []]
    # A post-deploy migration runs once the new release serves all traffic: the code live while
    # it runs is the NEW code, on the old schema first, and the old release is already gone.
    result["stage"] = "post" if any(deploy_stage(nodes[node]) == "post" for node in window) else "pre"

    # 2. Rows, and the old code's queries while the old schema is live.
    old_factory = RowFactory(old_state.apps)
    for model in old_models:
        for _ in range(0 if args.no_rows else ROWS_PER_MODEL):
            try:
                old_factory.create(model, fill_nullable=True)
            except CaseError:
                raise
            except Exception as error:
                raise CaseError(f"inserting rows into {model._meta.label} failed: {one_line(error)}")
    result["rows"] = 0 if args.no_rows else ROWS_PER_MODEL
    with transaction.atomic():
        result["old_before"] = run_queries(old_models, old_factory, "old")
        # The probe rows stand for the application's writes, not for existing data (their NULLs
        # would make e.g. SET NOT NULL fail): they are rolled back.
        transaction.set_rollback(True)
    if not result["old_before"]["ok"]:
        raise CaseError("the old code's queries fail even before the target migration")
    if result["stage"] == "post":
        with transaction.atomic():
            result["new_before"] = new_render_error or run_queries(
                new_models, RowFactory(new_state.apps), "new", probe_drift=True
            )
            transaction.set_rollback(True)

    # 3. The target migration, watched.
    with connection.cursor() as cursor:
        tables = user_tables(cursor)
        # Flush this backend's statistics so the seeding is not counted as the migration's scans.
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT 1")
    plan = [(nodes[node], False) for node in window]
    try:
        if result["atomic"]:
            locks, scanned, after, statements, method = watch_atomic(
                connection, executor, plan, state_after(before), tables
            )
        else:
            locks, scanned, after, statements, method = watch_nonatomic(
                args, password, plan, state_after(before), tables
            )
    except CaseError:
        raise
    except Exception as error:
        result["migration_error"] = one_line(error)
        return result
    result["lock_method"] = method
    result["statements"] = schema_statements(statements)
    result["pre_existing_tables"] = sorted(tables)
    result["locks"] = locks
    result["strongest_lock"] = strongest(locks.values())
    result["scanned"] = scanned
    result["rewritten"] = sorted(
        table for table, (oid, filenode) in tables.items()
        if table in after and after[table] != (oid, filenode)
    )
    result["dropped"] = sorted(table for table in tables if table not in after)

    # 4. The old code again, now on the new schema (unless the old release is already retired).
    if result["stage"] == "pre":
        result["old_after"] = run_queries(old_models, old_factory, "old")
    # 5. The new code.
    result["new_after"] = new_render_error or run_queries(
        new_models, RowFactory(new_state.apps), "new", probe_drift=True
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", required=True)
    parser.add_argument("--kind", required=True, choices=["bad", "good"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument(
        "--no-rows", action="store_true", help="leave the tables empty (for migrations that fail on rows)"
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks to stderr")
    args = parser.parse_args()
    password = os.environ.get("ROLLSAFE_PG_PASSWORD", "")

    output = {"case": args.case, "kind": args.kind}
    status = 0
    try:
        create_database(args, password)
    except Exception as error:
        output["error"] = f"cannot create database {args.db}: {one_line(error)}"
        print(json.dumps(output))
        return 2
    try:
        output.update(run(args, password))
    except CaseError as error:
        output["error"] = str(error)
        status = 2
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        output["error"] = f"internal error: {one_line(error)}"
        status = 2
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        try:
            drop_database(args, password)
        except Exception as error:
            output.setdefault("warnings", []).append(f"could not drop {args.db}: {one_line(error)}")
    print(json.dumps(output, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
