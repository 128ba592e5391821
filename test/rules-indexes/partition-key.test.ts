/**
 * Unique keys on partitioned tables: PostgreSQL 15 refuses a unique constraint, unique index or
 * primary key that lacks a partitioning column ("unique constraint on partitioned table must
 * include all partitioning columns"), checked at every level of sub-partitioning, and any at all
 * when the partition key has an expression ("unsupported UNIQUE constraint with partition key
 * definition"). A parenthesised or collated column in either list counts as the column.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { analyzeSql, loadSqlParser } from "../../src/sql/analyze-sql.js";

const RULE = "adding-unique-constraint-without-partition-key";

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** The `Event` model's table made by RunSQL with `createSql` (its partitions included), as migration 0001. */
function setup(createSql: string[], fields = ["id", "created", "kind", "code"]): string {
  const columns = fields.map((f) => (f === "id" ? '("id", models.BigIntegerField(primary_key=True))' : `("${f}", models.CharField(max_length=20))`));
  return `from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(name="Event", fields=[${columns.join(", ")}]),
            ],
            database_operations=[
                migrations.RunSQL(sql=${JSON.stringify(createSql)}, reverse_sql="DROP TABLE shop_event"),
            ],
        ),
    ]
`;
}

function later(operations: string, name = "0002_keys", after = "0001_initial"): [string, string] {
  return [
    name,
    `from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("shop", "${after}")]

    operations = [
${operations}
    ]
`,
  ];
}

function project(files: [string, string][]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-partition-key-"));
  temporary.push(dir);
  mkdirSync(path.join(dir, "shop/migrations"), { recursive: true });
  writeFileSync(path.join(dir, "shop/__init__.py"), "");
  writeFileSync(path.join(dir, "shop/migrations/__init__.py"), "");
  for (const [name, source] of files) writeFileSync(path.join(dir, "shop/migrations", `${name}.py`), source);
  return dir;
}

async function findings(dir: string, options: Parameters<typeof lint>[1] = {}) {
  return (await lint([dir], { cwd: dir, ...options })).diagnostics.filter((d) => d.rule === RULE);
}

const BY_CREATED = ["CREATE TABLE shop_event (id bigint NOT NULL, created varchar(20) NOT NULL, kind varchar(20) NOT NULL, code varchar(20) NOT NULL, PRIMARY KEY (id, created)) PARTITION BY LIST (created)"];

describe("reading the partition key", () => {
  beforeAll(() => loadSqlParser());

  const keyOf = (sql: string) => {
    const analysis = analyzeSql(sql);
    if (!analysis.ok) throw new Error(analysis.error);
    return analysis.statements[0]?.partitioning?.key;
  };

  it("keeps plain, quoted, parenthesised and collated columns, and notes expressions", () => {
    expect(keyOf("CREATE TABLE t (a int, b int) PARTITION BY RANGE (a, \"B\")")).toEqual({ columns: ["a", "B"], expressions: false });
    expect(keyOf("CREATE TABLE t (a text) PARTITION BY LIST ((a COLLATE \"C\"))")).toEqual({ columns: ["a"], expressions: false });
    expect(keyOf("CREATE TABLE t (a text) PARTITION BY LIST ((a))")).toEqual({ columns: ["a"], expressions: false });
    expect(keyOf("CREATE TABLE t (a int, ts timestamp) PARTITION BY RANGE (a, (ts::date))")).toEqual({ columns: ["a"], expressions: true });
    expect(keyOf("CREATE TABLE t_1 PARTITION OF t FOR VALUES IN (1)")).toBeNull();
  });

  it("reads the primary key, unique and exclusion constraints written in the CREATE TABLE", () => {
    const analysis = analyzeSql(
      'CREATE TABLE t (id bigint PRIMARY KEY, code text UNIQUE, r int, d tstzrange, UNIQUE (code, "R"), ' +
        "EXCLUDE USING gist (r WITH OPERATOR(pg_catalog.=), d WITH &&, (lower(d)) WITH =), CHECK (r > 0)) PARTITION BY LIST (r)",
    );
    if (!analysis.ok) throw new Error(analysis.error);
    expect(analysis.statements[0]?.partitioning?.inlineKeys).toEqual([
      { type: "primary-key", elements: [{ column: "id", operator: null }] },
      { type: "unique", elements: [{ column: "code", operator: null }] },
      { type: "unique", elements: [{ column: "code", operator: null }, { column: "R", operator: null }] },
      {
        type: "exclusion",
        elements: [
          { column: "r", operator: "=" },
          { column: "d", operator: "&&" },
          { column: null, operator: "=" },
        ],
      },
    ]);
  });
});

