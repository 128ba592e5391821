import { describe, expect, it } from "vitest";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import { ProjectState } from "../../src/state/project-state.js";
import { fieldFromCall, notePrimaryKeyToFields, type FieldState } from "../../src/state/model-state.js";
import type { Operation, PyValue } from "../../src/model/types.js";
import { alteredOptions, databaseChanges, dropsForeignKey } from "../../src/engine/field-changes.js";

/** The fields of model `T` after `operations`, and `field` (a call) read as a field `f` of it. */
function fields(operations: string, field: string): { before: FieldState; after: FieldState } {
  const m = parseMigrationSource(
    `from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    operations = [\n${operations}\n        migrations.AddField("t", "g", ${field}),\n    ]\n`,
    { path: "/p/app/migrations/0001_initial.py", app: "app", name: "0001_initial" },
  );
  const state = new ProjectState();
  const added = m.operations.pop();
  for (const op of m.operations) state.apply(op, { app: "app", migration: m.id, file: m.path });
  const model = state.model("app", "t");
  const before = model?.fields.get("f");
  if (!model || !before || added?.args.field === undefined) throw new Error("fixture did not read");
  return { before, after: fieldFromCall("f", added.args.field, "app", "t", null) };
}

/** As \`fields\`, for the field \`name\` of \`T\`, with a second call pointing the field at \`T\` itself. */
function fieldsNamed(operations: string, name: string, field: string): { before: FieldState; after: FieldState; retarget: PyValue } {
  const m = parseMigrationSource(
    `from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    operations = [\n${operations}\n        migrations.AddField("t", "g", ${field}),\n        migrations.AddField("t", "h", models.ManyToManyField(to="app.t")),\n    ]\n`,
    { path: "/p/app/migrations/0001_initial.py", app: "app", name: "0001_initial" },
  );
  const state = new ProjectState();
  const retarget = m.operations.pop()?.args.field;
  const added = m.operations.pop();
  for (const op of m.operations) state.apply(op, { app: "app", migration: m.id, file: m.path });
  const before = state.model("app", "t")?.fields.get(name);
  if (!before || added?.args.field === undefined || retarget === undefined) throw new Error("fixture did not read");
  return { before, after: fieldFromCall(name, added.args.field, "app", "t", null), retarget };
}

const MODELS = `        migrations.CreateModel("P", [("id", models.AutoField(primary_key=True)), ("code", models.CharField(max_length=10, unique=True))]),
        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.ForeignKey(on_delete=models.CASCADE, to="app.p"))]),`;

