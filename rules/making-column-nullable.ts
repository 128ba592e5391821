import type { Rule } from "../src/engine/rule-types.js";
import { fieldOperation } from "../src/engine/resolved-operation.js";
import { dropsForeignKey } from "../src/engine/field-changes.js";
import { isAutoIncrement, literalString } from "../src/state/model-state.js";

/**
 * RS120 (opt-in, H11): `AlterField` that drops NOT NULL on an existing column. Harmless for the
 * database, but once the new release writes NULL, the old release (and reports, exports, other
 * services reading the table) may meet a NULL where it assumed a value.
 */
export const makingColumnNullable: Rule = {
  meta: {
    code: "RS120",
    name: "making-column-nullable",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H11"],
    docs: {
      summary: "A NOT NULL column made nullable while code may assume it always has a value (opt-in)",
      what:
        "Flags `AlterField` that turns `null=False` into `null=True` on an existing, managed table, unless the same migration then removes the field from the model state (the expand step of removing a column, which `dropping-column` advises).",
      why:
        "`DROP NOT NULL` is a quick metadata change, and the old release keeps working against it. The risk is in the data: as soon as the new release stores NULL, the old release still running, and every other reader of the table (reports, exports, other services, `values_list` code that formats the value), meets a NULL in a column it has always read as set.",
      recipe: [
        "Ship the nullable column first and keep writing values until no code that assumes a value runs any more.",
        "Then let the new release write NULL, and update the readers outside this codebase at the same time.",
      ],
      severityReason: "Warning, opt-in: it is also the expand step of many safe recipes, and whether old readers assume a value is a question about the code, not the schema.",
      bad: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=200, null=True),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="subtitle",
    field=models.CharField(max_length=300, null=True),
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    const resolved = fieldOperation(ctx);
    if (!resolved || ctx.op.kind !== "AlterField" || !resolved.before) return;
    const { model, name, before, after } = resolved;
    if (before.null !== false || after.null !== true || before.relation?.kind === "m2m") return;
    // An auto-increment key that stops being one: removing-auto-increment says what the old release gets (NULL ids).
    if (isAutoIncrement(before) && !isAutoIncrement(after) && ctx.target.database === "postgresql") return;
    // The expand step before a state-only removal of the same field in this migration.
    const removedLater = ctx.migration.operations.some(
      (op) =>
        op.range.startOffset > ctx.op.range.startOffset &&
        [op, ...(op.stateOperations ?? [])].some(
          (o) => o.kind === "RemoveField" && literalString(o.args.model_name)?.toLowerCase() === model.key && literalString(o.args.name) === name,
        ),
    );
    if (removedLater) return;
    const column = ctx.columnOf(after) ?? name;
    const table = ctx.tableOf(model);
    // A constrained foreign key: Django drops its constraint and adds it back, validated (treeherder model 0020).
    const readds = ctx.target.database !== "sqlite" && dropsForeignKey(before, after);
    const change =
      ctx.target.database === "mysql"
        ? readds
          ? "rebuilds the table, and Django also drops the foreign key constraint and adds it back, which copies the table (adding-foreign-key-constraint reports that),"
          : "rebuilds the table in place (MySQL: reads and writes go on)"
        : ctx.target.database === "sqlite"
          ? "remakes the table (SQLite)"
          : readds
            ? "drops NOT NULL instantly, though Django also drops the foreign key constraint and adds it back, checking every row (adding-foreign-key-constraint reports that),"
            : "is instant";
    ctx.report({
      range: ctx.op.range,
      message: `Making \`${model.name}.${name}\` nullable lets NULL into \`${table}.${column}\`, which code deployed today reads as always set.`,
      help: [
        `The schema change itself ${change} and the old release keeps working; the first NULL the new release stores is what an old instance, a report or another service reading \`${column}\` may not handle.`,
        `1. Deploy this migration, but keep writing a value to \`${model.name}.${name}\` until every reader handles NULL.`,
        "2. Then let the code write NULL, together with the changes to the readers outside this codebase.",
      ],
      related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was defined NOT NULL here`)] : undefined,
    });
  },
};
