import type { Rule } from "../src/engine/rule-types.js";
import type { Operation } from "../src/model/types.js";
import { literalString } from "../src/state/model-state.js";
import { migrationModule, py } from "../src/advice/snippets.js";

/** Operations of the migration in the order Django runs them against the database. */
function databaseOperations(ops: Operation[]): Operation[] {
  return ops.flatMap((op) => (op.kind === "SeparateDatabaseAndState" ? databaseOperations(op.databaseOperations ?? []) : op.kind === "RunSQL" || op.kind === "RunPython" ? [] : [op]));
}

/** The model an operation acts on (`model_name`, or `name` for model-level operations). */
function modelOf(op: Operation): string | null {
  return (literalString(op.args.model_name) ?? (op.kind.startsWith("Alter") || op.kind === "CreateModel" ? literalString(op.args.name) : null))?.toLowerCase() ?? null;
}

/** RS204: `ValidateConstraint` in the same atomic migration that already locked the table. */
export const validatingConstraintInSameTransaction: Rule = {
  meta: {
    code: "RS204",
    name: "validating-constraint-in-same-transaction",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    unobservable: "The validation scan is instant on a small table; the ACCESS EXCLUSIVE lock held from the earlier operation is observable.",
    hazards: ["H20"],
    docs: {
      summary: "Validating a constraint in the same transaction that added it",
      what: "Flags `ValidateConstraint` in an atomic migration (the default) when an earlier operation of the same migration changed the same table, typically the `AddConstraintNotValid` it validates.",
      why: "`AddConstraintNotValid` takes ACCESS EXCLUSIVE (briefly) and an atomic migration keeps every lock until COMMIT. `VALIDATE CONSTRAINT` then scans the whole table while that exclusive lock is still held, so reads and writes are blocked for the scan: exactly what NOT VALID was meant to avoid.",
      recipe: ["Move `ValidateConstraint` into the next migration, so the exclusive lock is released before the scan starts."],
      severityReason: "Error: the table is locked against reads and writes for the whole validation scan.",
      bad: `django.contrib.postgres.operations.AddConstraintNotValid(
    model_name="book",
    constraint=models.CheckConstraint(check=models.Q(pages__gte=0), name="book_pages_gte_0"),
),
django.contrib.postgres.operations.ValidateConstraint(model_name="book", name="book_pages_gte_0")`,
      good: `django.contrib.postgres.operations.AddConstraintNotValid(
    model_name="book",
    constraint=models.CheckConstraint(check=models.Q(pages__gte=0), name="book_pages_gte_0"),
)`,
    },
  },
  operationKinds: ["ValidateConstraint"],
  operation(ctx) {
    const { op, migration } = ctx;
    if (ctx.target.database !== "postgresql" || op.kind !== "ValidateConstraint" || ctx.effect === "state" || op.unknown || !migration.atomic) return;
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    if (!model || !name || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const ops = databaseOperations(migration.operations);
    const at = ops.indexOf(op);
    const earlier = ops.slice(0, at < 0 ? 0 : at).filter((o) => !o.unknown && o.kind !== "ValidateConstraint" && modelOf(o) === model.key);
    if (earlier.length === 0) return;
    const adder = earlier.find((o) => o.kind === "AddConstraintNotValid" && o.args.constraint?.kind === "call" && literalString(o.args.constraint.kwargs.name) === name);
    const first = adder ?? (earlier[0] as Operation);
    const table = ctx.tableOf(model);
    ctx.report({
      range: op.range,
      message: `\`ValidateConstraint\` \`${name}\` scans \`${table}\` in the same transaction as the earlier \`${first.kind}\`, which holds an exclusive lock until commit.`,
      help: [
        `The migration is atomic, so the lock \`${first.kind}\` took on \`${table}\` (ACCESS EXCLUSIVE for ALTER TABLE) is held until the whole migration commits; the validation scan runs under it, blocking every read and write.`,
        `1. Move the validation into the next migration, which runs in its own transaction and takes only SHARE UPDATE EXCLUSIVE:\n${migrationModule(
          [`ValidateConstraint(model_name=${py(model.key)}, name=${py(name)}),`],
          { atomic: true, imports: ["from django.contrib.postgres.operations import ValidateConstraint"] },
        )}`,
      ],
      related: [ctx.relatedAt({ file: migration.path, range: first.range }, `\`${table}\` was locked here, in the same transaction`)],
    });
  },
};
