import type { Rule } from "../src/engine/rule-types.js";
import type { SqlTypeName } from "../src/sql/analyze-sql.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { fieldOfColumn, forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import type { FieldState } from "../src/state/model-state.js";
import type { ProjectState } from "../src/state/project-state.js";
import { columnTypeOf } from "./changing-column-type.js";

/** Django's PostgreSQL type names (`data_types`) as PostgreSQL's parser names them. */
const PG_NAMES: Readonly<Record<string, string>> = { integer: "int4", bigint: "int8", smallint: "int2", boolean: "bool", "timestamp with time zone": "timestamptz", "double precision": "float8" };

/**
 * The PostgreSQL type of a field's column as `changing-column-type` reads it (a foreign key's is
 * its target key's, an auto field's its integer), named as PostgreSQL's parser names it.
 */
function currentType(field: FieldState, state: ProjectState): { name: string; modifiers: number[]; dimensions: number } | null {
  const type = columnTypeOf(field, state, "postgresql");
  if (!type) return null;
  const modifiers = type.base === "varchar" ? (typeof type.length === "number" ? [type.length] : []) : type.base === "numeric" ? [type.precision ?? 0, type.scale ?? 0] : [];
  return { name: PG_NAMES[type.base] ?? type.base, modifiers, dimensions: type.dimensions ?? 0 };
}

/** `int4`, `varchar(50)`, `int4[]`. */
function typeText(type: { name: string; modifiers: number[]; dimensions: number }): string {
  return `${type.name}${type.modifiers.length ? `(${type.modifiers.join(",")})` : ""}${"[]".repeat(type.dimensions)}`;
}

/**
 * Whether PostgreSQL changes the type without rewriting the table or rebuilding indexes
 * (binary-coercible changes): varchar growth or removal of the limit, varchar -> text, numeric
 * precision growth at the same scale, and the same type.
 */
function isMetadataOnly(from: { name: string; modifiers: number[]; dimensions: number }, to: SqlTypeName): boolean {
  if (to.schema !== null) return false;
  const mods = to.modifiers.filter((m): m is number => typeof m === "number");
  // An array column is rewritten for any change of its element type (PostgreSQL 15: a longer
  // varchar too); only the same type is no change.
  if (to.arrayDimensions > 0 || from.dimensions > 0) return from.dimensions === to.arrayDimensions && from.name === to.name && JSON.stringify(from.modifiers) === JSON.stringify(mods);
  if (from.name === "varchar" && to.name === "text") return true;
  if (from.name === "varchar" && to.name === "varchar") {
    if (mods.length === 0) return true;
    const old = from.modifiers[0];
    return old !== undefined && (mods[0] ?? 0) >= old;
  }
  if (from.name === "text" && to.name === "text") return true;
  if (from.name === "text" && to.name === "varchar" && mods.length === 0) return true;
  if (from.name === "numeric" && to.name === "numeric") {
    if (mods.length === 0) return true;
    const [p, s] = from.modifiers;
    return p !== undefined && s !== undefined && (mods[0] ?? 0) >= p && (mods[1] ?? 0) === s;
  }
  return from.name === to.name && JSON.stringify(from.modifiers) === JSON.stringify(mods);
}

/** RS610: `RunSQL` `ALTER COLUMN ... TYPE` that rewrites an existing table. */
export const runsqlAlteringColumnType: Rule = {
  meta: {
    code: "RS610",
    name: "runsql-altering-column-type",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock", "rewrite"],
    hazards: ["H22", "H12", "H13"],
    docs: {
      summary: "Raw SQL that changes a column's type with a table rewrite under ACCESS EXCLUSIVE",
      what: "Flags `ALTER TABLE ... ALTER COLUMN ... TYPE` in `RunSQL` on an existing table (PostgreSQL), using the field in the model state to know the current type. Not reported: the changes PostgreSQL does without a rewrite (varchar length growth or removal, varchar to text, numeric precision growth at the same scale, no `USING`), and tables created in the same migration. When the current type is unknown (the column is no model field, or a custom field), it is a warning.",
      why: "PostgreSQL rewrites the table and rebuilds its indexes while holding ACCESS EXCLUSIVE: reads and writes wait for the whole rewrite. The old release may also write values the new type rejects.",
      recipe: [
        "Add a new column of the new type (nullable), write both columns from the code, backfill in batches, switch reads, and drop the old column in a later post-deploy migration.",
        "For varchar limits, prefer growing the limit (no rewrite) or `text` with a `CHECK (length(...) <= n) NOT VALID` constraint.",
      ],
      severityReason: "Error: reads and writes of an existing table block for a full rewrite. Warning when rollsafe cannot tell the current type.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN pages TYPE bigint", reverse_sql="ALTER TABLE library_book ALTER COLUMN pages TYPE integer")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN title TYPE varchar(300)", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "alter-column-type" || fact.column === null || fact.dataType === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const field = fieldOfColumn(ref.model, fact.column) ?? fieldOfColumn(ref.dbModel, fact.column);
      const from = field ? currentType(field, ctx.state) : null;
      if (from && !fact.usingExpression && isMetadataOnly(from, fact.dataType)) continue;
      const known = from !== null;
      const model = ref.model ?? ref.dbModel;
      ctx.report({
        range,
        severity: known ? "error" : "warning",
        message: known
          ? `\`${describeStatement(fact)}\` rewrites ${tableLabel(ref)} under an ACCESS EXCLUSIVE lock (\`${model?.name}.${field?.name}\` is ${typeText(from)}).`
          : `\`${describeStatement(fact)}\` changes the type of \`${fact.column}\` of ${tableLabel(ref)}; rollsafe cannot tell the current type, so this may rewrite the table under an ACCESS EXCLUSIVE lock.`,
        help: [
          `Unless the change is binary-coercible (varchar growth, varchar to text, numeric precision growth), PostgreSQL rewrites \`${ref.table}\` and rebuilds its indexes while holding ACCESS EXCLUSIVE: all reads and writes wait. The old release may also write values the new type rejects.`,
          ...(field?.primaryKey
            ? [
                `1. \`${fact.column}\` is the primary key: the foreign keys that reference it must change with it, and it cannot be dropped. Do it outside a rolling deploy, one table at a time: add a new \`${fact.dataType.text}\` column kept in sync by a trigger, backfill it in batches, build its unique index with \`CREATE UNIQUE INDEX CONCURRENTLY\`, then swap the key (\`ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY USING INDEX\`) in a short maintenance step (see \`changing-primary-key-type\`).`,
              ]
            : [
                `1. Add a new nullable column of type \`${fact.dataType.text}\` and make the new release write both columns.`,
                "2. Backfill the new column in batches (a separate, non-atomic data migration), then switch reads to it.",
                `3. In a later post-deploy migration, drop \`${fact.column}\` (and rename in Python with \`db_column\` if the name matters).`,
              ]),
        ],
      });
    }
  },
};
