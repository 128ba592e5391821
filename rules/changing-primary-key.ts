import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { addFieldSnippet, code, djangoIndexName, fieldWith, nonAtomicMigration, py, pyValue, separateDatabaseAndState, sqlConstant, sqlIdent } from "../src/advice/snippets.js";
import { fieldOperation, uniqueConstraintOf } from "../src/engine/resolved-operation.js";
import { literalBool, primaryKeyOf } from "../src/state/model-state.js";

const WHY =
  "Django adds the new primary key with `ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY (...)` (after dropping the old one), which holds an ACCESS EXCLUSIVE lock on the table while PostgreSQL scans it and builds the unique index: every read and write of the table waits until it is done.";

/** RS207: `AlterField(primary_key=True)` on a column of an existing table, or `AddField` of a new primary key. */
export const changingPrimaryKey: Rule = {
  meta: {
    code: "RS207",
    name: "changing-primary-key",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    hazards: ["H27"],
    docs: {
      summary: "Making an existing column the primary key",
      what: "Flags `AlterField` that sets `primary_key=True` on a field that was not the primary key, and `AddField` of a primary key (not an auto-increment one, whose rows are numbered: `adding-auto-increment-column`), on an existing managed table (also inside `SeparateDatabaseAndState.database_operations`). An added primary key also fails on a table with rows: its default fills every row with one value (a callable is called once), so the unique index fails at the second row, and without a default the first row has no value. Changing the type of a primary key is `changing-primary-key-type`; tables created in the same migration, unmanaged models and state-only changes are not flagged.",
      why: `${WHY} A column that allows NULL is also set NOT NULL in the same statement, another full scan under the lock.`,
      recipe: [
        "Make sure the column is NOT NULL and unique in the data (see `setting-column-not-null` for the NOT NULL part without a long lock).",
        "In an `atomic = False` migration, build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY`.",
        "In the next migration, swap the constraint in one short statement: `ALTER TABLE ... DROP CONSTRAINT <old pk>, ADD CONSTRAINT ... PRIMARY KEY USING INDEX ...`, inside `SeparateDatabaseAndState` whose `state_operations` hold the `AlterField` (and the removal of the old primary-key field, if any).",
      ],
      severityReason: "Error: the whole table is locked against reads and writes for the length of a full scan and index build.",
      bad: `migrations.AddField(model_name="book", name="number", field=models.BigIntegerField(db_default=0)),
migrations.AlterField(
    model_name="book",
    name="number",
    field=models.BigIntegerField(db_default=0, primary_key=True, serialize=False),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="author",
    field=models.ForeignKey(on_delete=models.CASCADE, to="library.author", help_text="Written by"),
)`,
    },
  },
  operationKinds: ["AlterField", "AddField"],
  operation(ctx) {
    if (ctx.op.kind === "AddField") {
      addedPrimaryKey(ctx);
      return;
    }
    if (ctx.target.database !== "postgresql") return;
    const change = fieldOperation(ctx);
    if (!change || ctx.op.kind !== "AlterField") return;
    const { model, name, before, after } = change;
    if (!before || before.primaryKey || !after.primaryKey) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(after) ?? name;
    const index = djangoIndexName(table, [column], "_pk");
    const oldPk = primaryKeyOf(model);
    // Django finds the old primary key by introspection; its name is the one it was created with.
    const oldPkName = oldPk ? uniqueConstraintOf(ctx, model, oldPk) : null;
    const dropOld = oldPk ? `DROP CONSTRAINT ${sqlIdent(oldPkName ?? `${table}_pkey`)}, ` : "";
    const swap = `ALTER TABLE ${sqlIdent(table)} ${dropOld}ADD CONSTRAINT ${sqlIdent(index)} PRIMARY KEY USING INDEX ${sqlIdent(index)}`;
    const build = `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(index)} ON ${sqlIdent(table)} (${sqlIdent(column)})`;
    const alter = `migrations.AlterField(model_name=${py(model.key)}, name=${py(name)}, field=${pyValue(ctx.op.args.field)}),`;
    const help = [
      WHY,
      ...(after.null === false && before.null !== false
        ? [`\`${column}\` allows NULL today, so the same statement also sets it NOT NULL with a full scan: make it NOT NULL first (a validated CHECK constraint lets PostgreSQL skip that scan).`]
        : []),
      `1. Build the unique index without blocking writes, in a migration of its own:\n${nonAtomicMigration([
        `migrations.RunSQL(\n    ${py(build)},\n    reverse_sql=${py(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(index)}`)},\n)`,
      ])}`,
      `2. Then swap the primary key in one short statement (ACCESS EXCLUSIVE only for the catalog change), and tell Django in the state:\n${code(
        separateDatabaseAndState(
          [`${alter}${oldPk ? `\n# and the RemoveField/AlterField of the old primary key \`${oldPk.name}\`, as makemigrations wrote it` : ""}`],
          [`migrations.RunSQL(\n    ${py(swap)},\n    reverse_sql=migrations.RunSQL.noop,\n),`],
        ),
      )}`,
      ...(oldPk
        ? [
            `${oldPkName ? "" : `\`${table}_pkey\` is PostgreSQL's name for a primary key created with the table; check the real name with \`\\d ${table}\`. `}Foreign keys that reference \`${oldPk.name}\` depend on it and must be dropped (or moved) first.`,
          ]
        : []),
    ];
    ctx.report({
      range: ctx.op.range,
      message: `Making \`${model.name}.${name}\` the primary key adds a PRIMARY KEY constraint on \`${table}\` under an ACCESS EXCLUSIVE lock while the index is built.`,
      help,
    });
  },
};

