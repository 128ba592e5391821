import { code, postDeployMarker, py, pyValue, runSqlLines, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";
import { fieldOperation } from "../src/engine/resolved-operation.js";
import type { Rule } from "../src/engine/rule-types.js";
import { isAutoIncrement } from "../src/state/model-state.js";
import { columnTypeOf, formatColumnType } from "./changing-column-type.js";
import { pinnedColumnChange } from "./renaming-column.js";

/** RS122: `AlterField` from an auto-increment field to a plain one on an existing table. */
export const removingAutoIncrement: Rule = {
  meta: {
    code: "RS122",
    name: "removing-auto-increment",
    severity: "error",
    databases: ["postgresql"],
    claims: ["old-code-breaks"],
    hazards: [],
    docs: {
      summary: "Turning an auto-increment (identity) column into a plain one while the old release inserts rows",
      what: "Flags `AlterField` from `AutoField`, `BigAutoField` or `SmallAutoField` to a field that is not auto-increment (`IntegerField`, `BigIntegerField`...) on an existing managed table (also inside `SeparateDatabaseAndState.database_operations`). When the field also stops being the primary key, the message says that Django drops the primary key constraint too. A change between auto-increment classes is `changing-primary-key-type`.",
      why: "Django's PostgreSQL schema editor runs `ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY IF EXISTS` and drops the column's sequence (`DROP SEQUENCE IF EXISTS ... CASCADE`, for a column made before Django 4.1). The running release's INSERTs leave the column out and rely on the database for its value: from the moment the migration commits they fail with a NOT NULL violation, or, if the field also became nullable, store NULL ids.",
      recipe: [
        "Change the field in Django's state only, so the database keeps numbering rows for both releases: the `AlterField` in the `state_operations` of a `SeparateDatabaseAndState` with no `database_operations`.",
        "Once no release inserts rows without the value, in a post-deploy migration, drop the identity (and a serial column's default and sequence) with `RunSQL`.",
      ],
      severityReason: "Error: every INSERT of the running release fails (or stores a NULL key) from the migration on.",
      bad: `migrations.AlterField(
    model_name="book",
    name="id",
    field=models.BigIntegerField(primary_key=True, serialize=False),
)`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.AlterField(
            model_name="book",
            name="id",
            field=models.BigIntegerField(primary_key=True, serialize=False),
        ),
    ],
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AlterField" || ctx.effect === "state" || op.unknown || ctx.target.database !== "postgresql") return;
    const change = fieldOperation(ctx);
    if (!change?.before || !isAutoIncrement(change.before) || isAutoIncrement(change.after)) return;
    const { model, name, before, after } = change;
    const table = ctx.tableOf(model);
    // An AlterField that also moves the column (TabbyCat adjfeedback: an AutoField `question_ptr`
    // made the OneToOneField parent link `question_ptr_id`): the recipe keeps it where it is, as
    // renaming-column advises, so the identity to drop is on the column as it is.
    const pinned = pinnedColumnChange(ctx, change);
    const column = pinned?.column ?? ctx.columnOf(after) ?? name;
    const beforeType = columnTypeOf(before, ctx.state, ctx.target.database);
    const afterType = columnTypeOf(after, ctx.state, ctx.target.database);
    const sameType = beforeType !== null && afterType !== null && formatColumnType(beforeType) === formatColumnType(afterType);
    const droppedKey = before.primaryKey && !after.primaryKey;
    // What Django runs, on the column as the AlterField leaves it; the recipe's SQL, on the column kept.
    const djangoAlter = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(ctx.columnOf(after) ?? name)}`;
    const alter = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)}`;
    // A serial column's sequence is `<table>_<column>_seq` when that fits PostgreSQL's 63 bytes
    // (longer names are cut by rules of its own: left to `\d`).
    const sequence = `${table}_${column}_seq`;
    const dropGenerator = `${alter} DROP IDENTITY IF EXISTS; ${alter} DROP DEFAULT;${sequence.length <= 63 ? ` DROP SEQUENCE IF EXISTS ${sqlIdent(sequence)};` : ""}`;
    const help = [
      `Django runs \`${djangoAlter} DROP IDENTITY IF EXISTS\`${pinned ? ` (after renaming \`${pinned.column}\` to \`${pinned.renamedTo}\`)` : ""} and drops the column's sequence if it has one (a column made before Django 4.1). The old release's INSERTs leave \`${column}\` out and rely on the database for it: ${
        after.null === true ? `they now store NULL in \`${column}\`` : `they now fail with "null value in column "${column}" of relation "${table}" violates not-null constraint"`
      }, from the moment the migration commits until the old release is gone.`,
      ...(droppedKey
        ? [
            `The field also stops being the primary key: Django drops \`${table}\`'s primary key constraint too (which fails if a foreign key still references it: "cannot drop constraint ... because other objects depend on it"), and nothing keeps \`${column}\` unique any more.`,
          ]
        : []),
      ...(droppedKey && after.null === true
        ? [
            `Unless an earlier operation dropped that constraint (umap 0018 does, with \`RunSQL\`), the migration fails first: Django makes the column nullable before it drops the key, and PostgreSQL refuses ("column "${column}" is in a primary key").`,
          ]
        : []),
    ];
    if (sameType && !droppedKey) {
      help.push(
        `1. Make the change in Django's state only, so the database keeps numbering rows for both releases${pinned ? ` (with \`db_column=${py(pinned.column)}\`, so the column keeps its name)` : ""}:\n${code(separateDatabaseAndState([pinned ? `${pinned.source},` : `migrations.AlterField(model_name=${py(model.key)}, name=${py(name)}, field=${pyValue(op.args.field)}),`], []))}`,
        `2. Once no running release inserts rows without \`${column}\`, drop the identity (and a serial column's default and sequence) in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${code(runSqlLines(dropGenerator, null))}`,
      );
    } else {
      help.push(
        `1. Keep \`${column}\` numbered by the database until no running release inserts rows without it: ship the new release with this field change left out of the database (in Django's state only), and make the database change in a migration marked ${postDeployMarker(ctx.target.markerStyle)}${
          beforeType && afterType && !sameType ? ` (the column's type changes too, \`${formatColumnType(beforeType)}\` to \`${formatColumnType(afterType)}\`: see \`changing-primary-key-type\`)` : ""
        }.`,
      );
    }
    ctx.report({
      range: op.range,
      message: `Changing \`${model.name}.${name}\` from \`${before.type}\` to \`${after.type}\` drops the identity of \`${table}.${column}\`: the old release's INSERTs, which leave it to the database, ${after.null === true ? "store NULL" : "fail"}.`,
      help,
    });
  },
};
