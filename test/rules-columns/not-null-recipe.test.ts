/**
 * setting-column-not-null's recipe, followed as written: the migrations its steps give make the
 * column NOT NULL without a finding of their own, for a plain column and for a foreign key (whose
 * last step must not be an AlterField: Django would drop and re-add the constraint, validated).
 * The PostgreSQL side (no scan once the CHECK constraint is validated) is the harness's
 * good/validated-check-first case.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const SETUP = readFileSync(path.join(RULE_FIXTURES, "adding-foreign-key-constraint/bad/fk/library/migrations/0001_initial.py"), "utf8");
const HEADER = "import uuid\n\nimport django.db.models.deletion\nfrom django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint\nfrom django.db import migrations, models\n";
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-not-null-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A project of the setup and one migration per list of operations, each depending on the one before. */
async function lintMigrations(migrations: string[][]) {
  const dir = path.join(root, `case${counter++}`);
  const folder = path.join(dir, "library", "migrations");
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(dir, "library", "__init__.py"), "");
  writeFileSync(path.join(folder, "__init__.py"), "");
  writeFileSync(path.join(folder, "0001_initial.py"), SETUP);
  let previous = "0001_initial";
  migrations.forEach((operations, i) => {
    const name = `000${i + 2}_step`;
    const body = operations.map((o) => o.replace(/^/gm, "        ")).join("\n");
    writeFileSync(path.join(folder, `${name}.py`), `${HEADER}\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "${previous}")]\n    operations = [\n${body}\n    ]\n`);
    previous = name;
  });
  return (await lint([dir], { cwd: dir, target: { django: [4, 2] } })).diagnostics;
}

/** The Python blocks of a help line, without import lines, each made an operation list item. */
function blocks(help: string): string[] {
  return [...help.matchAll(/```python\n([\s\S]*?)\n```/g)].map((m) =>
    (m[1] ?? "")
      .split("\n")
      .filter((line) => !line.startsWith("from ") && line.trim() !== "")
      .join("\n")
      .replace(/\)$/, "),")
      .replace(/,,$/, ","),
  );
}

describe("setting-column-not-null's recipe, followed", () => {
  const nullable = 'migrations.AddField("book", "editor", models.ForeignKey(null=True, db_index=False, on_delete=django.db.models.deletion.CASCADE, to="library.author", related_name="+")),';
  const cases = [
    ["a plain column", [], 'migrations.AlterField("book", "pages", models.IntegerField()),', "Book.pages"],
    ["a foreign key", [nullable], 'migrations.AlterField("book", "editor", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to="library.author", related_name="+")),', "Book.editor"],
  ] as const;

  it.each(cases)("%s: its steps report nothing", async (_label, before, alter, field) => {
    const setup = before.length ? [[...before]] : [];
    const found = (await lintMigrations([...setup, [alter]])).filter((d) => d.rule === "setting-column-not-null");
    expect(found.map((d) => d.message)).toEqual([expect.stringContaining(field)]);
    const steps = found[0]?.help.filter((h) => /^\d\. /.test(h)) ?? [];
    expect(steps).toHaveLength(4);
    const [add, validate, last] = [blocks(steps[1] ?? ""), blocks(steps[2] ?? ""), blocks(steps[3] ?? "")];
    expect(add).toHaveLength(1);
    expect(validate).toHaveLength(1);
    const after = await lintMigrations([...setup, add, validate, last]);
    expect(after.filter((d) => d.file.endsWith(`000${setup.length + 4}_step.py`)).map((d) => `${d.rule}: ${d.message}`)).toEqual([]);
    if (field === "Book.editor") {
      // Without the SQL form of the last step, Django's AlterField would re-add the foreign key.
      expect(steps[3]).toContain(`'ALTER TABLE "library_book" ALTER COLUMN "editor_id" SET NOT NULL;'`);
      const plain = await lintMigrations([...setup, add, validate, [alter]]);
      expect(plain.filter((d) => d.file.endsWith("0005_step.py")).map((d) => d.rule)).toEqual(["adding-foreign-key-constraint"]);
    }
  });
});

describe("setting-column-not-null's last steps", () => {
  it("give a one-off default (preserve_default=False) no way back into the model", async () => {
    const found = (await lintMigrations([['migrations.AlterField("book", "subtitle", models.CharField(max_length=200, default="untitled"), preserve_default=False),']])).find((d) => d.rule === "setting-column-not-null");
    const steps = found?.help.filter((h) => /^\d\. /.test(h)) ?? [];
    // authentik policies 0009: the model has no default, so putting one back makes makemigrations write another migration.
    expect(steps).toHaveLength(4);
    expect(steps.join("\n")).not.toContain('default="untitled"');
  });

  it("change only the nullability when the AlterField changes more (unique too), and leave the rest to its own finding", async () => {
    const found = (await lintMigrations([['migrations.AlterField("book", "subtitle", models.CharField(max_length=200, unique=True)),']])).filter((d) => d.rule === "setting-column-not-null" || d.rule === "adding-unique-constraint");
    expect(found.map((d) => d.rule).sort()).toEqual(["adding-unique-constraint", "setting-column-not-null"]);
    const steps = found.find((d) => d.rule === "setting-column-not-null")?.help.filter((h) => /^\d\. /.test(h)) ?? [];
    // wger nutrition 0035: the NOT NULL step kept unique=True, a blocking unique build of its own.
    expect(steps[3]).toContain('field=models.CharField(max_length=200),');
    expect(steps[3]).not.toContain("unique=True");
    expect(steps[4]).toContain("(unique)");
    expect(steps[4]).toContain("adding-unique-constraint");
  });

  it("give a callable default back, with the options only Python reads, and say the UPDATE gives every NULL row one value (EvaP evaluation 0105)", async () => {
    const found = (
      await lintMigrations([['migrations.AddField("book", "key", models.UUIDField(null=True)),'], ['migrations.AlterField("book", "key", models.UUIDField(default=uuid.uuid4, editable=False, serialize=False)),']])
    ).find((d) => d.rule === "setting-column-not-null");
    const help = found?.help.join("\n") ?? "";
    expect(help).toContain("(`uuid.uuid4()` is called once, so every NULL row gets the same value)");
    const steps = found?.help.filter((h) => /^\d\. /.test(h)) ?? [];
    // serialize=False is no change of its own: the last step gives the default back.
    expect(steps[4]).toContain("Then give the field its `default=uuid.uuid4` back");
    expect(steps[4]).toContain("field=models.UUIDField(default=uuid.uuid4, editable=False, serialize=False),");
    expect(help).not.toContain("as its own finding says");
  });
});
