import { fieldOperation, uniqueConstraintOf } from "../src/engine/resolved-operation.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { djangoIndexName, literalString, type FieldState, type ModelState } from "../src/state/model-state.js";
import { code, likeIndexOpclass, postDeployMarker, sqlIdent, LOCK_TIMEOUT_OPERATION } from "../src/advice/snippets.js";
import { columnTypeOf, formatColumnType } from "./changing-column-type.js";

/** The indexes PostgreSQL keeps on the field's column: the field's own, and the model's indexes, constraints and `*_together` sets that name the field. */
function indexesOn(ctx: OperationContext, model: ModelState, field: FieldState, table: string, column: string): { names: string[]; unique: boolean } {
  const names: string[] = [];
  let unique = false;
  const base = djangoIndexName(table, [column]);
  if (field.primaryKey || field.unique) {
    names.push(uniqueConstraintOf(ctx, model, field) ?? `the unique index of \`${column}\``);
    unique = true;
  } else if (field.dbIndex) {
    names.push(base);
  }
  if ((field.primaryKey || field.unique || field.dbIndex) && likeIndexOpclass(field)) names.push(djangoIndexName(table, [column], "_like"));
  for (const index of model.indexes) if (index.fields.some((f) => f.replace(/^-/, "") === field.name)) names.push(index.name);
  for (const c of model.constraints) {
    if (c.kind !== "unique" || !c.fields.includes(field.name)) continue;
    names.push(c.name);
    unique = true;
  }
  for (const set of model.uniqueTogether) {
    if (!set.includes(field.name)) continue;
    names.push(`the \`unique_together\` index on (${set.join(", ")})`);
    unique = true;
  }
  for (const set of model.indexTogether) if (set.includes(field.name)) names.push(`the \`index_together\` index on (${set.join(", ")})`);
  return { names: names.map((n) => (n.startsWith("the ") ? n : `\`${n}\``)), unique };
}

/**
 * Collations that are deterministic whatever the server: the built-in ones, libc locales
 * (`en_US.utf8`) and the ICU collations PostgreSQL creates (`en-US-x-icu`). Only a `CREATE
 * COLLATION ... deterministic = false` makes a non-deterministic one.
 */
const DETERMINISTIC = /^(C|POSIX|ucs_basic|default|[a-z]{2,3}(_[A-Z]{2})?(\.[\w-]+)?|[\w-]+-x-icu)$/;

