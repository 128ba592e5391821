/**
 * Single large migrations, for the benchmark's growth check within one file (issue 7: "time
 * grows linearly"). A squashed migration or a generated data migration can hold thousands of
 * operations or statements, and a per-operation step that looks at the whole migration (or the
 * whole file, or every finding so far) makes such a file quadratic while a corpus of many small
 * files stays linear. Each shape is written at two sizes; the benchmark compares rollsafe's cost
 * per operation, as a ratio to the parse limit of the same files, between them.
 *
 *   node bench/large-migrations.mjs --out DIR --shape add-field --operations 2500
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HEAD = "import django.db.models.deletion\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n";

/** One migration module: its dependency on the app's previous migration and its operations. */
function migration(previous, operations, { initial = false } = {}) {
  const lines = [HEAD];
  if (initial) lines.push("    initial = True\n\n");
  lines.push(`    dependencies = [${previous ? `("shop", "${previous}")` : ""}]\n\n`, "    operations = [\n", ...operations, "    ]\n");
  return lines.join("");
}

const createBook = `        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("pages", models.IntegerField(null=True)),
            ],
        ),
`;

/** A table PostgreSQL partitions by range, made by RunSQL, with its model in Django's state. */
const createEvents = `        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql="CREATE TABLE shop_event (id bigserial, created date NOT NULL, name text NOT NULL, PRIMARY KEY (id, created)) PARTITION BY RANGE (created);",
                    reverse_sql="DROP TABLE shop_event;",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        ("created", models.DateField()),
                        ("name", models.TextField()),
                    ],
                ),
            ],
        ),
`;

const addField = (i, field) => `        migrations.AddField(\n            model_name="book",\n            name="extra_${i}",\n            field=${field},\n        ),\n`;

/**
 * The shapes: what each large migration holds, and the findings it draws (every operation of
 * the first two draws one, so the reporters and the release plan see thousands per file). Each
 * gives the first migration's operations (`first`, by default the Book model), the second's
 * name and its items for a size (`items`), module-level code the second needs (`prelude`), and
 * how many operations the second holds for a size (`operations`). Most shapes are there because
 * some per-operation step once made them quadratic (see docs/performance.md).
 */
export const LARGE_SHAPES = [
  {
    name: "add-field",
    label: "AddField with a default on one model",
    second: "0002_fields.py",
    items: (i) => addField(i, `models.IntegerField(default=${i})`),
  },
  {
    name: "create-model",
    label: "CreateModel with a foreign key, then AddIndex and RemoveField on each model",
    operations: (n) => 2 * n,
    first: (n) =>
      Array.from(
        { length: n },
        (_, i) =>
          `        migrations.CreateModel(\n            name="Item${i}",\n            fields=[\n                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),\n                ("name", models.CharField(max_length=100)),\n` +
          (i > 0 ? `                ("parent", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.item${i - 1}")),\n` : "") +
          "            ],\n        ),\n",
      ),
    second: "0002_indexes.py",
    items: (i) =>
      `        migrations.AddIndex(\n            model_name="item${i}",\n            index=models.Index(fields=["name"], name="item${i}_name_idx"),\n        ),\n` +
      `        migrations.RemoveField(\n            model_name="item${i}",\n            name="name",\n        ),\n`,
  },
  {
    name: "delete-model",
    label: "RemoveField of each field of one model, then DeleteModel of it",
    operations: (n) => n + 1,
    first: (n) => [
      `        migrations.CreateModel(\n            name="Wide",\n            fields=[\n                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),\n` +
        Array.from({ length: n }, (_, i) => `                ("f${i}", models.IntegerField(null=True)),\n`).join("") +
        "            ],\n        ),\n",
    ],
    second: "0002_delete_wide.py",
    all: (n) => [
      ...Array.from({ length: n }, (_, i) => `        migrations.RemoveField(\n            model_name="wide",\n            name="f${i}",\n        ),\n`),
      `        migrations.DeleteModel(\n            name="Wide",\n        ),\n`,
    ],
  },
  {
    name: "partitioned",
    label: "AddIndex on a table a RunSQL created partitioned",
    first: () => [createEvents],
    second: "0002_indexes.py",
    items: (i) => `        migrations.AddIndex(\n            model_name="event",\n            index=models.Index(fields=["name", "created"], name="event_${i}_idx"),\n        ),\n`,
  },
  {
    name: "backfill",
    label: "AddField and a RunSQL UPDATE in turn, on one model",
    second: "0002_backfill.py",
    items: (i) =>
      i % 2 === 0
        ? addField(i, "models.IntegerField(null=True)")
        : `        migrations.RunSQL(\n            "UPDATE shop_book SET extra_${i - 1} = pages WHERE extra_${i - 1} IS NULL",\n            reverse_sql=migrations.RunSQL.noop,\n        ),\n`,
  },
  {
    name: "separate-database",
    label: "SeparateDatabaseAndState: a column added by RunSQL, the field in the state",
    second: "0002_columns.py",
    items: (i) =>
      `        migrations.SeparateDatabaseAndState(\n            database_operations=[\n                migrations.RunSQL("ALTER TABLE shop_book ADD COLUMN extra_${i} integer NULL", reverse_sql=migrations.RunSQL.noop),\n            ],\n` +
      `            state_operations=[\n                migrations.AddField(model_name="book", name="extra_${i}", field=models.IntegerField(null=True)),\n            ],\n        ),\n`,
  },
  {
    name: "unique-together",
    label: "AddField, then AlterUniqueTogether over it, on one model",
    operations: (n) => 2 * n,
    second: "0002_unique.py",
    items: (i) =>
      addField(i, "models.IntegerField(default=0)") +
      `        migrations.AlterUniqueTogether(\n            name="book",\n            unique_together={("title", "extra_${i}")},\n        ),\n`,
  },
  {
    name: "run-python",
    label: "RunPython, each with its own function in the module",
    second: "0002_data.py",
    prelude: (i) => `def fill_${i}(apps, schema_editor):\n    Book = apps.get_model("shop", "Book")\n    Book.objects.filter(pages=${i}).update(title="${i}")\n\n\n`,
    items: (i) => `        migrations.RunPython(fill_${i}, migrations.RunPython.noop),\n`,
  },
  {
    name: "run-sql",
    label: "one RunSQL of many statements (a table created every 100)",
    operations: () => 1,
    second: "0002_backfill.py",
    all: (n) => {
      const statements = Array.from({ length: n }, (_, i) =>
        i % 100 === 0
          ? `CREATE TABLE shop_archive_${i} (id bigint PRIMARY KEY, book_id bigint REFERENCES shop_book (id));`
          : `UPDATE shop_book SET pages = ${i} WHERE id = ${i};`,
      );
      return [`        migrations.RunSQL(\n            sql="""\n${statements.map((s) => `                ${s}\n`).join("")}            """,\n            reverse_sql=migrations.RunSQL.noop,\n        ),\n`];
    },
  },
].map((shape) => ({ operations: (n) => n, first: () => [createBook], ...shape }));

