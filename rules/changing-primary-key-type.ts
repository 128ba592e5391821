import type { OperationContext, ProjectContext, Rule } from "../src/engine/rule-types.js";
import type { FieldState } from "../src/state/model-state.js";
import type { ProjectState } from "../src/state/project-state.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { descendants } from "../src/graph/migration-graph.js";
import { deferUntilReplayed, reportUnlessLater } from "../src/engine/later-migrations.js";
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
 * Every column Django alters along with the primary key of the model `key` (`_related_non_m2m_objects`
 * and the auto-created through tables of many-to-many fields, from either side), among the fields
 * `include` accepts.
 */
function referencingColumns(state: ProjectState, key: string, include: (field: FieldState) => boolean = () => true): ReferencingColumn[] {
  const out: ReferencingColumn[] = [];
  for (const model of state.models.values()) {
    if (!state.hasTable(model)) continue;
    for (const field of model.fields.values()) {
      const relation = field.relation;
      if (!relation || field.kwargs.to_field || !include(field)) continue;
      if (relation.kind === "m2m") {
        const joinTable = state.m2mTableOf(model, field);
        if (!joinTable) continue;
        const columns = relation.to === null ? null : autoJoinColumns(model.key, targetKeyOf(relation.to));
        if (!columns) continue;
        if (relation.to === key) out.push({ label: `${model.name}.${field.name}`, table: joinTable, column: columns.to });
        if (`${model.app}.${model.key}` === key) out.push({ label: `${model.name}.${field.name}`, table: joinTable, column: columns.from });
        continue;
      }
      if (relation.to !== key) continue;
      out.push({ label: `${model.name}.${field.name}`, table: state.tableOf(model), column: columnOf(field) ?? `${field.name}_id` });
    }
  }
  return out;
}

/**
 * The referencing columns defined by migrations that the plan runs after `migration` but that do
 * not depend on it (typically other apps' foreign keys to the model). On a fresh database they do
 * not exist yet when the key changes, but `migrate` builds its state from every applied migration,
 * so on a database that applied them in an earlier release Django alters them too.
 */
function appliedElsewhere(end: ProjectContext, migration: ParsedMigration, key: string, known: readonly ReferencingColumn[]): ReferencingColumn[] {
  const plan = end.graph.plan;
  const after = new Set(plan.slice(plan.indexOf(migration) + 1).map((m) => m.id));
  for (const id of descendants(end.graph, [migration.id])) after.delete(id);
  if (after.size === 0) return [];
  const seen = new Set(known.map((r) => `${r.table}.${r.column}`));
  return referencingColumns(end.state, key, (field) => field.origin !== null && after.has(field.origin.migration)).filter((r) => !seen.has(`${r.table}.${r.column}`));
}

const listed = (refs: readonly ReferencingColumn[]): string => refs.map((r) => `\`${r.table}.${r.column}\` (${r.label})`).join(", ");

const RULE = "changing-primary-key-type";

/** RS111: changing the type of a primary key, which Django cascades to every referencing column. */
/**
 * A primary key whose type changes in place (a longer varchar, PeeringDB 0112's API key ids from
 * 100 to 150 characters): the table is not rewritten, but Django's `_alter_field` still drops the
 * foreign keys that point at it whenever the type's text changes (`drop_foreign_keys`), alters the
 * referencing columns, and adds the constrained ones back with `ADD CONSTRAINT ... FOREIGN KEY`,
 * which checks every row of their tables while the migration's locks are held.
 */