/** RS121: `AlterField` that changes `db_collation` of an indexed column. */
export const changingColumnCollation: Rule = {
  meta: {
    code: "RS121",
    name: "changing-column-collation",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    hazards: ["H16", "H14"],
    docs: {
      summary: "Changing the collation of an indexed column",
      what: "Flags, on PostgreSQL, `AlterField` of an existing managed table that changes only `db_collation` (the column type stays) of a column with an index: the field's own (`db_index`, `unique`, a foreign key's, the primary key's), or one of the model's `indexes`, unique `constraints`, `unique_together` or `index_together` that name the field. A column without an index is a catalog change and is not flagged; a type change too is `changing-column-type`'s.",
      why: "Django runs `ALTER TABLE ... ALTER COLUMN ... TYPE ... COLLATE ...` under an ACCESS EXCLUSIVE lock. The rows stay as they are (the type is the same), but every index on the column is sorted by the collation, so PostgreSQL builds each of them again while holding the lock: reads and writes of the table wait for the rebuilds. With a non-deterministic collation (an ICU collation with `deterministic=False`, such as a case-insensitive one), a unique index counts values that differ only by case as equal: the rebuild fails on existing near-duplicates, and afterwards the old release's INSERTs of such values fail.",
      recipe: [
        "Run the change in a migration marked post-deploy, at a quiet time, after `SET LOCAL lock_timeout` so that it gives up instead of queueing traffic while it waits for the lock.",
        "On a large table, take the indexes off the column first: drop them concurrently in a non-atomic migration, change the collation (now a catalog change), and build them again concurrently (`CREATE [UNIQUE] INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... UNIQUE USING INDEX` for a unique constraint); in between, lookups on the column are slow and uniqueness is not enforced.",
        "For a case-insensitive unique collation, find near-duplicates first (`GROUP BY lower(col) HAVING count(*) > 1`) and resolve them, and make the new release handle the IntegrityError the old one does not expect.",
      ],
      severityReason: "Error: every index rebuild runs under an ACCESS EXCLUSIVE lock, which blocks all reads and writes of the table for as long as the builds take.",
      bad: `migrations.AlterField(
    model_name="book",
    name="sku",
    field=models.CharField(max_length=20, unique=True, db_collation="C"),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="subtitle",
    field=models.CharField(max_length=200, null=True, db_collation="C"),
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql" || ctx.effect === "state" || ctx.op.unknown) return;
    const found = fieldOperation(ctx);
    if (!found?.before || found.before.relation?.kind === "m2m" || found.before.generated) return;
    const { model, name, before, after } = found;
    const from = literalString(before.kwargs.db_collation);
    const to = literalString(after.kwargs.db_collation);
    if (from === to || (before.kwargs.db_collation && from === null) || (after.kwargs.db_collation && to === null)) return;
    // A type change rewrites the table and rebuilds the indexes anyway: changing-column-type's.
    const beforeType = columnTypeOf(before, ctx.state, "postgresql");
    const afterType = columnTypeOf(after, ctx.state, "postgresql");
    if (!beforeType || !afterType || formatColumnType(beforeType) !== formatColumnType(afterType)) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(after) ?? name;
    const { names, unique } = indexesOn(ctx, ctx.db.model(model.app, model.key) ?? model, before, table, column);
    if (names.length === 0) return;
    const collation = to === null ? "the database's default collation" : `\`${to}\``;
    const post = postDeployMarker(ctx.target.markerStyle);
    const type = formatColumnType(afterType);
    const help = [
      `Django runs \`ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type}${to === null ? "" : ` COLLATE ${sqlIdent(to)}`}\` under an ACCESS EXCLUSIVE lock. The rows stay (the type is the same), but ${names.length > 1 ? "each index" : "the index"} on \`${column}\` is sorted by the collation, so PostgreSQL builds ${names.length > 1 ? "them" : "it"} again while holding the lock: ${names.join(", ")}. Reads and writes of \`${table}\` wait for the rebuild${names.length > 1 ? "s" : ""}.`,
      ...(unique && !(to !== null && DETERMINISTIC.test(to))
        ? [
            `If ${collation} is non-deterministic (an ICU collation created with \`deterministic=False\`, such as a case-insensitive one), the unique index treats values that differ only by case as equal: the rebuild fails on existing near-duplicates, and afterwards the old release's INSERTs of such values fail with an IntegrityError.`,
          ]
        : []),
      `1. On a small table, run this \`AlterField\` in a migration marked ${post}, with a lock timeout as its first operation, so that it gives up instead of queueing traffic:\n${code(LOCK_TIMEOUT_OPERATION)}`,
      `2. On a large table, take the indexes off the column first: drop them concurrently in a non-atomic migration before this one, so that the collation change is a catalog change, and build them again concurrently after it (\`CREATE ${unique ? "UNIQUE " : ""}INDEX CONCURRENTLY\`${unique ? ", then `ADD CONSTRAINT ... UNIQUE USING INDEX` for a unique constraint" : ""}). In between, lookups on \`${column}\` are slow${unique ? " and uniqueness is not enforced" : ""}.`,
    ];
    ctx.report({
      range: ctx.op.range,
      message: `Changing the collation of \`${model.name}.${name}\` to ${collation} rebuilds ${names.length > 1 ? `${names.length} indexes` : "an index"} of \`${table}\` under an ACCESS EXCLUSIVE lock, blocking reads and writes.`,
      help,
      related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was last defined here`)] : undefined,
    });
  },
};