/** The shape's two migration modules at size `n`, by file name. */
function shapeFiles(shape, n) {
  const items = shape.all ? shape.all(n) : Array.from({ length: n }, (_, i) => shape.items(i));
  let second = migration("0001_initial", items);
  if (shape.prelude) second = second.replace("\n\nclass Migration", `\n\n${Array.from({ length: n }, (_, i) => shape.prelude(i)).join("")}class Migration`);
  return { "0001_initial.py": migration(null, shape.first(n), { initial: true }), [shape.second]: second };
}

/**
 * Writes a project with one app (`shop`) holding the shape's migrations at `operations`
 * operations (statements, for `run-sql`) into `dir`, unless it is already there. Returns the
 * app's migrations directory.
 */
export function writeLargeMigration(dir, shapeName, operations) {
  const shape = LARGE_SHAPES.find((s) => s.name === shapeName);
  if (!shape) throw new Error(`unknown shape ${shapeName} (${LARGE_SHAPES.map((s) => s.name).join(", ")})`);
  const migrations = path.join(dir, "shop", "migrations");
  const stamp = path.join(dir, ".large-migration.json");
  const spec = JSON.stringify({ shape: shapeName, operations, version: 1 });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === spec) return migrations;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(migrations, { recursive: true });
  fs.writeFileSync(path.join(dir, "shop", "__init__.py"), "");
  fs.writeFileSync(path.join(migrations, "__init__.py"), "");
  for (const [name, text] of Object.entries(shapeFiles(shape, operations))) fs.writeFileSync(path.join(migrations, name), text);
  fs.writeFileSync(stamp, spec);
  return migrations;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = value("--out");
  const shape = value("--shape") ?? "add-field";
  const operations = Number(value("--operations") ?? 2500);
  if (!out || !Number.isInteger(operations) || operations < 1) {
    process.stderr.write("usage: node bench/large-migrations.mjs --out DIR [--shape add-field|create-model|delete-model|partitioned|backfill|separate-database|unique-together|run-python|run-sql] [--operations N]\n");
    process.exitCode = 2;
  } else {
    process.stdout.write(`${writeLargeMigration(path.resolve(out), shape, operations)}\n`);
  }
}
