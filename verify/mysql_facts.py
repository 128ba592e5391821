#!/usr/bin/python3
"""Check the MySQL facts rollsafe's findings rely on against a real server, with Django.

Not part of CI (which verifies on PostgreSQL and SQLite): run it by hand when a rule's MySQL text
changes. Debian ships MariaDB, not MySQL; the session runs with MySQL 8's default sql_mode.

    apt-get install mariadb-server python3-mysqldb   # Debian's python3-django as for verify/
    mysqld_safe --user=mysql &
    /usr/bin/python3 verify/mysql_facts.py [--socket /run/mysqld/mysqld.sock]

Prints one line per fact and exits 1 when one does not hold. Each fact names the rule that
relies on it. Databases called rollsafe_facts_* are created and dropped.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

MYSQL8_SQL_MODE = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

INITIAL = '''import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Author", fields=[("id", models.BigAutoField(primary_key=True)), ("name", models.CharField(max_length=100))]),
        migrations.CreateModel(name="Book", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("title", models.CharField(max_length=200)),
            ("pages", models.IntegerField()),
            ("price", models.DecimalField(max_digits=6, decimal_places=2)),
            ("flag", models.BooleanField()),
            ("uid", models.UUIDField()),
            ("at", models.TimeField()),
            ("published", models.DateTimeField()),
            ("day", models.DateField()),
            ("code", models.CharField(max_length=10, unique=True)),
            ("author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author")),
            ("loose", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author", db_constraint=False, related_name="+")),
        ]),
    ]
'''

# One Django run against the server: migrate, insert two books, run the case's steps.
RUNNER = r'''
import json, sys, django
from django.conf import settings
project, database, socket, sql_mode, step = sys.argv[1:6]
sys.path.insert(0, project)
settings.configure(
    INSTALLED_APPS=["django.contrib.postgres", "library"],
    USE_TZ=True,
    DATABASES={"default": {"ENGINE": "django.db.backends.mysql", "NAME": database, "USER": "root",
                           "OPTIONS": {"unix_socket": socket, "init_command": f"SET sql_mode='{sql_mode}'"}}},
)
django.setup()
from django.core.management import call_command
from django.db import connection
try:
    call_command("migrate", "library", "0001", verbosity=0)
    with connection.cursor() as c:
        c.execute("INSERT INTO library_author (name) VALUES ('a')")
        for i in range(2):
            c.execute("INSERT INTO library_book (title,pages,price,flag,uid,at,published,day,code,author_id,loose_id) "
                      "VALUES (%s,1,1,1,%s,'10:00','2020-01-01','2020-01-01',%s,1,1)", [f"t{i}", f"{i:032d}", f"c{i}"])
    call_command("migrate", verbosity=0)
    if step.startswith("reverse-after:"):
        with connection.cursor() as c:
            c.execute(step[len("reverse-after:"):])
    if step.startswith("reverse"):
        call_command("migrate", "library", "0001", verbosity=0)
    print(json.dumps({"ok": True}))
except Exception as e:
    print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
'''


def mysql(socket, sql):
    return subprocess.run(["mysql", "-u", "root", "-S", socket, "-e", sql], capture_output=True, text=True)


def django_case(socket, second, step):
    """Applies 0001 and `second` (a 0002 migration's source) with two rows, then `step`."""
    project = tempfile.mkdtemp(prefix="rollsafe-mysql-")
    try:
        migrations = os.path.join(project, "library", "migrations")
        os.makedirs(migrations)
        for init in (os.path.join(project, "library", "__init__.py"), os.path.join(migrations, "__init__.py")):
            open(init, "w").close()
        with open(os.path.join(migrations, "0001_initial.py"), "w") as f:
            f.write(INITIAL)
        with open(os.path.join(migrations, "0002_change.py"), "w") as f:
            f.write(second)
        mysql(socket, "DROP DATABASE IF EXISTS rollsafe_facts_django; CREATE DATABASE rollsafe_facts_django")
        out = subprocess.run(["/usr/bin/python3", "-c", RUNNER, project, "rollsafe_facts_django", socket, MYSQL8_SQL_MODE, step], capture_output=True, text=True)
        mysql(socket, "DROP DATABASE IF EXISTS rollsafe_facts_django")
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else {"ok": False, "error": out.stderr.strip().splitlines()[-1:]}
    finally:
        shutil.rmtree(project, ignore_errors=True)


def removal(field):
    return f'from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = [migrations.RemoveField("book", "{field}")]\n'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/run/mysqld/mysqld.sock")
    socket = parser.parse_args().socket
    version = mysql(socket, "SELECT VERSION()")
    if version.returncode != 0:
        print(f"mysql_facts: cannot reach the server on {socket}: {version.stderr.strip()}", file=sys.stderr)
        return 2
    print(f"server {version.stdout.split()[-1]}, sql_mode {MYSQL8_SQL_MODE}")
    failures = 0

    def fact(rule, text, holds):
        nonlocal failures
        failures += 0 if holds else 1
        print(f"{'ok  ' if holds else 'FAIL'} {rule}: {text}")

    # reversing-migration-fails: which re-added NOT NULL columns MySQL fills with an implicit value.
    for field in ["title", "pages", "price", "flag", "uid", "at", "loose"]:
        result = django_case(socket, removal(field), "reverse")
        fact("reversing-migration-fails", f"reversing RemoveField('{field}') on two rows runs", result["ok"])
    for field, error in [("published", "Incorrect datetime value"), ("day", "Incorrect date value"), ("code", "Duplicate entry"), ("author", "a foreign key constraint fails")]:
        result = django_case(socket, removal(field), "reverse")
        fact("reversing-migration-fails", f"reversing RemoveField('{field}') on two rows fails with {error!r}", not result["ok"] and error in result["error"])

    # reversing-migration-drops-data: reversing a relaxed field after the new release used it.
    for op, write, error in [
        ("AlterField('book', 'title', models.CharField(max_length=200, null=True))", "UPDATE library_book SET title = NULL", "Data truncated for column 'title'"),
        ("AlterField('book', 'code', models.CharField(max_length=10))", "UPDATE library_book SET code = 'c0'", "Duplicate entry 'c0'"),
        ("AlterField('book', 'author', models.ForeignKey(on_delete=models.CASCADE, to='library.author', db_constraint=False))", "UPDATE library_book SET author_id = 99", "a foreign key constraint fails"),
    ]:
        second = ("from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
                  f"    dependencies = [('library', '0001_initial')]\n    operations = [migrations.{op}]\n")
        result = django_case(socket, second, f"reverse-after:{write}")
        fact("reversing-migration-drops-data", f"reversing {op.split(',')[0]}, ...) after `{write}` fails with {error!r}", not result["ok"] and error in result["error"])

    # running-concurrent-operation-in-transaction: the schema editor refuses `concurrently`.
    for op, method in [("AddIndexConcurrently(model_name='book', index=models.Index(fields=['pages'], name='book_pages_idx'))", "add_index"),
                       ("RemoveIndexConcurrently('book', 'book_pages_idx')", "remove_index")]:
        prefix = "migrations.AddIndex(model_name='book', index=models.Index(fields=['pages'], name='book_pages_idx'))," if method == "remove_index" else ""
        second = ("from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently\n"
                  "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
                  f"    dependencies = [('library', '0001_initial')]\n    operations = [{prefix}{op}]\n")
        result = django_case(socket, second, "forward")
        fact("running-concurrent-operation-in-transaction", f"{op.split('(')[0]} fails with TypeError from {method}()", not result["ok"] and "TypeError" in result["error"] and method in result["error"])

    # SQL the advice writes, and the errors findings quote.
    mysql(socket, "DROP DATABASE IF EXISTS rollsafe_facts; CREATE DATABASE rollsafe_facts")
    setup = ("CREATE TABLE p (id bigint PRIMARY KEY); CREATE TABLE c (id bigint AUTO_INCREMENT PRIMARY KEY, title varchar(10) NOT NULL, "
             "pages int NULL, n int NULL, p_id bigint NULL, CONSTRAINT fk_c FOREIGN KEY (p_id) REFERENCES p (id)); CREATE TABLE t2 (id int); INSERT INTO p VALUES (1);")
    mysql(socket, f"USE rollsafe_facts; {setup}")
    run = lambda sql: mysql(socket, f"USE rollsafe_facts; SET SESSION sql_mode='{MYSQL8_SQL_MODE}'; {sql}")
    fact("dropping-column", "a double-quoted identifier is a syntax error", "1064" in run('ALTER TABLE "c" DROP COLUMN "pages"').stderr)
    fact("dropping-column", "ALTER TABLE `c` DROP COLUMN `pages` runs", run("ALTER TABLE `c` DROP COLUMN `pages`").returncode == 0)
    fact("dropping-table", "DROP TABLE IF EXISTS `t2`, `t3` runs", run("DROP TABLE IF EXISTS `t2`, `t3`").returncode == 0)
    fact("removing-not-null-column-from-state", "an INSERT leaving out a NOT NULL column: \"Field 'title' doesn't have a default value\"",
         "Field 'title' doesn't have a default value" in run("INSERT INTO c (p_id) VALUES (1)").stderr)
    fact("making-field-nullable-only-in-state", "an INSERT of NULL: \"Column 'title' cannot be null\"", "Column 'title' cannot be null" in run("INSERT INTO c (title) VALUES (NULL)").stderr)
    fact("setting-column-not-null", "MODIFY to NOT NULL runs in place without blocking writes (ALGORITHM=INPLACE, LOCK=NONE)",
         run("UPDATE c SET n = 0 WHERE n IS NULL; ALTER TABLE c MODIFY n int NOT NULL, ALGORITHM=INPLACE, LOCK=NONE").returncode == 0)
    run("INSERT INTO c (title, n, p_id) VALUES ('x', 0, 1)")
    fact("runsql-truncating-table", "TRUNCATE ... CASCADE is a syntax error", "1064" in run("TRUNCATE p CASCADE").stderr)
    fact("runsql-truncating-table", "TRUNCATE of a table a foreign key constraint references fails",
         "Cannot truncate a table referenced in a foreign key constraint" in run("TRUNCATE p").stderr)
    fact("runsql-adding-required-column", "ADD COLUMN ... NOT NULL without a default on a table with rows runs (implicit values)",
         run("ALTER TABLE c ADD COLUMN isbn text NOT NULL").returncode == 0)
    fact("removing-foreign-key-with-constraint", "a DELETE of a referenced row: \"Cannot delete or update a parent row\"", "Cannot delete or update a parent row" in run("DELETE FROM p").stderr)
    # Dropping a foreign key while another session's transaction has read the referenced table.
    holder = subprocess.Popen(["mysql", "-u", "root", "-S", socket, "-e", "USE rollsafe_facts; BEGIN; SELECT * FROM p; SELECT SLEEP(4); COMMIT;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["sleep", "1"])
    dropped = run("SET SESSION lock_wait_timeout=2; ALTER TABLE c DROP FOREIGN KEY fk_c")
    holder.wait()
    fact("removing-foreign-key-with-constraint", "DROP FOREIGN KEY does not wait for a transaction on the referenced table (MariaDB)", dropped.returncode == 0)
    mysql(socket, "DROP DATABASE IF EXISTS rollsafe_facts")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
