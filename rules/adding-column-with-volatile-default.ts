import { className } from "../src/state/model-state.js";
import { fieldOperation } from "../src/engine/resolved-operation.js";
import type { Rule } from "../src/engine/rule-types.js";
import type { PyValue } from "../src/model/types.js";
import { addFieldSnippet, alterFieldSnippet, code, defaultOnlyAlterField, fieldWith, postDeployMarker, py, pyValue, sqlIdent } from "../src/advice/snippets.js";

/** Django expressions that compile to VOLATILE PostgreSQL functions (`pg_proc.provolatile = 'v'`). */
const VOLATILE_EXPRESSIONS = /(^|\.)(RandomUUID|Random|UUID4|UUID7)$/;
/** VOLATILE PostgreSQL functions that appear in raw SQL (`RawSQL`, `Func(function=...)`). */
const VOLATILE_SQL = /\b(gen_random_uuid|uuid_generate_v[14]|uuidv[47]|random|clock_timestamp|timeofday|nextval|txid_current)\s*\(/i;

/** The volatile part of a `db_default` expression, or null when it is not (known to be) volatile. */
export function volatilePart(value: PyValue | null): string | null {
  if (!value) return null;
  switch (value.kind) {
    case "call": {
      if (VOLATILE_EXPRESSIONS.test(className(value))) return `${value.callee}()`;
      for (const arg of [...value.args, ...Object.values(value.kwargs)]) {
        if (arg.kind === "str" && VOLATILE_SQL.test(arg.value)) return arg.value;
        const inner = volatilePart(arg);
        if (inner) return inner;
      }
      return null;
    }
    case "list":
    case "tuple":
      for (const item of value.items) {
        const inner = volatilePart(item);
        if (inner) return inner;
      }
      return null;
    case "opaque":
      return VOLATILE_SQL.test(value.text) ? value.text : null;
    default:
      return null;
  }
}

/** RS114: `AddField` whose database default forces PostgreSQL to rewrite the table. */
export const addingColumnWithVolatileDefault: Rule = {
  meta: {
    code: "RS114",
    name: "adding-column-with-volatile-default",
    severity: "error",
    databases: ["postgresql"],
    claims: ["rewrite", "blocking-lock"],
    hazards: ["H24"],
    docs: {
      summary: "Adding a column whose database default is volatile (or any default before PostgreSQL 11)",
      what: "Flags `AddField` on an existing managed table when `db_default` is a volatile expression (`RandomUUID()`, `Random()`, `RawSQL`/`Func` calling `gen_random_uuid()`, `clock_timestamp()`, ...). With a target before PostgreSQL 11 it also flags any non-NULL default, including a Python `default`, which Django adds as a database default before dropping it. `Now()` compiles to `STATEMENT_TIMESTAMP()`, which is STABLE, so it is not flagged on PostgreSQL 11+.",
      why: "PostgreSQL 11+ stores a non-volatile default once in the catalog; a volatile one must be computed for every existing row, so `ADD COLUMN ... DEFAULT gen_random_uuid()` rewrites the whole table under an ACCESS EXCLUSIVE lock, blocking every read and write. Before PostgreSQL 11 every non-NULL default rewrites the table.",
      recipe: [
        "Add the column nullable, without a default (instant).",
        "Set the default in a separate `AlterField` (`ALTER COLUMN ... SET DEFAULT` is catalog-only and applies to new rows).",
        "Backfill existing rows in batches, then make the column NOT NULL without a long lock.",
      ],
      severityReason: "Error: the table rewrite blocks all reads and writes on the table for its whole duration.",
      bad: `migrations.AddField(
    model_name="book",
    name="public_id",
    field=models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID()),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="created",
    field=models.DateTimeField(db_default=django.db.models.functions.Now()),
)`,
    },
  },
  operationKinds: ["AddField"],
  operation(ctx) {
    const { op } = ctx;
    if (ctx.target.database !== "postgresql") return;
    if (op.kind !== "AddField" || ctx.effect === "state" || op.unknown) return;
    const added = fieldOperation(ctx);
    if (!added) return;
    const { model, name, after: field, call } = added;
    if (field.relation?.kind === "m2m" || field.generated || /AutoField$/.test(field.type)) return;
    const pg = ctx.target.postgresVersion;
    const volatile = field.hasDbDefault ? volatilePart(field.dbDefault) : null;
    const anyDefault = field.hasDbDefault
      ? field.dbDefault !== null && field.dbDefault.kind !== "none"
      : field.hasDefault && field.default !== null && field.default.kind !== "none";
    const oldServer = pg < 11 && anyDefault;
    if (!volatile && !oldServer) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(field) ?? name;
    const shown = field.hasDbDefault ? pyValue(field.dbDefault) : pyValue(field.default);
    const why = volatile
      ? `\`${volatile}\` is VOLATILE, so PostgreSQL must compute it for every existing row: \`ADD COLUMN ${column} ... DEFAULT\` rewrites all of \`${table}\` under an ACCESS EXCLUSIVE lock, and every read and write on the table waits.`
      : `Before PostgreSQL 11, \`ADD COLUMN ... DEFAULT\` with any non-NULL default writes the value into every row: \`${table}\` is rewritten under an ACCESS EXCLUSIVE lock${field.hasDbDefault ? "" : " (Django adds the Python default as a database default to fill existing rows, then drops it)"}.`;
    const nullable = fieldWith(call, { null: "True" }, ["default", "db_default", "unique", "primary_key"]);
    const steps: string[] = [`Add the column as nullable without any default (catalog-only):\n${addFieldSnippet(model.key, name, nullable)}`];
    if (field.hasDbDefault) {
      steps.push(
        `In the next operation set the database default; \`SET DEFAULT\` only changes the catalog and applies to new rows:\n${alterFieldSnippet(model.key, name, fieldWith(call, { null: "True" }, ["unique", "primary_key"]))}`,
      );
    } else {
      const attach = defaultOnlyAlterField(model.key, name, fieldWith(call, { null: "True" }, ["unique", "primary_key"]), {
        foreignKey: field.relation !== null && field.relation.dbConstraint,
        database: ctx.target.database,
        what: "`default`",
      });
      steps.push(`Then attach the Python default for new rows; ${attach.why}:\n${attach.text}`);
    }
    steps.push(
      `Backfill the existing rows in batches in a data migration with \`atomic = False\`${volatile ? `, e.g.:\n${code(`migrations.RunSQL(${py(`UPDATE ${sqlIdent(table)} SET ${sqlIdent(column)} = ${/RandomUUID|gen_random_uuid/i.test(volatile) ? "gen_random_uuid()" : "..."} WHERE ${sqlIdent(column)} IS NULL AND id BETWEEN %s AND %s`)}, ...)`)}` : "."}`,
      `If the column must be NOT NULL${field.unique ? " or unique" : ""}, add that in a migration marked ${postDeployMarker(ctx.target.markerStyle)} (see \`setting-column-not-null\`).`,
    );
    ctx.report({
      range: op.range,
      message: `Adding \`${model.name}.${name}\` with default \`${shown}\` rewrites \`${table}\` under an exclusive lock${volatile ? "" : ` on PostgreSQL ${pg}`}.`,
      help: [why, ...steps.map((s, i) => `${i + 1}. ${s}`)],
    });
  },
};
