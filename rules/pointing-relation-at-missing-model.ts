import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { databaseChanges } from "../src/engine/field-changes.js";
import { createdFields, fieldClassOf, fieldFromCall, literalString, relationKind, type FieldState } from "../src/state/model-state.js";
import { py } from "../src/advice/snippets.js";

/** The relation fields an operation gives the database, with their names. */
function relationFields(ctx: OperationContext): { model: string; app: string; key: string; field: FieldState }[] {
  const { op } = ctx;
  const app = ctx.migration.app;
  if (op.kind === "CreateModel") {
    const name = literalString(op.args.name);
    if (!name) return [];
    const key = name.toLowerCase();
    // Only relation fields are read in full (a field's state costs; most fields are not relations).
    return createdFields(op.args.fields)
      .filter((f) => f.call.kind === "call" && relationKind(fieldClassOf(f.call)) !== null)
      .map((f) => ({ model: name, app, key, field: fieldFromCall(f.name, f.call, app, key, null) }));
  }
  const modelName = literalString(op.args.model_name);
  const name = literalString(op.args.name);
  if (!modelName || !name || !op.args.field) return [];
  if (op.args.field.kind !== "call" || relationKind(fieldClassOf(op.args.field)) === null) return [];
  const model = ctx.model(modelName);
  const key = model?.key ?? modelName.toLowerCase();
  const field = fieldFromCall(name, op.args.field, app, key, null);
  // An AlterField with no database side: Django's alter_field returns before it looks at the
  // target (`_field_should_be_altered`), so a missing one does not fail it (zds tutorialv2 0022:
  // only verbose_name on a many-to-many field).
  const before = op.kind === "AlterField" ? model?.fields.get(name) : undefined;
  if (before && databaseChanges(before, field, ctx.target.database).length === 0) return [];
  return [{ model: model?.name ?? modelName, app, key, field }];
}

/** RS514: a relation to a model of the run that no migration before this one creates. */
export const pointingRelationAtMissingModel: Rule = {
  meta: {
    code: "RS514",
    name: "pointing-relation-at-missing-model",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["migration-fails"],
    hazards: ["H51"],
    docs: {
      summary: "A foreign key or many-to-many field to a model that no migration before it creates",
      what: "Flags `CreateModel`, `AddField` and `AlterField` (with a database side: one that changes only Python-side options, such as `verbose_name`, never looks at its target) whose `ForeignKey`, `OneToOneField` or `ManyToManyField` points at a model of an app the run reads that is not in the model state at that point of Django's plan: the migration creating it is not among the dependencies (directly or through others), it comes later in the same migration, or it does not exist. Models of apps the run does not read (Django's own, third-party packages) are not checked, nor are relations from or to an app whose history has a gap (a dependency on a migration that does not exist, which `missing-dependency` reports: the missing migration may be the one that creates the model).",
      why: "On a fresh database (a new environment, the test database) Django applies the migrations in its plan order, and when it reaches this operation the target model is not in its state yet: `migrate` fails with `ValueError: Related model 'app.model' cannot be resolved`. A database that already has the target's migration applied hides it, which is how this ships.",
      recipe: [
        "Add the migration that creates the target model (or a later one of its app) to `dependencies`, as `makemigrations` writes it.",
        "If the target model is created later (by a later migration of its app, or further down the same migration), move the field after it.",
      ],
      severityReason: "Error: `migrate` fails on every fresh database, so new environments and test runs break.",
      bad: `# Bookcase is created after the field that points at it.
migrations.AddField("book", "bookcase", models.ForeignKey("library.Bookcase", models.SET_NULL, null=True, db_index=False)),
migrations.CreateModel("Bookcase", [("id", models.BigAutoField(primary_key=True))]),`,
      good: `# For a model of another app: add the migration that creates it to \`dependencies\`.
migrations.CreateModel("Bookcase", [("id", models.BigAutoField(primary_key=True))]),
migrations.AddField("book", "bookcase", models.ForeignKey("library.Bookcase", models.SET_NULL, null=True, db_index=False)),`,
    },
  },
  operationKinds: ["CreateModel", "AddField", "AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.unknown || ctx.effect === "state") return;
    for (const { model, app, key, field } of relationFields(ctx)) {
      const to = field.relation?.to;
      if (!to) continue;
      const dot = to.indexOf(".");
      const targetApp = to.slice(0, dot);
      // The model itself (a self-reference of a new model) is in the state Django renders.
      if (dot <= 0 || (targetApp === app && to.slice(dot + 1) === key)) continue;
      if (!ctx.appsInRun.has(targetApp) || ctx.state.modelByKey(to)) continue;
      // A migration missing from either app's history (missing-dependency) may be the one that creates it.
      if (ctx.appsIncomplete.has(targetApp) || ctx.appsIncomplete.has(app)) continue;
      ctx.report({
        range: op.range,
        message: `\`${model}.${field.name}\` points at \`${to}\`, which nothing before this operation in Django's plan creates: \`migrate\` on a fresh database fails at \`${ctx.migration.id}\`.`,
        help: [
          `Django applies migrations in its plan order; without a dependency on the migration that creates \`${to}\`, that model is not in the state when this operation runs, and Django raises \`ValueError: Related model '${to}' cannot be resolved\`. Databases that already have \`${targetApp}\`'s migrations applied do not show it.`,
          `1. Add the \`${targetApp}\` migration that creates the model to \`dependencies\`, as \`makemigrations\` writes it: \`(${py(targetApp)}, "<that migration>")\` (\`python manage.py showmigrations ${targetApp}\` lists them).`,
          `2. If \`${to}\` is created later (by a later migration of its app, or further down this one), move the field after it.`,
        ],
      });
    }
  },
};