describe(RULE, () => {
  it("names the missing field, PostgreSQL's refusal and the statement that partitioned the table", async () => {
    const dir = project([["0001_initial", setup(BY_CREATED)], later('        migrations.AddConstraint(model_name="event", constraint=models.UniqueConstraint(fields=["code"], name="event_code_uniq")),')]);
    const [found, ...rest] = await findings(dir);
    expect(rest).toEqual([]);
    expect(found?.message).toBe("`UniqueConstraint` `event_code_uniq` cannot be created on partitioned `shop_event`: it lacks the partitioning column `created`, and the migration fails.");
    const help = found?.help.join("\n") ?? "";
    expect(help).toContain('`UNIQUE constraint on table "shop_event" lacks column "created" which is part of the partition key`');
    expect(help).toContain('constraint=models.UniqueConstraint(fields=["code", "created"], name="event_code_uniq")');
    expect(found?.related?.[0]?.file).toBe("shop/migrations/0001_initial.py");
  });

  it("refuses every unique key when the partition key has an expression, and gives no field to add", async () => {
    const dir = project([
      ["0001_initial", setup(["CREATE TABLE shop_event (id bigint NOT NULL, created varchar(20) NOT NULL, kind varchar(20), code varchar(20)) PARTITION BY LIST (lower(created))"])],
      later('        migrations.AlterUniqueTogether(name="event", unique_together={("code", "created")}),'),
    ]);
    const [found] = await findings(dir);
    expect(found?.message).toContain("the partition key of `shop_event` has an expression");
    const help = found?.help.join("\n") ?? "";
    expect(help).toContain("unsupported UNIQUE constraint with partition key definition");
    expect(help).not.toContain("add the partitioning");
  });

  it("checks the keys of partitions that are partitioned in turn", async () => {
    const sql = [
      "CREATE TABLE shop_event (id bigint NOT NULL, created varchar(20) NOT NULL, kind varchar(20) NOT NULL, code varchar(20)) PARTITION BY LIST (created)",
      "CREATE TABLE shop_event_a PARTITION OF shop_event FOR VALUES IN ('a') PARTITION BY LIST (kind)",
    ];
    const dir = project([["0001_initial", setup(sql)], later('        migrations.AlterUniqueTogether(name="event", unique_together={("id", "created")}),')]);
    const [found] = await findings(dir);
    expect(found?.message).toContain("it lacks the partitioning column `kind` of partition `shop_event_a`");
    expect(found?.help.join("\n")).toContain('unique_together={("id", "created", "kind")}');
    const complete = project([["0001_initial", setup(sql)], later('        migrations.AlterUniqueTogether(name="event", unique_together={("id", "created", "kind")}),')]);
    expect(await findings(complete)).toEqual([]);
  });

  it("reads primary keys, OneToOne fields, inline UNIQUE columns and CREATE UNIQUE INDEX ON ONLY", async () => {
    const dir = project([
      ["0001_initial", setup(BY_CREATED)],
      later(
        [
          '        migrations.AlterField("event", "code", models.CharField(max_length=20, primary_key=True)),',
          '        migrations.AddField("event", "parent", models.OneToOneField(on_delete=models.CASCADE, to="shop.event", null=True)),',
          '        migrations.RunSQL("ALTER TABLE shop_event ADD COLUMN ref int UNIQUE", reverse_sql="ALTER TABLE shop_event DROP COLUMN ref"),',
          '        migrations.RunSQL("CREATE UNIQUE INDEX event_kind_uidx ON ONLY shop_event (kind)", reverse_sql="DROP INDEX event_kind_uidx"),',
        ].join("\n"),
      ),
    ]);
    const found = await findings(dir);
    expect(found.map((d) => d.line)).toEqual([9, 10, 11, 12]);
    expect(found[0]?.help[0]).toContain("`PRIMARY KEY constraint on table");
    expect(found[1]?.help.join("\n")).toContain("field=models.ForeignKey(on_delete=models.CASCADE, to=\"shop.event\", null=True)");
    expect(found[2]?.message).toContain("`ALTER TABLE shop_event ADD COLUMN ref ... UNIQUE`");
  });

  it("follows a RENAME COLUMN of a key column", async () => {
    const renamedBySql = project([
      ["0001_initial", setup(BY_CREATED)],
      later(
        [
          "        migrations.SeparateDatabaseAndState(",
          '            state_operations=[migrations.RenameField("event", "created", "day")],',
          '            database_operations=[migrations.RunSQL("ALTER TABLE shop_event RENAME COLUMN created TO day", reverse_sql="ALTER TABLE shop_event RENAME COLUMN day TO created")],',
          "        ),",
        ].join("\n"),
      ),
      later('        migrations.AddConstraint("event", models.UniqueConstraint(fields=["code"], name="event_code_uniq")),', "0003_code", "0002_keys"),
    ]);
    const [found] = await findings(renamedBySql);
    expect(found?.message).toContain("it lacks the partitioning column `day`");
    const keyIncluded = project([
      ["0001_initial", setup(BY_CREATED)],
      later(
        [
          "        migrations.SeparateDatabaseAndState(",
          '            state_operations=[migrations.RenameField("event", "created", "day")],',
          '            database_operations=[migrations.RunSQL("ALTER TABLE shop_event RENAME COLUMN created TO day", reverse_sql="ALTER TABLE shop_event RENAME COLUMN day TO created")],',
          "        ),",
        ].join("\n"),
      ),
      later('        migrations.AddConstraint("event", models.UniqueConstraint(fields=["code", "day"], name="event_code_uniq")),', "0003_code", "0002_keys"),
    ]);
    expect(await findings(keyIncluded)).toEqual([]);
  });

  it("follows the key column and the table through Django's renames (checked on PostgreSQL 15: the key follows both)", async () => {
    /** `change` in 0002, then a unique key on `fields` of `model` in 0003: the messages of the findings. */
    const after = async (change: string, model: string, fields: string[]) =>
      (
        await findings(
          project([
            ["0001_initial", setup(BY_CREATED)],
            later(change),
            later(`        migrations.AddConstraint("${model}", models.UniqueConstraint(fields=${JSON.stringify(fields)}, name="event_uniq")),`, "0003_code", "0002_keys"),
          ]),
        )
      ).map((d) => d.message);
    // RenameField renames the column, and PostgreSQL the partition key's column with it.
    expect(await after('        migrations.RenameField("event", "created", "day"),', "event", ["code"])).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `shop_event`: it lacks the partitioning column `day`, and the migration fails.",
    ]);
    expect(await after('        migrations.RenameField("event", "created", "day"),', "event", ["code", "day"])).toEqual([]);
    // So does AlterField when db_column changes, and a Django operation among database_operations.
    expect(await after('        migrations.AlterField("event", "created", models.CharField(max_length=20, db_column="created_on")),', "event", ["code"])).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `shop_event`: it lacks the partitioning column `created_on`, and the migration fails.",
    ]);
    const inDatabaseOperations = [
      "        migrations.SeparateDatabaseAndState(",
      '            database_operations=[migrations.RenameField("event", "created", "day")],',
      '            state_operations=[migrations.RenameField("event", "created", "day")],',
      "        ),",
    ].join("\n");
    expect(await after(inDatabaseOperations, "event", ["code", "day"])).toEqual([]);
    expect(await after(inDatabaseOperations, "event", ["code"])).toHaveLength(1);
    // RenameModel and AlterModelTable rename the table, which stays partitioned.
    expect(await after('        migrations.RenameModel("Event", "Visit"),', "visit", ["code"])).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `shop_visit`: it lacks the partitioning column `created`, and the migration fails.",
    ]);
    expect(await after('        migrations.AlterModelTable("event", "visits"),', "event", ["code"])).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `visits`: it lacks the partitioning column `created`, and the migration fails.",
    ]);
    // A table pinned by db_table keeps its name through RenameModel.
    const pinned = project([
      ["0001_initial", setup(BY_CREATED)],
      later('        migrations.AlterModelTable("event", "shop_event"),\n        migrations.RenameModel("Event", "Visit"),'),
      later('        migrations.AddConstraint("visit", models.UniqueConstraint(fields=["code"], name="event_uniq")),', "0003_code", "0002_keys"),
    ]);
    expect((await findings(pinned)).map((d) => d.message)).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `shop_event`: it lacks the partitioning column `created`, and the migration fails.",
    ]);
    // DeleteModel drops it: the model created again in its place makes an ordinary table.
    const recreated = [
      '        migrations.DeleteModel("Event"),',
      '        migrations.CreateModel(name="Event", fields=[("id", models.BigIntegerField(primary_key=True)), ("code", models.CharField(max_length=20))]),',
    ].join("\n");
    expect(await after(recreated, "event", ["code"])).toEqual([]);
    // A state-only rename leaves the database, and the key, as they were (`created`, which no field
    // names any more, so nothing is said); following it would have reported the missing `day`.
    const stateOnly = '        migrations.SeparateDatabaseAndState(state_operations=[migrations.RenameField("event", "created", "day")]),';
    expect(await after(stateOnly, "event", ["code"])).toEqual([]);
  });

  it("follows a Django rename in the migration whose RunSQL partitioned the table, in the order they run", async () => {
    const renamedAfter = setup(BY_CREATED).replace("        ),\n    ]", '        ),\n        migrations.RenameField("event", "created", "day"),\n    ]');
    expect(renamedAfter).toContain('RenameField("event", "created", "day")');
    const unique = (fields: string[]) => later(`        migrations.AddConstraint("event", models.UniqueConstraint(fields=${JSON.stringify(fields)}, name="event_uniq")),`);
    expect((await findings(project([["0001_initial", renamedAfter], unique(["code"])]))).map((d) => d.message)).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `shop_event`: it lacks the partitioning column `day`, and the migration fails.",
    ]);
    expect(await findings(project([["0001_initial", renamedAfter], unique(["code", "day"])]))).toEqual([]);
    // Within the migration too: a unique key after the rename is checked against `day`.
    const sameMigration = renamedAfter.replace("    ]\n", '        migrations.AddConstraint("event", models.UniqueConstraint(fields=["code"], name="event_uniq")),\n    ]\n');
    expect((await findings(project([["0001_initial", sameMigration]]))).map((d) => d.message)).toEqual([
      "`UniqueConstraint` `event_uniq` cannot be created on partitioned `shop_event`: it lacks the partitioning column `day`, and the migration fails.",
    ]);
  });

  describe("exclusion constraints", () => {
    const EXCLUSION = "from django.contrib.postgres.constraints import ExclusionConstraint\nfrom django.contrib.postgres.fields import RangeOperators\n";
    /** An ExclusionConstraint over `expressions` added in 0002, as `target` sees it. */
    const excluded = async (expressions: string, options: Parameters<typeof lint>[1] = {}, createSql = BY_CREATED) => {
      const [name, source] = later(`        migrations.AddConstraint("event", ExclusionConstraint(name="event_excl", expressions=${expressions})),`);
      return (await findings(project([["0001_initial", setup(createSql)], [name, EXCLUSION + source]]), options)).map((d) => ({ message: d.message, help: d.help.join("\n") }));
    };
    const pg17 = { target: { postgresVersion: 17 } };

    it("refuses every exclusion constraint on a partitioned table before PostgreSQL 17 (checked on PostgreSQL 15)", async () => {
      const [found, ...rest] = await excluded('[("created", RangeOperators.EQUAL), ("kind", "=")]');
      expect(rest).toEqual([]);
      expect(found?.message).toBe("`ExclusionConstraint` `event_excl` cannot be created on partitioned `shop_event`: PostgreSQL 15 supports no exclusion constraint on a partitioned table, and the migration fails.");
      expect(found?.help).toContain("`exclusion constraints are not supported on partitioned tables`");
      expect(found?.help).toContain("every partitioning column (`created`) with `=`");
      expect(found?.help).toContain("SeparateDatabaseAndState");
      // Whatever the key, and for a table the configuration lists (its key is not known).
      const [name, source] = later('        migrations.AddConstraint("event", ExclusionConstraint(name="event_excl", expressions=[("kind", "=")])),');
      const listed = project([["0001_initial", setup(["CREATE TABLE shop_event (id bigint PRIMARY KEY, created varchar(20), kind varchar(20), code varchar(20))"])], [name, EXCLUSION + source]]);
      expect(await findings(listed)).toEqual([]);
      expect(await findings(listed, { target: { tables: { partitioned: ["shop_event"], hot: [], large: [] } } })).toHaveLength(1);
      // The lock rule leaves the refused constraint to this one; from PostgreSQL 17 it reports the lock.
      const rules = async (options: Parameters<typeof lint>[1]) => (await lint([listed], { cwd: listed, ...options })).diagnostics.map((d) => d.rule);
      const tables = { partitioned: ["shop_event"], hot: [], large: [] };
      expect(await rules({ target: { tables } })).not.toContain("adding-exclusion-constraint");
      expect(await rules({ target: { tables, postgresVersion: 17 } })).toContain("adding-exclusion-constraint");
      expect(await rules({})).toContain("adding-exclusion-constraint");
    });

    it("from PostgreSQL 17, accepts one that compares every partitioning column with =", async () => {
      expect(await excluded('[("created", RangeOperators.EQUAL), ("code", RangeOperators.OVERLAPS)]', pg17)).toEqual([]);
      expect(await excluded('[(F("created"), "="), ("code", "&&")]', pg17)).toEqual([]);
      const [missing] = await excluded('[("code", RangeOperators.OVERLAPS)]', pg17);
      expect(missing?.message).toContain("it lacks the partitioning column `created`");
      expect(missing?.help).toContain('`EXCLUDE constraint on table "shop_event" lacks column "created" which is part of the partition key`');
      const [unequal] = await excluded('[("created", RangeOperators.OVERLAPS), ("code", "=")]', pg17);
      expect(unequal?.message).toContain("it compares the partitioning column `created` with `&&`, not `=`");
      expect(unequal?.help).toContain('`cannot match partition key to index on column "created" using non-equal operator "&&"`');
      // An expression that mentions the key column is not read: nothing is said.
      expect(await excluded('[(Lower("created"), "="), ("code", "&&")]', pg17)).toEqual([]);
    });

    it("reads ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE in RunSQL", async () => {
      const sql = (statement: string) =>
        project([["0001_initial", setup(BY_CREATED)], later(`        migrations.RunSQL(${JSON.stringify(statement)}, reverse_sql=migrations.RunSQL.noop),`)]);
      const [found] = await findings(sql("ALTER TABLE shop_event ADD CONSTRAINT event_excl EXCLUDE USING gist (created WITH =, code WITH =)"));
      expect(found?.message).toContain("PostgreSQL 15 supports no exclusion constraint on a partitioned table");
      expect(await findings(sql("ALTER TABLE shop_event ADD CONSTRAINT event_excl EXCLUDE USING gist (created WITH =, code WITH =)"), pg17)).toEqual([]);
      const [unequal] = await findings(sql('ALTER TABLE shop_event ADD CONSTRAINT event_excl EXCLUDE USING gist ("created" WITH <>, code WITH =)'), pg17);
      expect(unequal?.message).toContain("compares the partitioning column `created` with `<>`");
      expect(await findings(sql("ALTER TABLE shop_event_2024 ADD CONSTRAINT event_excl EXCLUDE USING gist (code WITH =)"))).toEqual([]);
    });
  });

  it("leaves alone state-only keys, tables whose key it does not know, ordinary tables and other databases", async () => {
    const stateOnly = project([
      ["0001_initial", setup(BY_CREATED)],
      later('        migrations.SeparateDatabaseAndState(state_operations=[migrations.AddConstraint("event", models.UniqueConstraint(fields=["code"], name="event_code_uniq"))]),'),
    ]);
    expect(await findings(stateOnly)).toEqual([]);
    const ordinary = project([
      ["0001_initial", setup(["CREATE TABLE shop_event (id bigint PRIMARY KEY, created varchar(20), kind varchar(20), code varchar(20))"])],
      later('        migrations.AddConstraint("event", models.UniqueConstraint(fields=["code"], name="event_code_uniq")),'),
    ]);
    expect(await findings(ordinary)).toEqual([]);
    // Listed in the configuration only: partitioned, but by what is not known.
    expect(await findings(ordinary, { target: { tables: { partitioned: ["shop_event"], hot: [], large: [] } } })).toEqual([]);
    const partitioned = project([["0001_initial", setup(BY_CREATED)], later('        migrations.AddConstraint("event", models.UniqueConstraint(fields=["code"], name="event_code_uniq")),')]);
    expect(await findings(partitioned, { target: { database: "mysql" } })).toEqual([]);
    expect(await findings(partitioned)).toHaveLength(1);
  });

  it("counts a squashed migration's table the same way as the migrations it replaces", async () => {
    const squashed = setup(BY_CREATED).replace("    initial = True\n", '    initial = True\n\n    replaces = [("shop", "0001_initial")]\n');
    const dir = project([
      ["0001_initial", setup(BY_CREATED)],
      ["0001_squashed_0001", squashed],
      later('        migrations.AddConstraint("event", models.UniqueConstraint(fields=["code"], name="event_code_uniq")),', "0002_keys", "0001_squashed_0001"),
    ]);
    const found = await findings(dir);
    expect(found.map((d) => d.file)).toEqual(["shop/migrations/0002_keys.py"]);
  });
});

