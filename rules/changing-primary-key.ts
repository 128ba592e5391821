import type { Rule } from "../src/engine/rule-types.js";
import { code, djangoIndexName, nonAtomicMigration, py, pyValue, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";
import { fieldOperation, uniqueConstraintOf } from "../src/engine/resolved-operation.js";
import { primaryKeyOf } from "../src/state/model-state.js";

const WHY =
  "Django adds the new primary key with `ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY (...)` (after dropping the old one), which holds an ACCESS EXCLUSIVE lock on the table while PostgreSQL scans it and builds the unique index: every read and write of the table waits until it is done.";

/** RS207: `AlterField(primary_key=True)` on a column of an existing table. */
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
      what: "Flags `AlterField` that sets `primary_key=True` on a field that was not the primary key, on an existing managed table (also inside `SeparateDatabaseAndState.database_operations`). Changing the type of a primary key is `changing-primary-key-type`; tables created in the same migration, unmanaged models and state-only changes are not flagged.",
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
  operationKinds: ["AlterField"],
  operation(ctx) {
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
