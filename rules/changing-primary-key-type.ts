import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { ModelState } from "../src/state/model-state.js";
import { autoJoinColumns, columnOf, targetKeyOf } from "../src/state/model-state.js";
import { formatColumnType, readTypeChange } from "./changing-column-type.js";
import { onlineSchemaChangeTools } from "../src/advice/snippets.js";

/** A column that holds a copy of a primary key: a FK/O2O column or a many-to-many join column. */
interface ReferencingColumn {
  label: string;
  table: string;
  column: string;
}

/**
 * Every column Django alters along with the primary key of `target` (`_related_non_m2m_objects`
 * and the auto-created through tables of many-to-many fields, from either side).
 */
function referencingColumns(ctx: OperationContext, target: ModelState): ReferencingColumn[] {
  const key = `${target.app}.${target.key}`;
  const out: ReferencingColumn[] = [];
  for (const model of ctx.state.models.values()) {
    if (!ctx.state.hasTable(model)) continue;
    for (const field of model.fields.values()) {
      const relation = field.relation;
      if (!relation || field.kwargs.to_field) continue;
      if (relation.kind === "m2m") {
        const joinTable = ctx.state.m2mTableOf(model, field);
        if (!joinTable) continue;
        const columns = relation.to === null ? null : autoJoinColumns(model.key, targetKeyOf(relation.to));
        if (!columns) continue;
        if (relation.to === key) out.push({ label: `${model.name}.${field.name}`, table: joinTable, column: columns.to });
        if (`${model.app}.${model.key}` === key) out.push({ label: `${model.name}.${field.name}`, table: joinTable, column: columns.from });
        continue;
      }
      if (relation.to !== key) continue;
      out.push({ label: `${model.name}.${field.name}`, table: ctx.state.tableOf(model), column: columnOf(field) ?? `${field.name}_id` });
    }
  }
  return out;
}

/** RS111: changing the type of a primary key, which Django cascades to every referencing column. */
export const changingPrimaryKeyType: Rule = {
  meta: {
    code: "RS111",
    name: "changing-primary-key-type",
    severity: "error",
    databases: ["postgresql", "mysql"],
    claims: ["rewrite", "blocking-lock"],
    hazards: ["H23", "H22"],
    docs: {
      summary: "Changing the type of a primary key (e.g. `AutoField` to `BigAutoField`)",
      what: "Flags `AlterField` of a primary-key field of an existing managed table whose database type changes, typically after `DEFAULT_AUTO_FIELD` or `AppConfig.default_auto_field` changed. The message lists every foreign-key and many-to-many column found in the model state that Django alters with it.",
      why: "Django drops the foreign keys that point at the key, rewrites the table with the new key type, rewrites every referencing table the same way, and then re-adds the foreign keys, validating each one. Each rewrite holds an ACCESS EXCLUSIVE lock, all of them in one transaction, so every involved table is unavailable until the last one is done.",
      recipe: [
        "Avoid it: pin the old type with `default_auto_field` on the app config (or an explicit `id = models.AutoField(primary_key=True)`), so no migration is generated.",
        "If the key must grow, do it per table outside a normal deploy: add a `bigint` column, keep it in sync with a trigger, backfill in batches, build a unique index concurrently and swap the key in a short maintenance step, then do the same for each referencing column.",
      ],
      severityReason: "Error: several tables are rewritten under ACCESS EXCLUSIVE locks held together until the migration commits.",
      bad: `migrations.AlterField(
    model_name="author",
    name="id",
    field=models.AutoField(primary_key=True, serialize=False),
)`,
      good: `migrations.AlterField(
    model_name="author",
    name="id",
    field=models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    if (ctx.target.database === "sqlite") return;
    const facts = readTypeChange(ctx);
    if (!facts || !facts.before.primaryKey || !facts.after.primaryKey || facts.change === "in-place") return;
    const { model, name, table, column, beforeType, afterType } = facts;
    const from = formatColumnType(beforeType);
    const to = formatColumnType(afterType);
    const refs = referencingColumns(ctx, model);
    const tables = [...new Set([table, ...refs.map((r) => r.table)])];
    const pg = ctx.target.database === "postgresql";
    const help: string[] = [
      refs.length
        ? `Django rewrites \`${table}\` and also changes every column that references it to \`${to}\`: ${refs.map((r) => `\`${r.table}.${r.column}\` (${r.label})`).join(", ")}. It drops those foreign keys first and re-adds them afterwards, validating each one.`
        : `Django rewrites \`${table}\` with the new key type; no foreign key in the model state points at \`${model.name}\`, but any outside this project's migrations must change too.`,
      pg
        ? `Each of ${tables.map((t) => `\`${t}\``).join(", ")} is rewritten under an ACCESS EXCLUSIVE lock, and all the locks are held until the migration commits: every read and write on those tables waits.`
        : `MySQL copies each of ${tables.map((t) => `\`${t}\``).join(", ")} (ALGORITHM=COPY), blocking writes for every copy.`,
      `1. If the change is not needed, undo it: keep \`${from}\` by setting \`default_auto_field\` on the app's \`AppConfig\` (or \`DEFAULT_AUTO_FIELD\`) to the old class, or declare the key explicitly on \`${model.name}\`, and delete this operation.`,
      pg
        ? `2. If \`${column}\` must really become \`${to}\`, do it outside a rolling deploy, one table at a time: add a new \`${to}\` column kept in sync by a trigger, backfill it in batches, build its unique index with \`CREATE UNIQUE INDEX CONCURRENTLY\`, then swap the key (\`ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY USING INDEX\`) in a short maintenance step, and record the result with a state-only \`SeparateDatabaseAndState\`.`
        : `2. If \`${column}\` must really become \`${to}\`, do it outside a rolling deploy, one table at a time, with an online schema change tool (${onlineSchemaChangeTools(ctx.state.hasForeignKeys(model))}) that copies the table in the background and swaps it in, and record the result with a state-only \`SeparateDatabaseAndState\`.`,
      `3. Repeat step 2 for each referencing column listed above before the foreign keys are switched.`,
    ];
    ctx.report({
      range: ctx.op.range,
      message: `Changing primary key \`${model.name}.${name}\` from \`${from}\` to \`${to}\` rewrites ${tables.length === 1 ? `\`${table}\`` : `${tables.length} tables (${tables.map((t) => `\`${t}\``).join(", ")})`} ${pg ? "under exclusive locks" : "while blocking writes"}.`,
      help,
      related: facts.before.origin ? [ctx.relatedAt(facts.before.origin, `\`${model.name}.${name}\` was defined as \`${from}\` here`)] : undefined,
    });
  },
};