describe("adding-foreign-key-to-partitioned-table", () => {
  const FK = "adding-foreign-key-to-partitioned-table";
  const fkFindings = async (dir: string, options: Parameters<typeof lint>[1] = {}) => (await lint([dir], { cwd: dir, ...options })).diagnostics.filter((d) => d.rule === FK);
  const ticket = (field: string) => later(`        migrations.CreateModel("Ticket", [("id", models.BigAutoField(primary_key=True)), ("event", ${field})]),`);

  it("flags a foreign key to the primary key of a table partitioned by another column, with the whole-key recipe", async () => {
    const dir = project([["0001_initial", setup(BY_CREATED)], ticket('models.ForeignKey(on_delete=models.CASCADE, to="shop.event")')]);
    const [found, ...rest] = await fkFindings(dir);
    expect(rest).toEqual([]);
    expect(found?.message).toBe("`Ticket.event` is a foreign key to `Event`, whose table `shop_event` is partitioned: PostgreSQL cannot reference `shop_event` (`id`), and the migration fails.");
    const help = found?.help.join("\n") ?? "";
    expect(help).toContain('there is no unique constraint matching given keys for referenced table "shop_event"');
    expect(help).toContain('("event", models.ForeignKey(on_delete=models.CASCADE, to="shop.event", db_constraint=False)),');
    expect(help).toContain("`FOREIGN KEY (event_id, event_created) REFERENCES shop_event (id, created)`");
  });

  it("accepts a reference to the whole partition key; before PostgreSQL 12 refuses every reference", async () => {
    const byId = ["CREATE TABLE shop_event (id bigint PRIMARY KEY, created varchar(20), kind varchar(20), code varchar(20)) PARTITION BY HASH (id)"];
    const dir = project([["0001_initial", setup(byId)], ticket('models.ForeignKey(on_delete=models.CASCADE, to="shop.event")')]);
    expect(await fkFindings(dir)).toEqual([]);
    const [old] = await fkFindings(dir, { target: { postgresVersion: 11 } });
    expect(old?.help[0]).toContain("PostgreSQL 11 cannot reference a partitioned table at all");
    expect(old?.help.join("\n")).not.toContain("REFERENCES");
  });

  it("refuses any reference when the partition key has an expression", async () => {
    const expression = ["CREATE TABLE shop_event (id bigint NOT NULL, created varchar(20) NOT NULL, kind varchar(20), code varchar(20)) PARTITION BY HASH ((id + 1))"];
    const [found] = await fkFindings(project([["0001_initial", setup(expression)], ticket('models.OneToOneField(on_delete=models.CASCADE, to="shop.event")')]));
    expect(found?.help[0]).toContain("the partition key of `shop_event` has an expression");
  });

  it("leaves alone an unchanged foreign key, tables whose key it does not know, unmanaged models and other databases", async () => {
    const fk = 'models.ForeignKey(on_delete=models.CASCADE, to="shop.event", db_constraint=False)';
    const unchanged = project([
      ["0001_initial", setup(BY_CREATED)],
      ticket(fk),
      later('        migrations.AlterField("ticket", "event", models.ForeignKey(on_delete=models.CASCADE, to="shop.event", db_constraint=False, null=True)),', "0003_null", "0002_keys"),
    ]);
    expect(await fkFindings(unchanged)).toEqual([]);
    const turnedOn = project([
      ["0001_initial", setup(BY_CREATED)],
      ticket(fk),
      later('        migrations.AlterField("ticket", "event", models.ForeignKey(on_delete=models.CASCADE, to="shop.event")),', "0003_constraint", "0002_keys"),
    ]);
    expect((await fkFindings(turnedOn)).map((d) => d.file)).toEqual(["shop/migrations/0003_constraint.py"]);
    const ordinary = project([["0001_initial", setup(["CREATE TABLE shop_event (id bigint PRIMARY KEY, created varchar(20), kind varchar(20), code varchar(20))"])], ticket('models.ForeignKey(on_delete=models.CASCADE, to="shop.event")')]);
    expect(await fkFindings(ordinary, { target: { tables: { partitioned: ["shop_event"], hot: [], large: [] } } })).toEqual([]);
    const unmanaged = project([["0001_initial", setup(BY_CREATED)], later('        migrations.CreateModel("Ticket", [("id", models.BigAutoField(primary_key=True)), ("event", models.ForeignKey(on_delete=models.CASCADE, to="shop.event"))], options={"managed": False}),')]);
    expect(await fkFindings(unmanaged)).toEqual([]);
    const partitioned = project([["0001_initial", setup(BY_CREATED)], ticket('models.ForeignKey(on_delete=models.CASCADE, to="shop.event")')]);
    expect(await fkFindings(partitioned, { target: { database: "mysql" } })).toEqual([]);
  });
});

