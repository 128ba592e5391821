import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { Operation } from "../src/model/types.js";
import { literalString, type FieldState } from "../src/state/model-state.js";
import { deletedWithTable, describeTaker, tableTakenLater } from "../src/engine/dropped-later.js";
import { constrainedForeignKeys } from "../src/engine/resolved-operation.js";
import { codeList, dropForeignKeySnippet, dropTablesSql, missingTableError, postDeployMarker, stateOnlyDeleteModel } from "../src/advice/snippets.js";

/**
 * The fields each `DeleteModel` drops with its table that `RemoveField`s before it in the same
 * migration removed first (Django's autodetector removes a deleted model's relations first), as
 * they were: their columns and join tables stay with a state-only deletion.
 */
const removedBefore = new WeakMap<Operation, FieldState[]>();

function recordRemoval(ctx: OperationContext): void {
  const { op } = ctx;
  if (ctx.effect === "state" || op.unknown || ctx.stage === "post") return;
  const model = ctx.model(literalString(op.args.model_name));
  const field = model?.fields.get(literalString(op.args.name) ?? "");
  if (!model || !field || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
  const deletion = deletedWithTable(ctx, model);
  if (!deletion) return;
  const fields = removedBefore.get(deletion) ?? [];
  fields.push(field);
  removedBefore.set(deletion, fields);
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
        "Remove the model from the code and ship a state-only deletion: `SeparateDatabaseAndState(state_operations=[DeleteModel(...)], database_operations=[])`. Drop or relax foreign keys that point at the table first, and drop the constraints of its own foreign keys (`AlterField(..., db_constraint=False)`), which would otherwise reject the new release's deletes of the rows they reference.",
        "Deploy, and wait until no old release runs.",
        "In a later release, `RunSQL('DROP TABLE IF EXISTS ...')` in a migration marked post-deploy.",
      ],
      severityReason: "Error: the old release fails on every query of the model during the rollout.",
      bad: `migrations.DeleteModel(name="Book")`,
      good: `migrations.AlterField(
    model_name="book",
    name="author",
    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author", db_constraint=False),
),
migrations.AlterField(
    model_name="book",
    name="tags",
    field=models.ManyToManyField(to="library.author", related_name="tagged_books", db_constraint=False),
),
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.DeleteModel(name="Book")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["DeleteModel", "RemoveField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind === "RemoveField") {
      recordRemoval(ctx);
      return;
    }
    if (op.kind !== "DeleteModel" || ctx.effect === "state" || op.unknown || ctx.stage === "post") return;
    const model = ctx.model(literalString(op.args.name));
    if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const table = ctx.tableOf(model);
    // The removals of its fields before it (Django's autodetector writes one for each relation)
    // drop columns of the table the old release still selects; dropping-column leaves them to
    // this finding.
    const removedFields = removedBefore.get(op) ?? [];
    removedBefore.delete(op);
    const removed = removedFields.map((f) => f.name);
    const joinTables = ctx.state.joinTablesOf(model);
    // With the removals before it made state-only, their join tables stay too, until the drop.
    const tables = [table, ...ctx.state.joinTablesOf(model, removedFields), ...joinTables];
    const inbound: string[] = [];
    for (const other of ctx.state.modelsReferencing(`${model.app}.${model.key}`)) {
      if (other === model) continue;
      for (const f of other.fields.values()) {
        if (f.relation?.to === `${model.app}.${model.key}` && f.relation.kind !== "m2m") inbound.push(`${other.name}.${f.name}`);
      }
    }
    // Its own foreign keys stay with the kept table and would reject the new release's deletes
    // of the rows they reference (removing-foreign-key-with-constraint reports the deletion).
    const outbound = constrainedForeignKeys(ctx, model, [...removedFields, ...model.fields.values()]);
    // A later operation of the migration giving the name to another model (patchwork 0043): the
    // table can only stay if that model's table keeps another name.
    const taken = tableTakenLater(ctx, table);
    const steps = [
      ...(taken
        ? [
            `${describeTaker(taken)} later in this migration gives \`${table}\` to another model, so the table cannot stay under its name while the old release still reads it: ${
              taken.kind === "CreateModel" ? "give the new model another table (`db_table` in its options)" : "keep that model's table under its current name (`db_table`, as renaming-table advises for a rename)"
            }, and only then make this deletion state-only.`,
          ]
        : []),
      ...(outbound.length
        ? [
            `\`${model.name}\`'s foreign key${outbound.length > 1 ? "s" : ""} (${outbound.map((k) => k.holder).join(", ")}) would stay in the database and reject the new release's deletes of ${codeList([...new Set(outbound.map((k) => k.targetName))])}: drop ${outbound.length > 1 ? "their constraints" : "its constraint"} first (no scan):\n${outbound.map((k) => dropForeignKeySnippet(model.key, k.field)).join("\n")}`,
          ]
        : []),
      ...(inbound.length
        ? [`Foreign keys still point at \`${model.name}\` (${inbound.map((n) => `\`${n}\``).join(", ")}): remove them, or set \`db_constraint=False\` and \`null=True\`, in an earlier release.`]
        : []),
      removed.length === 0
        ? `Delete \`${model.name}\` from the code and replace this operation with a state-only deletion, so the table stays:\n${stateOnlyDeleteModel(model.name)}`
        : `Delete \`${model.name}\` from the code and replace this operation, and the \`RemoveField\`${removed.length > 1 ? "s" : ""} of ${codeList(removed)} before it, with a state-only deletion, so the table stays with all its columns:\n${stateOnlyDeleteModel(model.name, removed)}`,
      "Deploy this release and wait until no instance of the old release runs.",
      `In a later release, drop the table${tables.length > 1 ? "s" : ""} in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${dropTablesSql(tables, ctx.target.database)}`,
    ];
    ctx.report({
      range: op.range,
      message: `Deleting model \`${model.name}\` drops table \`${table}\`${joinTables.length ? ` (and ${joinTables.map((t) => `\`${t}\``).join(", ")})` : ""} while the old release still uses it.`,
      help: [
        `Until the new release is fully live, the old release's queries on \`${model.name}\` fail with \`${missingTableError(table, ctx.target.database)}\`, and rolling back is impossible.`,
        ...steps.map((s, i) => `${i + 1}. ${s}`),
      ],
      related: model.origin ? [ctx.relatedAt(model.origin, `\`${model.name}\` was created here`)] : undefined,
    });
  },
};
