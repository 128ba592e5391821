import { defaultSetLater, LATER_TRANSACTION } from "../src/engine/default-set-later.js";
import { fieldOperation } from "../src/engine/resolved-operation.js";
import type { Rule } from "../src/engine/rule-types.js";
import { literalBool } from "../src/state/model-state.js";
import { addFieldSnippet, code, containerDefault, dbDefaultFor, djangoHas, fieldWith, literalTimedelta, postDeployMarker, pyValue, setDefaultStep, sqlIdent, py } from "../src/advice/snippets.js";
import { perRowCallable } from "./adding-column-with-callable-default.js";

/** RS109: nullable `AddField` with a Python `default` but no `db_default`. */
export const addingNullableColumnWithDefault: Rule = {
  meta: {
    code: "RS109",
    name: "adding-nullable-column-with-default",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H08"],
    docs: {
      summary: "Adding a nullable column with a Python `default` but no database default",
      what: "Flags `AddField` of a `null=True` field with a literal `default=` (a string, number or boolean, a `DurationField`'s `timedelta(...)` of numbers, or on PostgreSQL in an atomic migration a JSON or array column's container: `default=dict`, `default=list`, a literal) and no `db_default` on an existing managed table, in a migration that runs before the new release is live, unless (on PostgreSQL, in an atomic migration) a later operation of the migration gives the column a database default (`RunSQL` with `ALTER COLUMN ... SET DEFAULT`, django-add-default-value's `AddDefaultValue`). Callable defaults are reported by `adding-column-with-callable-default`.",
      why: "Django fills the existing rows with the default and then drops the database default. The old release does not know the column, so the rows it inserts during the rollout get NULL instead of the default, and code that trusts the default later finds NULLs.",
      recipe: [
        "Django 5.0+: set `db_default=` to the same value, so the database fills the column for the old release too.",
        "Before Django 5.0: after the deploy, fill the NULLs left by the old release again in a batched post-deploy data migration.",
      ],
      severityReason: "Warning: nothing fails; rows written by the old release during the rollout get NULL instead of the default.",
      bad: `migrations.AddField(
    model_name="book",
    name="language",
    field=models.CharField(default="en", max_length=5, null=True),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="language",
    field=models.CharField(db_default="en", default="en", max_length=5, null=True),
)`,
    },
  },
  operationKinds: ["AddField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AddField" || ctx.effect === "state" || op.unknown || ctx.stage === "post") return;
    const added = fieldOperation(ctx);
    if (!added) return;
    const { model, name, after: field, call } = added;
    if (field.null !== true || field.hasDbDefault || !field.hasDefault || field.relation?.kind === "m2m" || field.generated) return;
    // Literal values only: callables are `adding-column-with-callable-default`'s, and a named
    // constant or `dict`/`list` cannot be turned into a `db_default` statically.
    // A DurationField's literal `timedelta(...)` is a constant too.
    const duration = field.type === "DurationField" && literalTimedelta(field.default ?? null) !== null;
    // A JSON or array column's container default (`default=dict`, `default=list`, a literal):
    // one value Django fills the rows with, as a constant would be (koku reporting_common 0032).
    // Its recipe is PostgreSQL's SET DEFAULT in the same transaction; db_default takes no container.
    const container = containerDefault(field.default ?? null, field.type);
    if (container !== null && (ctx.target.database !== "postgresql" || !ctx.migration.atomic)) return;
    if (!field.default || !(duration || container !== null || ["str", "int", "float", "bool", "bytes"].includes(field.default.kind)) || (container === null && perRowCallable(field.default))) return;
    // preserve_default=False: the new release has no default either, so both write NULL alike.
    if (literalBool(op.args.preserve_default) === false) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(field) ?? name;
    // A column name an earlier RenameField of the migration freed (pretalx common 0009: `data`
    // renamed to `legacy_data`, a new `data` added): the old release writes its own values there,
    // not NULL; renaming-column says what that does.
    if ([...model.fields.values()].some((f) => f.columnBefore?.migration === ctx.migration.id && f.columnBefore.column === column && ctx.columnOf(f) !== column)) return;
    const setLater = defaultSetLater(ctx, model, name, table, column);
    if (setLater === "same-transaction") return;
    // `default=dict` fills the rows with {} (its SQL form for a container).
    const value = container !== null && field.default.kind === "name" ? (field.default.name === "list" ? "[]" : "{}") : pyValue(field.default);
    const dbValue = dbDefaultFor(field.default);
    const help: string[] = [
      `Django fills the existing rows of \`${table}\` with ${value} and then drops the database default. The old release does not know \`${column}\`, so the rows it inserts during the rollout get NULL instead of ${value}.`,
    ];
    if (setLater === "later-transaction") help.push(LATER_TRANSACTION);
    const setDefault = ctx.target.database === "postgresql" && ctx.migration.atomic && (!djangoHas(ctx.target, 5, 0) || container !== null) ? setDefaultStep(table, column, field.default, field.type) : null;
    if (setDefault) {
      help.push(`1. ${setDefault}`, ...(container === null ? [`(From Django 5.0, \`db_default=${dbValue ?? value}\` on the field does this in one step.)`] : []));
    } else if (djangoHas(ctx.target, 5, 0) && dbValue !== null) {
      help.push(`1. Let the database apply the default for every writer (instant on ${ctx.target.database === "postgresql" ? "PostgreSQL 11+" : ctx.target.database === "mysql" ? "MySQL 8" : "SQLite"} for a constant):\n${addFieldSnippet(model.key, name, fieldWith(call, { db_default: dbValue }))}`);
    } else {
      help.push(
        `1. Keep this migration, and after the new release is live fill the rows the old release left NULL, in a batched data migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${code(
          [
            "migrations.RunSQL(",
            `    [(${py(`UPDATE ${sqlIdent(table, ctx.target.database)} SET ${sqlIdent(column, ctx.target.database)} = %s WHERE ${sqlIdent(column, ctx.target.database)} IS NULL`)}, [${value}])],`,
            "    reverse_sql=migrations.RunSQL.noop,",
            ")",
          ].join("\n"),
        )}\n   (on a large table, batch it by primary key range in a migration with \`atomic = False\`).`,
      );
      if (!djangoHas(ctx.target, 5, 0)) help.push(`(From Django 5.0, \`db_default=${dbValue ?? value}\` does this in the database.)`);
    }
    ctx.report({
      range: op.range,
      message: `Adding nullable \`${model.name}.${name}\` with \`default=${pyValue(field.default)}\` but no \`db_default\`: rows the old release inserts into \`${table}\` get NULL.`,
      help,
    });
  },
};