describe("adding-foreign-key-to-partitioned-table in RunSQL", () => {
  const FK = "adding-foreign-key-to-partitioned-table";
  const sqlFindings = async (statement: string) => {
    const dir = project([
      ["0001_initial", setup(BY_CREATED)],
      later(`        migrations.CreateModel("Ticket", [("id", models.BigAutoField(primary_key=True)), ("event_id", models.BigIntegerField()), ("event_created", models.CharField(max_length=20))]),`),
      later(`        migrations.RunSQL(${JSON.stringify(statement)}, reverse_sql=migrations.RunSQL.noop),`, "0003_fk", "0002_keys"),
    ]);
    return (await lint([dir], { cwd: dir })).diagnostics.filter((d) => d.rule === FK);
  };

  it("reads the referenced columns, or the primary key the state gives the table", async () => {
    const [listed] = await sqlFindings("ALTER TABLE shop_ticket ADD CONSTRAINT ticket_event_fk FOREIGN KEY (event_id) REFERENCES shop_event (id)");
    expect(listed?.message).toContain("references `shop_event` (`id`), which is partitioned");
    expect(listed?.help[0]).toContain("must include the partitioning column `created`");
    const [implicit] = await sqlFindings("ALTER TABLE shop_ticket ADD FOREIGN KEY (event_id) REFERENCES shop_event");
    expect(implicit?.message).toContain("(`id`)");
    expect(await sqlFindings("ALTER TABLE shop_ticket ADD CONSTRAINT ticket_event_fk FOREIGN KEY (event_id, event_created) REFERENCES shop_event (id, created)")).toEqual([]);
  });

  it("references the key under the name Django renamed its column to", async () => {
    const dir = (statement: string) =>
      project([
        ["0001_initial", setup(BY_CREATED)],
        later(
          [
            '        migrations.RenameField("event", "created", "day"),',
            '        migrations.CreateModel("Ticket", [("id", models.BigAutoField(primary_key=True)), ("event_id", models.BigIntegerField()), ("event_day", models.CharField(max_length=20))]),',
          ].join("\n"),
        ),
        later(`        migrations.RunSQL(${JSON.stringify(statement)}, reverse_sql=migrations.RunSQL.noop),`, "0003_fk", "0002_keys"),
      ]);
    const found = async (statement: string) => {
      const project = dir(statement);
      return (await lint([project], { cwd: project })).diagnostics.filter((d) => d.rule === FK);
    };
    expect(await found("ALTER TABLE shop_ticket ADD CONSTRAINT ticket_event_fk FOREIGN KEY (event_id, event_day) REFERENCES shop_event (id, day)")).toEqual([]);
    const [old] = await found("ALTER TABLE shop_ticket ADD CONSTRAINT ticket_event_fk FOREIGN KEY (event_id) REFERENCES shop_event (id)");
    expect(old?.help[0]).toContain("must include the partitioning column `day`");
  });

  it("reads the foreign keys of CREATE TABLE and of ADD COLUMN ... REFERENCES", async () => {
    const [created, ...rest] = await sqlFindings("CREATE TABLE shop_note (id bigint PRIMARY KEY, event_id bigint REFERENCES shop_event, other_id bigint REFERENCES shop_note (id))");
    expect(rest).toEqual([]);
    expect(created?.message).toContain("`CREATE TABLE shop_note` references `shop_event` (`id`)");
    const [column] = await sqlFindings("ALTER TABLE shop_ticket ADD COLUMN parent_id bigint REFERENCES shop_event (id)");
    expect(column?.message).toContain("references `shop_event` (`id`)");
    expect(await sqlFindings("CREATE TABLE shop_note (id bigint PRIMARY KEY, event_id bigint, event_created varchar(20), FOREIGN KEY (event_id, event_created) REFERENCES shop_event (id, created))")).toEqual([]);
  });
});