function widenedKeyWithForeignKeys(
  ctx: OperationContext,
  facts: { model: string; name: string; table: string; from: string; to: string; key: string },
): void {
  const { model, name, table, from, to, key } = facts;
  const refs = referencingColumns(ctx.state, key, (field) => field.relation?.kind !== "m2m" && field.relation?.dbConstraint === true);
  if (refs.length === 0) return;
  const tables = [...new Set(refs.map((r) => r.table))];
  const names = tables.map((t) => `\`${t}\``).join(", ");
  const pg = ctx.target.database === "postgresql";
  ctx.report({
    range: ctx.op.range,
    message: `Changing primary key \`${model}.${name}\` from \`${from}\` to \`${to}\` drops and re-adds the foreign key${refs.length > 1 ? "s" : ""} of ${listed(refs)}, checking every row of ${names} ${pg ? `while reads and writes of ${tables.length > 1 ? "them" : "it"} wait` : `in a table copy that blocks writes`}.`,
    help: [
      `The key itself changes in place, but Django drops the foreign keys pointing at \`${table}\` whenever the key's type changes, alters the referencing column${refs.length > 1 ? "s" : ""} to \`${to}\`, and adds the keys back with \`ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY\`, validated: ${
        pg
          ? `every row of ${names} is checked while the migration holds ACCESS EXCLUSIVE on ${tables.length > 1 ? "them" : "it"} (from the drop and the column change) until it commits, so every read and write of ${names} waits.`
          : `MySQL copies ${names} to add a foreign key while \`foreign_key_checks\` is on (ALGORITHM=COPY), blocking writes for every copy.`
      }`,
      "1. If the new size is not needed, undo the change and delete this operation.",
      `2. Else, in a migration before this one, turn the constraints off on ${listed(refs)} (\`db_constraint=False\` on each foreign key: a brief lock, no scan): Django then finds no constraint to drop or add back when the key changes. Afterwards turn them back on NOT VALID and validate them in a later migration, as \`adding-foreign-key-constraint\`'s recipe does.`,
    ],
  });
}

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
      what: "Flags `AlterField` of a primary-key field of an existing managed table whose database type changes, typically after `DEFAULT_AUTO_FIELD` or `AppConfig.default_auto_field` changed. A key whose type changes in place (a longer `varchar`) is flagged when constrained foreign keys point at it: Django still drops them, alters their columns and adds them back, validated. The message lists every foreign-key and many-to-many column found in the migrations read that Django alters with it, including those of migrations that run later in the plan without depending on this one (other apps' keys, altered on a database that applied them).",
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
  project(ctx) {
    reportUnlessLater(RULE, ctx);
  },
  operation(ctx) {
    if (ctx.target.database === "sqlite") return;
    const facts = readTypeChange(ctx);
    if (!facts || !facts.before.primaryKey || !facts.after.primaryKey) return;
    const { model, name, table, column, beforeType, afterType } = facts;
    const from = formatColumnType(beforeType);
    const to = formatColumnType(afterType);
    const key = `${model.app}.${model.key}`;
    if (facts.change === "in-place") {
      widenedKeyWithForeignKeys(ctx, { model: model.name, name, table, from, to, key });
      return;
    }
    const before = referencingColumns(ctx.state, key);
    const { report, migration, op } = ctx;
    const pg = ctx.target.database === "postgresql";
    const modelName = model.name;
    const tools = pg ? "" : onlineSchemaChangeTools(ctx.state.hasForeignKeys(model));
    const related = facts.before.origin ? [ctx.relatedAt(facts.before.origin, `\`${modelName}.${name}\` was defined as \`${from}\` here`)] : undefined;
    // Held until the replay ends, to add the columns of migrations the plan runs later that do not depend on this one.
    deferUntilReplayed(RULE, {
      migration,
      report: (end) => {
        const elsewhere = appliedElsewhere(end, migration, key, before);
        const refs = [...before, ...elsewhere];
        const tables = [...new Set([table, ...refs.map((r) => r.table)])];
        const help: string[] = [
          before.length
            ? `Django rewrites \`${table}\` and also changes every column that references it to \`${to}\`: ${listed(before)}. It drops those foreign keys first and re-adds them afterwards, validating each one.`
            : elsewhere.length
              ? `Django rewrites \`${table}\` with the new key type.`
              : `Django rewrites \`${table}\` with the new key type; no foreign key in the migrations read points at \`${modelName}\`, but any in other apps or made outside migrations must change too.`,
          ...(elsewhere.length
            ? [
                `On a database that already applied them, Django also changes the referencing columns of migrations that run later in the plan but do not depend on this one (\`migrate\` builds its state from every applied migration): ${listed(elsewhere)}${before.length ? "" : ", dropping their foreign keys first and re-adding them afterwards, validating each one"}. On a fresh database they do not exist yet when this migration runs.`,
              ]
            : []),
          pg
            ? `Each of ${tables.map((t) => `\`${t}\``).join(", ")} is rewritten under an ACCESS EXCLUSIVE lock, and all the locks are held until the migration commits: every read and write on those tables waits.`
            : `MySQL copies each of ${tables.map((t) => `\`${t}\``).join(", ")} (ALGORITHM=COPY), blocking writes for every copy.`,
          `1. If the change is not needed, undo it: keep \`${from}\` by setting \`default_auto_field\` on the app's \`AppConfig\` (or \`DEFAULT_AUTO_FIELD\`) to the old class, or declare the key explicitly on \`${modelName}\`, and delete this operation.`,
          pg
            ? `2. If \`${column}\` must really become \`${to}\`, do it outside a rolling deploy, one table at a time: add a new \`${to}\` column kept in sync by a trigger, backfill it in batches, build its unique index with \`CREATE UNIQUE INDEX CONCURRENTLY\`, then swap the key (\`ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY USING INDEX\`) in a short maintenance step, and record the result with a state-only \`SeparateDatabaseAndState\`.`
            : `2. If \`${column}\` must really become \`${to}\`, do it outside a rolling deploy, one table at a time, with an online schema change tool (${tools}) that copies the table in the background and swaps it in, and record the result with a state-only \`SeparateDatabaseAndState\`.`,
          `3. Repeat step 2 for each referencing column listed above before the foreign keys are switched.`,
        ];
        report({
          range: op.range,
          message: `Changing primary key \`${modelName}.${name}\` from \`${from}\` to \`${to}\` rewrites ${tables.length === 1 ? `\`${table}\`` : `${tables.length} tables (${tables.map((t) => `\`${t}\``).join(", ")})`} ${pg ? "under exclusive locks" : "while blocking writes"}.`,
          help,
          related,
        });
      },
    });
  },
};
