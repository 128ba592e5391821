/**
 * SQL in the advice speaks the target database's dialect: MySQL reads double quotes as a string
 * (its default `sql_mode` has no ANSI_QUOTES) and has no `DROP COLUMN IF EXISTS`; SQLite has no
 * `DROP COLUMN IF EXISTS`, drops one table per `DROP TABLE`, and cannot `DROP COLUMN` a unique,
 * indexed or foreign-key column, which the dropping-column recipe leaves to Django's schema editor
 * (run below with Django on SQLite when Debian's Python has Django).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import type { Target } from "../../src/engine/rule-types.js";
import type { Diagnostic } from "../../src/model/types.js";
import { dropColumnStatement, dropTablesStatement, sqlIdent } from "../../src/advice/snippets.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-dialects-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The rules whose advice writes SQL for MySQL and SQLite targets too. */
const SQL_RULES = [
  "adding-not-nullable-column",
  "changing-column-type",
  "dropping-column",
  "dropping-table",
  "narrowing-column",
  "removing-not-null-column-from-state",
  "reversing-migration-drops-data",
  "runsql-adding-required-column",
  "runsql-dropping-column",
  "runsql-dropping-table",
];

/** The Python code blocks of a finding's help. */
function snippets(d: Diagnostic): string[] {
  return d.help.flatMap((h) => [...h.matchAll(/```python\n([\s\S]*?)\n```/g)].map((m) => m[1] as string));
}