/**
 * `AddField` of a primary key to an existing table (pulpcore core 0008: the parent link that makes
 * a model a child, added as its new primary key). Django writes `ADD COLUMN ... DEFAULT <value>
 * NOT NULL PRIMARY KEY`: the default fills every existing row with one value (a callable is called
 * once), so the PRIMARY KEY's unique index fails on a table with two rows (PostgreSQL 15 and
 * Django 4.2: could not create unique index "<table>_pkey", Key (...) is duplicated), and without
 * a default the NOT NULL fails on any row; either way it is built under the ADD COLUMN's ACCESS
 * EXCLUSIVE lock. Auto-increment columns number the rows (adding-auto-increment-column).
 */
function addedPrimaryKey(ctx: OperationContext): void {
  const change = fieldOperation(ctx);
  if (!change || !change.after.primaryKey || /AutoField$/.test(change.after.type) || change.after.hasDbDefault) return;
  const { model, name, after, call } = change;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(after) ?? name;
  const value = after.hasDefault && after.default && after.default.kind !== "none" ? after.default : null;
  const shown = value === null ? null : (sqlConstant(value) ?? (value.kind === "name" ? `\`${pyValue(value)}()\`'s one value` : `\`${pyValue(value)}\``));
  const pkey = `${table}_pkey`;
  const index = djangoIndexName(table, [column], "_pk");
  const build = `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(index)} ON ${sqlIdent(table)} (${sqlIdent(column)})`;
  // The old primary key, when the table still has one in the database (its RemoveField, as the
  // recipe keeps it, changes only the state), is dropped in the same statement.
  const swap = `ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(pkey)}, ADD CONSTRAINT ${sqlIdent(index)} PRIMARY KEY USING INDEX ${sqlIdent(index)}`;
  const relation = after.relation !== null && after.relation !== undefined;
  const plain = relation
    ? `a nullable \`ForeignKey\` to the same model (a \`OneToOneField\` is unique, and its index would be built under the lock)`
    : `a nullable field without \`primary_key\`:\n${addFieldSnippet(model.key, name, fieldWith(call, { null: "True" }, ["primary_key", "serialize", "default", "unique"]))}`;
  ctx.report({
    range: ctx.op.range,
    message:
      value === null
        ? `Adding \`${model.name}.${name}\` as the primary key of \`${table}\` gives existing rows no value: the migration fails on a table with rows, and the PRIMARY KEY index is built under an ACCESS EXCLUSIVE lock.`
        : `Adding \`${model.name}.${name}\` as the primary key of \`${table}\` fills every existing row with the same default, so building its unique index fails once the table has two rows, under an ACCESS EXCLUSIVE lock.`,
    help: [
      value === null
        ? `Django runs \`ALTER TABLE ${sqlIdent(table)} ADD COLUMN ${sqlIdent(column)} ... NOT NULL PRIMARY KEY\` with no default: PostgreSQL cannot fill the existing rows ("column "${column}" contains null values"), and the migration rolls back.`
        : `Django runs \`ALTER TABLE ${sqlIdent(table)} ADD COLUMN ${sqlIdent(column)} ... DEFAULT ... NOT NULL PRIMARY KEY\`: every existing row gets ${shown}, and PostgreSQL builds the primary key's unique index \`${pkey}\` while it holds ACCESS EXCLUSIVE on the table (reads and writes wait); with two rows it stops with "could not create unique index "${pkey}"" and the migration rolls back.`,
      `1. In this release, add \`${column}\` as ${plain}`,
      `2. Fill every existing row with its own value in a batched data migration (\`atomic = False\`)${literalBool(after.kwargs.parent_link) === true ? ", creating each row's parent row first (a parent link points at the row of the parent model that holds the inherited fields)" : ""}; make the release write it for new rows.`,
      `3. Build the unique index without blocking writes, in a migration of its own, after making \`${column}\` NOT NULL (a validated CHECK constraint first lets PostgreSQL skip the scan):\n${nonAtomicMigration([
        `migrations.RunSQL(\n    ${py(build)},\n    reverse_sql=${py(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(index)}`)},\n)`,
      ])}`,
      `4. Then make it the primary key in one short statement (ACCESS EXCLUSIVE only for the catalog change), and give Django the state this migration gives it:\n${code(
        separateDatabaseAndState(
          [`migrations.AlterField(model_name=${py(model.key)}, name=${py(name)}, field=${pyValue(call)}),\n# and the RemoveField of the old primary key, if this migration has one`],
          [`migrations.RunSQL(\n    ${py(swap)},\n    reverse_sql=migrations.RunSQL.noop,\n),`],
        ),
      )}`,
      `Foreign keys that reference the old primary key depend on \`${pkey}\` and must be dropped (or moved) first; drop the old key's column in a later release, once no release reads it.`,
    ],
  });
}
