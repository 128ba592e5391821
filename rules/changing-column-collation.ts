import { fieldOperation, uniqueConstraintOf } from "../src/engine/resolved-operation.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { declaredDbType, djangoIndexName, literalString, type FieldState, type ModelState } from "../src/state/model-state.js";
import { code, likeIndexOpclass, postDeployMarker, sqlIdent, LOCK_TIMEOUT_OPERATION } from "../src/advice/snippets.js";
import { CITEXT_FIELDS, citextIndexRebuild, columnTypeOf, formatColumnType } from "./changing-column-type.js";

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

/** Whether a field's column may be citext: a CI field, or a project class whose `db_type` says citext. */
function mayBeCitext(field: FieldState): boolean {
  return CITEXT_FIELDS.has(field.type) || /\bcitext\b/i.test(declaredDbType(field) ?? "");
}

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
      summary: "Changing the collation of an indexed column, or its type between citext and text",
      what: "Flags, on PostgreSQL, `AlterField` of an existing managed table that changes only `db_collation` (the column type stays) of a column with an index: the field's own (`db_index`, `unique`, a foreign key's, the primary key's), or one of the model's `indexes`, unique `constraints`, `unique_together` or `index_together` that name the field. Also a change between citext (`CICharField`, `CIEmailField`, `CITextField` of `django.contrib.postgres`) and `text` or `varchar` of an indexed column, a type change PostgreSQL makes without rewriting the rows (citext to a `varchar(n)` narrows and rewrites: `narrowing-column`'s). A column without an index is a catalog change and is not flagged; any other type change is `changing-column-type`'s.",
      why: "Django runs `ALTER TABLE ... ALTER COLUMN ... TYPE ... COLLATE ...` under an ACCESS EXCLUSIVE lock. The rows stay as they are (the type is the same), but every index on the column is sorted by the collation, so PostgreSQL builds each of them again while holding the lock: reads and writes of the table wait for the rebuilds. With a non-deterministic collation (an ICU collation with `deterministic=False`, such as a case-insensitive one), a unique index counts values that differ only by case as equal: the rebuild fails on existing near-duplicates, and afterwards the old release's INSERTs of such values fail. citext does the same with operator classes of its own: a change to or from it rebuilds the indexes (Django drops a varchar or text column's `_like` index first, and makes none when the column leaves citext), its unique index counts values that differ only by case as equal, and the old release's lookups change case sensitivity with the type.",
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
    const collationUnread = (before.kwargs.db_collation && from === null) || (after.kwargs.db_collation && to === null);
    // Most AlterFields change neither: their column types are not worked out.
    if ((from === to || collationUnread) && !mayBeCitext(before) && !mayBeCitext(after)) return;
    const beforeType = columnTypeOf(before, ctx.state, "postgresql");
    const afterType = columnTypeOf(after, ctx.state, "postgresql");
    if (!beforeType || !afterType) return;
    // Between citext and text/varchar the type changes in place, and the indexes are built again
    // as for a collation. Any other type change rewrites the table and rebuilds the indexes
    // anyway: changing-column-type's.
    const citext = citextIndexRebuild(beforeType, afterType);
    if (!citext && (from === to || collationUnread || formatColumnType(beforeType) !== formatColumnType(afterType))) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(after) ?? name;
    const { names: all, unique } = indexesOn(ctx, ctx.db.model(model.app, model.key) ?? model, before, table, column);
    // Django drops a varchar/text column's `_like` index before it makes the column citext
    // (`_alter_column_type_sql`): that one is not built again.
    const like = `\`${djangoIndexName(table, [column], "_like")}\``;
    const names = citext ? all.filter((n) => n !== like) : all;
    if (names.length === 0) return;
    const post = postDeployMarker(ctx.target.markerStyle);
    const type = formatColumnType(afterType);
    const each = names.length > 1 ? "each index" : "the index";
    const them = names.length > 1 ? "them" : "it";
    const rebuilds = names.length > 1 ? `${names.length} indexes` : "an index";
    const caseInsensitive = citext ? afterType.base === "citext" : unique && !(to !== null && DETERMINISTIC.test(to));
    const collation = to === null ? "the database's default collation" : `\`${to}\``;
    const alter = `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type}${to === null ? "" : ` COLLATE ${sqlIdent(to)}`}${citext ? ` USING ${column}::${type}` : ""}`;
    const rebuilt = `${names.join(", ")}. Reads and writes of \`${table}\` wait for the rebuild${names.length > 1 ? "s" : ""}.`;
    const first = citext
      ? `Django runs \`${alter}\` under an ACCESS EXCLUSIVE lock. The rows stay (\`${formatColumnType(beforeType)}\` and \`${type}\` are binary-coercible), but citext compares and sorts without regard to case, with operator classes of its own, so PostgreSQL builds ${each} on \`${column}\` again while holding the lock: ${rebuilt}`
      : `Django runs \`${alter}\` under an ACCESS EXCLUSIVE lock. The rows stay (the type is the same), but ${each} on \`${column}\` is sorted by the collation, so PostgreSQL builds ${them} again while holding the lock: ${rebuilt}`;
    // What else a change to or from citext does: to the `_like` index (Django's
    // `_alter_column_type_sql` and `_alter_field`), and to the old release's lookups.
    const citextNotes = (): string[] => {
      if (!citext) return [];
      if (all.includes(like)) return [`Django drops ${like} first: a citext column gets no \`_like\` index.`];
      if (beforeType.base !== "citext") return [];
      if ((before.unique || before.dbIndex || before.primaryKey) && likeIndexOpclass(after)) {
        return [`Django makes no \`_like\` index for the new ${type} column (it makes one only when the field gains an index), so \`startswith\` and \`LIKE\` lookups on \`${column}\` cannot use an index outside the C locale, and its equality lookups, case-insensitive until now, match case.`];
      }
      return [`Its lookups, case-insensitive until now, match case afterwards: the old release's \`filter(${name}=...)\` finds fewer rows once the type is changed.`];
    };
    const help = [
      first,
      ...citextNotes(),
      ...(unique && caseInsensitive
        ? [
            citext
              ? "The unique index on citext treats values that differ only by case as equal: the rebuild fails on existing near-duplicates, and afterwards the old release's INSERTs of such values fail with an IntegrityError."
              : `If ${collation} is non-deterministic (an ICU collation created with \`deterministic=False\`, such as a case-insensitive one), the unique index treats values that differ only by case as equal: the rebuild fails on existing near-duplicates, and afterwards the old release's INSERTs of such values fail with an IntegrityError.`,
          ]
        : []),
      `1. On a small table, run this \`AlterField\` in a migration marked ${post}, with a lock timeout as its first operation, so that it gives up instead of queueing traffic:\n${code(LOCK_TIMEOUT_OPERATION)}`,
      `2. On a large table, take the indexes off the column first: drop them concurrently in a non-atomic migration before this one, so that the ${citext ? "type" : "collation"} change is a catalog change, and build them again concurrently after it (\`CREATE ${unique ? "UNIQUE " : ""}INDEX CONCURRENTLY\`${unique ? ", then `ADD CONSTRAINT ... UNIQUE USING INDEX` for a unique constraint" : ""}). In between, lookups on \`${column}\` are slow${unique ? " and uniqueness is not enforced" : ""}.`,
    ];
    ctx.report({
      range: ctx.op.range,
      message: citext
        ? `Changing \`${model.name}.${name}\` from \`${formatColumnType(beforeType)}\` to \`${type}\` rebuilds ${rebuilds} of \`${table}\` under an ACCESS EXCLUSIVE lock, blocking reads and writes.`
        : `Changing the collation of \`${model.name}.${name}\` to ${collation} rebuilds ${rebuilds} of \`${table}\` under an ACCESS EXCLUSIVE lock, blocking reads and writes.`,
      help,
      related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was last defined here`)] : undefined,
    });
  },
};