describe("what Django's schema editor alters", () => {
  it("nothing for another class with the same varchar column (Read the Docs oauth 0019: sqlmigrate prints no-op)", () => {
    const url = `        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.URLField(max_length=512, blank=True))]),`;
    expect(databaseChanges(fields(url, "models.CharField(max_length=512, blank=True)").before, fields(url, "models.CharField(max_length=512, blank=True)").after)).toEqual([]);
    // URLField's own default length, 200, against a CharField that writes it.
    const plain = `        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.URLField())]),`;
    const same = fields(plain, "models.CharField(max_length=200)");
    expect(databaseChanges(same.before, same.after)).toEqual([]);
    // Another length is another column type; a SlugField's index goes with its class; SQLite remakes the table.
    const longer = fields(plain, "models.CharField(max_length=300)");
    expect(databaseChanges(longer.before, longer.after)).toEqual(["type", "max_length"]);
    const slug = fields(`        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.SlugField())]),`, "models.CharField(max_length=50)");
    expect(databaseChanges(slug.before, slug.after)).toEqual(["db_index"]);
    expect(databaseChanges(same.before, same.after, "sqlite")).not.toEqual([]);
  });

  it("compares the target model as Django does: by label, whatever the migration wrote, also after a RenameModel", () => {
    const { before, after } = fields(`${MODELS}\n        migrations.RenameModel("P", "Place"),`, `models.ForeignKey(on_delete=models.CASCADE, to="Place")`);
    expect(before.kwargs.to).toMatchObject({ value: "app.Place" });
    expect(alteredOptions(before, after)).toEqual([]);
    expect(dropsForeignKey(before, after)).toBe(false);
  });

  it("leaves out options written at their default, as deconstruct() does", () => {
    const { before, after } = fields(MODELS, `models.ForeignKey(to="app.P", on_delete=models.PROTECT, db_index=True, null=False, related_name="+")`);
    expect(alteredOptions(before, after)).toEqual([]);
  });

  it("leaves out auto_created=False, serialize=True and parent_link=False, Field.deconstruct()'s defaults (django-filer 0010 and 0015: no-op)", () => {
    const { before, after } = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", auto_created=False, serialize=True, parent_link=False, db_tablespace=None)`);
    expect(alteredOptions(before, after)).toEqual([]);
    expect(dropsForeignKey(before, after)).toBe(false);
    // Away from the default it is a change (filer 0006: auto_created=True -> False drops and re-adds the key).
    const explicit = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", auto_created=True)`);
    expect(alteredOptions(explicit.before, explicit.after)).toEqual(["auto_created"]);
  });

  it("sees no change from NullBooleanField to BooleanField(null=True), nor in a many-to-many field's null (python.org users 0014, events 0005: no-op)", () => {
    const models = `        migrations.CreateModel("P", [("id", models.AutoField(primary_key=True))]),
        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.NullBooleanField()), ("m", models.ManyToManyField(to="app.p", null=True))]),`;
    const boolean = fields(models, "models.BooleanField(null=True)");
    expect(databaseChanges(boolean.before, boolean.after)).toEqual([]);
    // Made NOT NULL at the same time, it is a change.
    const notNull = fields(models, "models.BooleanField(default=False)");
    expect(databaseChanges(notNull.before, notNull.after)).toContain("null");
    const m2m = fieldsNamed(models, "m", `models.ManyToManyField(to="app.p")`);
    expect(databaseChanges(m2m.before, m2m.after)).toEqual([]);
    expect(databaseChanges(m2m.before, fieldFromCall("m", m2m.retarget, "app", "t", null))).toEqual(["to"]);
  });

  it("reads a Python 2 migration's bytes db_column as the column it named (edX course_modes 0005)", () => {
    const { before, after } = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", db_column=b"f_id")`);
    expect(after.dbColumn).toBe("f_id");
    expect(alteredOptions(before, after)).toEqual([]);
  });

  it("drops and re-adds a foreign key for a new default, which changes no other SQL", () => {
    // Checked with sqlmigrate on PostgreSQL 15: DROP CONSTRAINT, then ADD CONSTRAINT.
    const { before, after } = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", default=1)`);
    expect(alteredOptions(before, after)).toEqual(["default"]);
    expect(dropsForeignKey(before, after)).toBe(true);
    expect(databaseChanges(before, after)).toEqual(["default"]);
  });

  it("keeps a new default of a plain column in Python, and a comment does not drop the foreign key", () => {
    const plain = fields(`        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.IntegerField())]),`, "models.IntegerField(default=0)");
    expect(alteredOptions(plain.before, plain.after)).toEqual(["default"]);
    expect(databaseChanges(plain.before, plain.after)).toEqual([]);
    const commented = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", db_comment="the p")`);
    expect(databaseChanges(commented.before, commented.after)).toEqual(["db_comment"]);
    expect(dropsForeignKey(commented.before, commented.after)).toBe(false);
  });

  it("sees another class making the same column: SQL only through a foreign key's drop and re-add", () => {
    // Django compares deconstruct()'s path: a project's ForeignKey subclass (authentik's
    // InheritanceForeignKey) is altered, a CharField subclass changes nothing (sqlmigrate, PostgreSQL 15).
    const { before, after } = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p")`);
    const subclass = { ...after, qualified: "lib.fields.InheritanceForeignKey" };
    expect(alteredOptions(before, subclass)).toEqual(["class"]);
    expect(dropsForeignKey(before, subclass)).toBe(true);
    // Django's own classes by name, wherever the migration imported them from.
    expect(alteredOptions(before, { ...after, qualified: "django.db.models.fields.related.ForeignKey" })).toEqual([]);
    const plain = fields(`        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.CharField(max_length=10))]),`, "models.CharField(max_length=10)");
    const text = { ...plain.after, qualified: "lib.fields.LowerCharField" };
    expect(alteredOptions(plain.before, text)).toEqual(["class"]);
    expect(databaseChanges(plain.before, text)).toEqual([]);
    expect(databaseChanges(plain.before, text, "sqlite")).toEqual(["class"]);
  });

  it("reads a to_field naming the target's primary key as none, as deconstruct() leaves it out", () => {
    // pulpcore 0010 (to_field="pulp_id" on a model whose key is pulp_id), Misago (to_field="id" to a
    // model outside the run: `id` is always the primary key, Django's check models.E004).
    const { before, after } = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", to_field="id")`);
    const outside = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="elsewhere.user", to_field="id")`);
    const op = (call: FieldState["call"]) => ({ kind: "AddField", args: { model_name: { kind: "str", value: "t" }, field: call } }) as unknown as Operation;
    expect(alteredOptions(before, after)).toEqual(["to_field"]);
    notePrimaryKeyToFields([op(after.call), op(outside.after.call)], "app", () => undefined);
    expect(alteredOptions(before, after)).toEqual([]);
    expect(alteredOptions({ ...before, relation: outside.after.relation, kwargs: { ...before.kwargs, to: outside.after.kwargs.to as PyValue } }, outside.after)).toEqual([]);
  });

  it("sees a new column name, a new target field and a non-literal option", () => {
    const renamed = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", db_column="p_ref")`);
    expect(alteredOptions(renamed.before, renamed.after)).toEqual(["column"]);
    const target = fields(MODELS, `models.ForeignKey(on_delete=models.CASCADE, to="app.p", to_field="code")`);
    expect(alteredOptions(target.before, target.after)).toEqual(["to_field"]);
    const opaque = fields(`        migrations.CreateModel("T", [("id", models.AutoField(primary_key=True)), ("f", models.CharField(max_length=SIZE))]),`, "models.CharField(max_length=OTHER)");
    expect(alteredOptions(opaque.before, opaque.after)).toEqual(["max_length"]);
  });
});
