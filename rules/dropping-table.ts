import type { Rule } from "../src/engine/rule-types.js";
import { literalString } from "../src/state/model-state.js";
import { removalsBefore } from "../src/engine/dropped-later.js";
import { dropTablesSql, postDeployMarker, stateOnlyDeleteModel } from "../src/advice/snippets.js";

/** Field names as a message lists them. */
function list(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(", ");
}

/** RS102: `DeleteModel` drops a table that the running release still uses. */
export const droppingTable: Rule = {
  meta: {
    code: "RS102",
    name: "dropping-table",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H04"],
    docs: {
      summary: "Dropping a table that the running release still uses",
      what: "Flags `DeleteModel` (also inside `SeparateDatabaseAndState.database_operations`) of a managed model whose table exists, in a migration that runs before the new release is live. The `RemoveField`s of the model before it in the same migration (`makemigrations` removes a deleted model's relations first) are named, and the state-only deletion it suggests takes them in.",
      why: "The old release keeps querying the model's table (and its many-to-many join tables) until it is replaced; each of those queries fails with `relation ... does not exist`, and a rollback is impossible.",
      recipe: [
        "Remove the model from the code and ship a state-only deletion: `SeparateDatabaseAndState(state_operations=[DeleteModel(...)], database_operations=[])`. Drop or relax foreign keys that point at the table first.",
        "Deploy, and wait until no old release runs.",
        "In a later release, `RunSQL('DROP TABLE IF EXISTS ...')` in a migration marked post-deploy.",
      ],
      severityReason: "Error: the old release fails on every query of the model during the rollout.",
      bad: `migrations.DeleteModel(name="Book")`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.DeleteModel(name="Book")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["DeleteModel"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "DeleteModel" || ctx.effect === "state" || op.unknown || ctx.stage === "post") return;
    const model = ctx.model(literalString(op.args.name));
    if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const table = ctx.tableOf(model);
    const joinTables = [...model.fields.values()].flatMap((f) => {
      const t = ctx.state.m2mTableOf(model, f);
      return t ? [t] : [];
    });
    const tables = [table, ...joinTables];
    const inbound: string[] = [];
    for (const other of ctx.state.modelsReferencing(`${model.app}.${model.key}`)) {
      if (other === model) continue;
      for (const f of other.fields.values()) {
        if (f.relation?.to === `${model.app}.${model.key}` && f.relation.kind !== "m2m") inbound.push(`${other.name}.${f.name}`);
      }
    }
    // The removals of its fields before it (Django's autodetector writes one for each relation)
    // drop columns of the table the old release still selects; dropping-column leaves them to
    // this finding.
    const removed = removalsBefore(ctx, model).flatMap((o) => literalString(o.args.name) ?? []);
    const steps = [
      ...(inbound.length
        ? [`Foreign keys still point at \`${model.name}\` (${inbound.map((n) => `\`${n}\``).join(", ")}): remove them, or set \`db_constraint=False\` and \`null=True\`, in an earlier release.`]
        : []),
      removed.length === 0
        ? `Delete \`${model.name}\` from the code and replace this operation with a state-only deletion, so the table stays:\n${stateOnlyDeleteModel(model.name)}`
        : `Delete \`${model.name}\` from the code and replace this operation, and the \`RemoveField\`${removed.length > 1 ? "s" : ""} of ${list(removed)} before it, with a state-only deletion, so the table stays with all its columns:\n${stateOnlyDeleteModel(model.name, removed)}`,
      "Deploy this release and wait until no instance of the old release runs.",
      `In a later release, drop the table${tables.length > 1 ? "s" : ""} in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${dropTablesSql(tables)}`,
    ];
    ctx.report({
      range: op.range,
      message: `Deleting model \`${model.name}\` drops table \`${table}\`${joinTables.length ? ` (and ${joinTables.map((t) => `\`${t}\``).join(", ")})` : ""} while the old release still uses it.`,
      help: [
        `Until the new release is fully live, the old release's queries on \`${model.name}\` fail with "relation ${table} does not exist", and rolling back is impossible.`,
        ...steps.map((s, i) => `${i + 1}. ${s}`),
      ],
      related: model.origin ? [ctx.relatedAt(model.origin, `\`${model.name}\` was created here`)] : undefined,
    });
  },
};