/** Every SQL statement of the finding's code blocks: SQL blocks' lines, and string literals in Python. */
function sqlLiterals(d: Diagnostic): string[] {
  const sqlBlocks = d.help.flatMap((h) => [...h.matchAll(/```sql\n([\s\S]*?)\n```/g)].flatMap((m) => (m[1] as string).split("\n")));
  return sqlBlocks.concat(...snippets(d).map((s) => [...s.matchAll(/(?:^|[\s=(\[])(["'])((?:ALTER|DROP|CREATE|UPDATE)\b(?:(?!\1)[^\\]|\\.)*)\1/g)].map((m) => m[2] as string)));
}

async function lintBadCases(database: Target["database"]): Promise<Diagnostic[]> {
  const all: Diagnostic[] = [];
  for (const rule of SQL_RULES) {
    const bad = path.join(RULE_FIXTURES, rule, "bad");
    for (const name of readdirSync(bad)) {
      const dir = path.join(bad, name);
      const result = await lint([dir], { cwd: dir, target: { database }, ruleNames: SQL_RULES });
      all.push(...result.diagnostics);
    }
  }
  return all;
}

describe("identifiers and statements per database", () => {
  it("quotes with backquotes on MySQL, double quotes elsewhere, doubling the quote inside", () => {
    expect(sqlIdent('odd"name')).toBe('"odd""name"');
    expect(sqlIdent("odd`name", "mysql")).toBe("`odd``name`");
    expect(sqlIdent("t", "sqlite")).toBe('"t"');
  });
  it("keeps IF EXISTS where the database has it", () => {
    expect(dropColumnStatement("library_book", "pages", "postgresql")).toBe('ALTER TABLE "library_book" DROP COLUMN IF EXISTS "pages"');
    expect(dropColumnStatement("library_book", "pages", "mysql")).toBe("ALTER TABLE `library_book` DROP COLUMN `pages`");
    expect(dropColumnStatement("library_book", "pages", "sqlite")).toBe('ALTER TABLE "library_book" DROP COLUMN "pages"');
    expect(dropTablesStatement(["a", "b"], "postgresql")).toBe('DROP TABLE IF EXISTS "a", "b"');
    expect(dropTablesStatement(["a", "b"], "mysql")).toBe("DROP TABLE IF EXISTS `a`, `b`");
    expect(dropTablesStatement(["a", "b"], "sqlite")).toBe('DROP TABLE IF EXISTS "a"; DROP TABLE IF EXISTS "b";');
  });
});

describe("the SQL of every recipe on MySQL and SQLite", () => {
  it("MySQL: no double-quoted identifier and no DROP COLUMN IF EXISTS", async () => {
    const diagnostics = await lintBadCases("mysql");
    const literals = diagnostics.flatMap(sqlLiterals);
    // The fixtures of these rules give every one of them SQL to write.
    expect([...new Set(diagnostics.filter((d) => sqlLiterals(d).length > 0).map((d) => d.rule))].sort()).toEqual(SQL_RULES);
    expect(literals.length).toBeGreaterThan(40);
    expect(literals.filter((sql) => /"\w+"/.test(sql.replace(/'[^']*'/g, "")))).toEqual([]);
    expect(literals.filter((sql) => /DROP COLUMN IF EXISTS/i.test(sql))).toEqual([]);
    expect(literals.some((sql) => sql.startsWith("ALTER TABLE `library_book` DROP COLUMN `"))).toBe(true);
  });
  it("MySQL before Django 5.0: the backfill of a nullable column's default quotes with backquotes (addons-server)", async () => {
    const dir = path.join(RULE_FIXTURES, "adding-nullable-column-with-default", "bad", "constant-default");
    const { diagnostics } = await lint([dir], { cwd: dir, target: { database: "mysql", django: [4, 2] }, ruleNames: ["adding-nullable-column-with-default"] });
    const literals = diagnostics.flatMap(sqlLiterals);
    expect(literals).toEqual([expect.stringMatching(/^UPDATE `library_book` SET `\w+` = %s WHERE `\w+` IS NULL$/)]);
  });
  it("SQLite: no DROP COLUMN IF EXISTS and one table per DROP TABLE", async () => {
    const literals = (await lintBadCases("sqlite")).flatMap(sqlLiterals);
    expect(literals.length).toBeGreaterThan(20);
    expect(literals.filter((sql) => /DROP COLUMN IF EXISTS/i.test(sql))).toEqual([]);
    expect(literals.filter((sql) => /DROP TABLE[^;]*,/i.test(sql))).toEqual([]);
    expect(literals.filter((sql) => /`/.test(sql))).toEqual([]);
  });
});

const PYTHON = "/usr/bin/python3";
const HAS_DJANGO = existsSync(PYTHON) && (() => {
  try {
    execFileSync(PYTHON, ["-c", "import django"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const INITIAL = `import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Author", fields=[("id", models.BigAutoField(primary_key=True)), ("name", models.CharField(max_length=100))]),
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("code", models.CharField(max_length=10, unique=True)),
                ("slug", models.SlugField(max_length=50)),
                ("pages", models.IntegerField(null=True)),
                ("author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author")),
            ],
        ),
    ]
`;

/** Applies the migrations with Django on an in-memory SQLite, prints the table's columns, then reverses to `back`. */
const DJANGO_SQLITE = `
import json, sys, django
from django.conf import settings
sys.path.insert(0, sys.argv[1])
settings.configure(INSTALLED_APPS=["library"], DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
django.setup()
from django.core.management import call_command
from django.db import connection
def columns():
    with connection.cursor() as c:
        return sorted(col.name for col in connection.introspection.get_table_description(c, "library_book"))
call_command("migrate", verbosity=0)
after = columns()
call_command("migrate", "library", sys.argv[2], verbosity=0)
print(json.dumps({"after": after, "reversed": columns()}))
`;

describe.runIf(HAS_DJANGO)("dropping-column's SQLite recipe, run with Django on SQLite", () => {
  it("drops a unique column by a rebuild, which takes the other columns the state no longer has", async () => {
    const dir = path.join(root, "sqlite-recipe");
    const migrations = path.join(dir, "library", "migrations");
    mkdirSync(migrations, { recursive: true });
    writeFileSync(path.join(dir, "library", "__init__.py"), "");
    writeFileSync(path.join(migrations, "__init__.py"), "");
    writeFileSync(path.join(migrations, "0001_initial.py"), INITIAL);
    const removed = ["code", "slug", "pages", "author"];
    writeFileSync(
      path.join(migrations, "0002_remove.py"),
      `from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = [\n${removed.map((f) => `        migrations.RemoveField("book", "${f}"),`).join("\n")}\n    ]\n`,
    );
    const result = await lint([dir], { cwd: dir, target: { database: "sqlite" }, ruleNames: ["dropping-column"] });
    const findings = result.diagnostics.filter((d) => d.rule === "dropping-column");
    expect(findings).toHaveLength(removed.length);
    // The expand steps of every finding (AlterFields first: on SQLite a rebuild after a state-only
    // removal would drop the removed columns, as the advice says), then each contract step.
    const expand: string[] = [];
    const contract: string[] = [];
    for (const d of findings) {
      const code = snippets(d);
      const last = code.pop() as string;
      expect(last).toMatch(/^migrations\.SeparateDatabaseAndState\(\n {4}database_operations=\[/);
      expect(last).not.toMatch(/RunSQL/);
      contract.push(last);
      expand.push(...code);
    }
    const module = (deps: string, ops: string[]) =>
      `import django.db.models.deletion\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "${deps}")]\n    operations = [\n${ops.map((o) => `        ${o.split("\n").join("\n        ")},`).join("\n")}\n    ]\n`;
    expect(findings.filter((d) => d.help.some((h) => h.includes("Put such operations before the removal")))).toHaveLength(removed.length);
    const alterFirst = [...expand.filter((o) => o.startsWith("migrations.AlterField(")), ...expand.filter((o) => !o.startsWith("migrations.AlterField("))];
    writeFileSync(path.join(migrations, "0002_remove.py"), module("0001_initial", alterFirst));
    // One rebuild (the unique column's drop) drops every column the state no longer has, as its step says.
    expect(findings[0]?.message).toContain("`Book.code`");
    expect(findings.every((d) => d.help.some((h) => h.includes("a rebuild also drops every other column of the table the state no longer has")))).toBe(true);
    writeFileSync(path.join(migrations, "0003_drop.py"), module("0002_remove", contract.slice(0, 1)));
    const out = JSON.parse(execFileSync(PYTHON, ["-c", DJANGO_SQLITE, dir, "0002_remove"], { encoding: "utf8" })) as { after: string[]; reversed: string[] };
    expect(out.after).toEqual(["id"]);
    // Reversing the contract step puts its own column back.
    expect(out.reversed).toEqual(["code", "id"]);
  }, 60_000);
});