describe("changing-partition-key-column", () => {
  const RS218 = "changing-partition-key-column";
  /** `operations` in 0002 on `shop_event` made by `createSql`: the messages of RS218's findings. */
  const changed = async (operations: string, options: Parameters<typeof lint>[1] = {}, createSql = BY_CREATED) => {
    const dir = project([["0001_initial", setup(createSql)], later(operations)]);
    return (await lint([dir], { cwd: dir, ...options })).diagnostics.filter((d) => d.rule === RS218);
  };

  it("flags dropping a key column, with PostgreSQL's refusal (checked on PostgreSQL 15)", async () => {
    const [found, ...rest] = await changed('        migrations.RemoveField("event", "created"),');
    expect(rest).toEqual([]);
    expect(found?.message).toBe("Removing `Event.created` drops column `created`, which is part of the partition key of `shop_event`: PostgreSQL refuses it, and the migration fails.");
    expect(found?.help[0]).toContain('`cannot drop column "created" because it is part of the partition key of relation "shop_event"`');
    expect(found?.related?.[0]?.message).toContain("`shop_event` is created as a partitioned table here");
    // A state-only removal leaves the column, and the contract step's DROP COLUMN is refused the same way.
    expect(await changed('        migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("event", "created")]),')).toEqual([]);
    const [dropped] = await changed('        migrations.RunSQL("ALTER TABLE shop_event DROP COLUMN IF EXISTS created", reverse_sql=migrations.RunSQL.noop),');
    expect(dropped?.message).toContain("drops column `created`, which is part of the partition key of `shop_event`");
    expect(await changed('        migrations.RemoveField("event", "kind"),')).toEqual([]);
  });

  it("flags every type change of a key column, widening included, and nothing else", async () => {
    const [widened] = await changed('        migrations.AlterField("event", "created", models.CharField(max_length=40)),');
    expect(widened?.message).toBe("Altering `Event.created` changes the type of column `created` from `varchar(20)` to `varchar(40)`, which is part of the partition key of `shop_event`: PostgreSQL refuses it, and the migration fails.");
    expect(widened?.help[0]).toContain('`cannot alter column "created" because it is part of the partition key of relation "shop_event"`');
    expect(await changed('        migrations.AlterField("event", "created", models.CharField(max_length=20, help_text="When")),')).toEqual([]);
    expect(await changed('        migrations.AlterField("event", "kind", models.CharField(max_length=40)),')).toEqual([]);
    const [sql] = await changed('        migrations.RunSQL("ALTER TABLE shop_event ALTER COLUMN created TYPE text", reverse_sql=migrations.RunSQL.noop),');
    expect(sql?.message).toContain("changes the type of column `created`");
  });

  it("reads the keys of sub-partitioned partitions, foreign-key columns and the key after renames", async () => {
    const subPartitioned = [
      "CREATE TABLE shop_event (id bigint NOT NULL, created varchar(20) NOT NULL, kind varchar(20) NOT NULL, code varchar(20) NOT NULL) PARTITION BY LIST (created)",
      "CREATE TABLE shop_event_a PARTITION OF shop_event FOR VALUES IN ('a') PARTITION BY LIST (kind)",
    ];
    const [sub] = await changed('        migrations.RemoveField("event", "kind"),', {}, subPartitioned);
    expect(sub?.message).toContain("part of the partition key of `shop_event_a`");
    const renamed = await changed('        migrations.RenameField("event", "created", "day"),\n        migrations.RemoveField("event", "day"),');
    expect(renamed.map((d) => d.message)).toEqual(["Removing `Event.day` drops column `day`, which is part of the partition key of `shop_event`: PostgreSQL refuses it, and the migration fails."]);
  });

  it("leaves alone tables whose key it does not know, ordinary tables and other databases", async () => {
    const plain = ["CREATE TABLE shop_event (id bigint PRIMARY KEY, created varchar(20), kind varchar(20), code varchar(20))"];
    expect(await changed('        migrations.RemoveField("event", "created"),', { target: { tables: { partitioned: ["shop_event"], hot: [], large: [] } } }, plain)).toEqual([]);
    expect(await changed('        migrations.RemoveField("event", "created"),', {}, plain)).toEqual([]);
    for (const database of ["mysql", "sqlite"] as const) expect(await changed('        migrations.RemoveField("event", "created"),', { target: { database } })).toEqual([]);
  });
});
