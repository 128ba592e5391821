import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { fieldDroppedLater } from "../src/engine/field-drops.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import type { Operation, PyValue, SourceRange } from "../src/model/types.js";
import { forwardStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import { locksOf } from "../src/engine/table-locks.js";
import { databaseChanges, dropsForeignKey } from "../src/engine/field-changes.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { readTypeChange } from "./changing-column-type.js";
import { callOf, columnOf, defaultTableName, literalString, stringList, togetherAdded, togetherList } from "../src/state/model-state.js";
import { existingModel, fieldOperation, operationLabel, renamedField } from "../src/engine/resolved-operation.js";

/** ACCESS EXCLUSIVE locks taken so far in each migration (PostgreSQL releases them at COMMIT). */
interface HeldLock {
  what: string;
  range: SourceRange;
  /** The operation that took it is slow work itself (a rewrite, a scan): running it last only swaps the two. */
  slow: boolean;
  /** What the operation that took it works on (see `orderKeys`). */
  keys: string[];
  /** A later operation that works on the same things: moving the one that took the lock after it would reorder the two. */
  usedAfter?: SourceRange;
  /** A later operation that takes ACCESS EXCLUSIVE on the same table again: moving the first one alone keeps the table locked (Label Studio tasks 0005). */
  takenAgain?: SourceRange;
}

/**
 * What an operation works on, for telling whether two operations of a migration may swap:
 * `model.field` for its fields, `model.#name` for an index or constraint it names, `model.*` for
 * anything else (the whole model: RunSQL, a rename of the model...). An index or constraint
 * depends on its fields existing; a RemoveConstraint and an AddConstraint of one name on their order.
 */
function orderKeys(op: Operation): string[] {
  const model = (literalString(op.args.model_name) ?? literalString(op.args.name) ?? "").toLowerCase();
  const field = (value: PyValue | undefined) => literalString(value)?.replace(/^-/, "");
  switch (op.kind) {
    case "AddField":
    case "AlterField":
    case "RemoveField":
      return [`${model}.${field(op.args.name) ?? "*"}`];
    case "RenameField":
      return [`${model}.${field(op.args.old_name) ?? "*"}`, `${model}.${field(op.args.new_name) ?? "*"}`];
    case "AddIndex":
    case "AddConstraint": {
      const value = op.args.index ?? op.args.constraint;
      if (value?.kind !== "call") return [`${model}.*`];
      const name = literalString(value.kwargs.name);
      const fields = stringList(value.kwargs.fields);
      return [`${model}.#${name ?? "*"}`, ...(fields.length > 0 ? fields : ["*"]).map((f) => `${model}.${f.replace(/^-/, "")}`)];
    }
    case "RemoveIndex":
    case "RemoveConstraint":
      return [`${model}.#${literalString(op.args.name) ?? "*"}`];
    default:
      return [`${model}.*`];
  }
}

/** Whether two operations' `orderKeys` overlap, so their order matters. */
function dependent(a: string[], b: string[]): boolean {
  return a.some((key) => key.endsWith(".*") || key.endsWith(".#*") || b.includes(key)) || b.some((key) => key.endsWith(".*") || key.endsWith(".#*"));
}
const heldByMigration = new WeakMap<ParsedMigration, Map<string, HeldLock>>();

/**
 * What an earlier operation of the migration holds ACCESS EXCLUSIVE on `table` for (`adding column
 * \`order\``), as this rule has counted the operations before `ctx.op`: other rules' messages say
 * reads wait too, instead of contradicting this rule's finding on the same line (Label Studio
 * data_manager 0011: an index build after an AddField). Null when nothing is held, or outside an
 * atomic migration on PostgreSQL. A rule that asks lists this one in `uses`, so the engine keeps
 * the count when this rule is not selected.
 */
export function exclusiveLockHeldBefore(ctx: OperationContext, table: string): string | null {
  const held = heldSoFar(ctx)?.get(table);
  return held && held.range !== ctx.op.range ? held.what : null;
}

/**
 * How many tables other than `table` an earlier operation of the migration holds ACCESS EXCLUSIVE
 * on, as `exclusiveLockHeldBefore` counts them: their reads wait for this operation too.
 */
export function otherTablesHeldBefore(ctx: OperationContext, table: string): number {
  const held = heldSoFar(ctx);
  if (!held) return 0;
  // Counted from the operation's own locks (this rule may have counted them already), not by
  // listing every held one: a migration of thousands of operations holds thousands.
  let count = held.size - (held.has(table) ? 1 : 0);
  for (const t of new Set(locksOf(ctx).map((l) => l.table))) if (t !== table && held.get(t)?.range === ctx.op.range) count--;
  return count;
}

/** The locks this rule has counted in the migration so far; null outside an atomic migration on PostgreSQL, and at its first operation. */
function heldSoFar(ctx: OperationContext): Map<string, HeldLock> | null {
  const { migration } = ctx;
  if (ctx.target.database !== "postgresql" || !migration.atomic) return null;
  // The first operation has nothing before it, and the map may be a previous replay's.
  if (ctx.parent === null && ctx.op === migration.operations[0]) return null;
  return heldByMigration.get(migration) ?? null;
}

/** Slow work an operation does on an existing table: an index build, a scan or a rewrite. */
interface SlowWork {
  table: string;
  what: string;
  range: SourceRange;
}

/**
 * What adding `constraint` makes PostgreSQL do to every existing row: a unique constraint and an
 * exclusion constraint are built as an index (a unique one as `ADD CONSTRAINT ... UNIQUE` or
 * `CREATE UNIQUE INDEX`), a check constraint is validated by a scan.
 */
function constraintWork(constraint: PyValue | undefined): string {
  const name = constraint?.kind === "call" ? literalString(constraint.kwargs.name) : null;
  const named = name ? ` \`${name}\`` : "";
  if (callOf(constraint, "UniqueConstraint")) return `builds the unique index of constraint${named}`;
  if (callOf(constraint, "ExclusionConstraint")) return `builds the index of exclusion constraint${named}`;
  return `checks every row for the new constraint${named}`;
}

/** What the operation does that takes time proportional to a pre-existing table; [] when nothing. */
function slowWork(ctx: OperationContext): SlowWork[] {
  const { op } = ctx;
  const range = op.range;
  switch (op.kind) {
    case "AddIndex": {
      const model = existingModel(ctx, "model_name");
      if (!model) return [];
      const name = op.args.index?.kind === "call" ? literalString(op.args.index.kwargs.name) : null;
      return [{ table: ctx.tableOf(model), what: `builds index${name ? ` \`${name}\`` : ""}`, range }];
    }
    case "AddConstraint": {
      const model = existingModel(ctx, "model_name");
      if (!model) return [];
      return [{ table: ctx.tableOf(model), what: constraintWork(op.args.constraint), range }];
    }
    case "AlterUniqueTogether":
    case "AlterIndexTogether": {
      const model = existingModel(ctx, "name");
      if (!model) return [];
      const key = op.kind === "AlterUniqueTogether" ? "unique_together" : "index_together";
      const before = op.kind === "AlterUniqueTogether" ? model.uniqueTogether : model.indexTogether;
      // Ordered, as Django compares them: a reordered set drops and builds the index again.
      const added = togetherAdded(before, togetherList(op.args[key]));
      return added.length ? [{ table: ctx.tableOf(model), what: `builds an index on (${added[0]?.join(", ")})`, range }] : [];
    }
    case "AddField":
    case "AlterField": {
      const resolved = fieldOperation(ctx);
      if (!resolved) return [];
      const { model, name, before, after } = resolved;
      if (before?.relation?.kind === "m2m" || after.relation?.kind === "m2m") return [];
      const column = columnOf(after) ?? name;
      const table = ctx.tableOf(model);
      if (!before) {
        // A plain index is built at the end of the migration, unless a later `RemoveField` of the
        // field discards it; then the foreign key has no row to check either.
        const dropped = fieldDroppedLater(ctx, model.key, name);
        if (after.unique || after.primaryKey || (after.dbIndex && !dropped)) return [{ table, what: `builds an index on the new column \`${column}\``, range }];
        if (after.relation?.dbConstraint && !dropped) return [{ table, what: `validates the foreign key of the new column \`${column}\``, range }];
        return [];
      }
      if (databaseChanges(before, after).length === 0) return [];
      if ((after.unique && !before.unique) || (after.dbIndex && !before.dbIndex)) return [{ table, what: `builds an index on \`${column}\``, range }];
      if (after.null === false && before.null !== false) return [{ table, what: `scans every row to set \`${column}\` NOT NULL`, range }];
      // PostgreSQL changes some types in place (varchar growth, varchar to text, numeric precision growth).
      const typeChange = readTypeChange(ctx);
      if (typeChange?.change === "rewrite") return [{ table, what: `rewrites the table to change the type of \`${column}\``, range }];
      if (typeChange?.change === "narrowing") return [{ table, what: `rewrites the table to narrow the type of \`${column}\``, range }];
      if (after.relation?.dbConstraint && (before.relation?.dbConstraint ?? false)) return [{ table, what: `re-validates the foreign key of \`${column}\``, range }];
      return [];
    }
    case "RenameField": {
      // Django renames the column with alter_field, which drops the foreign key and adds it back.
      const renamed = renamedField(ctx);
      if (!renamed || !dropsForeignKey(renamed.before, renamed.after)) return [];
      return [{ table: ctx.tableOf(renamed.model), what: `re-validates the foreign key of the renamed column \`${columnOf(renamed.before)}\``, range }];
    }
    case "RunSQL": {
      const work: SlowWork[] = [];
      for (const { fact, range: at } of forwardStatements(ctx)) {
        const slow =
          (fact.kind === "create-index" && !fact.concurrently) ||
          (fact.kind === "add-constraint" && !fact.notValid && !fact.usingIndex) ||
          fact.kind === "set-not-null" ||
          fact.kind === "alter-column-type";
        if (!slow) continue;
        const ref = resolveSqlTable(ctx, fact);
        if (!ref || ref.isNew) continue;
        work.push({ table: ref.table, what: `runs \`${describeStatement(fact)}\``, range: at });
      }
      return work;
    }
    default:
      return [];
  }
}

/**
 * The tables the operation renames, old name to new: a lock taken on a table is held on it under
 * its new name, where later operations of the migration find it.
 */
function renamedTables(ctx: OperationContext): { from: string; to: string }[] {
  const { op } = ctx;
  switch (op.kind) {
    case "RenameModel": {
      const model = existingModel(ctx, "old_name");
      const newName = literalString(op.args.new_name);
      return model && newName && model.dbTable === null ? [{ from: ctx.tableOf(model), to: defaultTableName(model.app, newName.toLowerCase()) }] : [];
    }
    case "AlterModelTable": {
      const model = existingModel(ctx, "name");
      if (!model) return [];
      const to = literalString(op.args.table) ?? defaultTableName(model.app, model.key);
      return to !== ctx.tableOf(model) ? [{ from: ctx.tableOf(model), to }] : [];
    }
    case "RunSQL":
      return forwardStatements(ctx).flatMap(({ fact }) => {
        const to = fact.kind === "rename-table" && fact.schema === null ? fact.newName : null;
        const ref = to === null ? null : resolveSqlTable(ctx, fact);
        return to !== null && ref && !ref.isNew ? [{ from: ref.table, to }] : [];
      });
    default:
      return [];
  }
}

/**
 * RS214 (H34): in an atomic PostgreSQL migration, slow work (an index build, a validation scan, a
 * rewrite) after an earlier operation took ACCESS EXCLUSIVE on another table, or on the same table
 * when the slow work itself would only need a weaker lock: the earlier lock is held until COMMIT,
 * so that table is unreadable for as long as the slow work takes.
 */
export const runningSlowOperationUnderExclusiveLock: Rule = {
  meta: {
    code: "RS214",
    name: "running-slow-operation-under-exclusive-lock",
    severity: "error",
    databases: ["postgresql"],
    claims: [],
    unobservable:
      "The hazard is how long an ACCESS EXCLUSIVE lock is held (until the slow work of a later operation commits), which a small table cannot show; the locks themselves are the ones `altering-hot-table` verifies on PostgreSQL 15.",
    hazards: ["H34"],
    docs: {
      summary: "Slow work after an operation took ACCESS EXCLUSIVE earlier in the same transaction",
      what:
        "Flags, in an atomic migration on PostgreSQL, an operation that builds an index, scans or validates rows, or may rewrite a pre-existing table (`AddIndex`, `AddConstraint`, new `unique_together`/`index_together` sets, an indexed or foreign-key `AddField`, an `AlterField` that adds an index, sets NOT NULL, changes the type or re-validates a foreign key, a `RenameField` of a foreign-key column, which re-validates it, and the same in `RunSQL`), when an earlier operation of the migration took ACCESS EXCLUSIVE on a pre-existing table that the slow operation does not lock that strongly itself. Backfills are `mixing-backfill-with-schema-changes`'s, and a validation right after `NOT VALID` in the same migration is `validating-constraint-in-same-transaction`'s and `runsql-adding-constraint-without-not-valid`'s. An index build on a table the migration itself holds locked is left to `adding-index-non-concurrently` where that rule reports it: its finding says that reads wait too, and on how many other tables.",
      why:
        "Django runs a migration in one transaction on PostgreSQL, and a lock is released only at COMMIT. An `AddField` alone holds ACCESS EXCLUSIVE for milliseconds; followed by an index build or a validation scan on a large table, it holds it for the whole build, and every query of the locked table, reads included, waits behind it.",
      recipe: [
        "Put the slow operation in its own migration (if it is an index, build it concurrently in an `atomic = False` migration), so each transaction holds only its own lock.",
        "Or reorder the migration: Django runs operations in order, so with the slow operation first and the quick ACCESS EXCLUSIVE ones last, the exclusive lock is taken just before COMMIT.",
      ],
      severityReason: "Error: a table that every request reads is locked against reads and writes for as long as an index build or a scan on a large table takes.",
      bad: `migrations.AddField(
    model_name="author",
    name="nickname",
    field=models.CharField(max_length=50, null=True),
),
# rollsafe: ignore[adding-index-non-concurrently] library_book is small; the build takes a moment
migrations.AddIndex(
    model_name="book",
    index=models.Index(fields=["title"], name="book_title_idx"),
),`,
      good: `# rollsafe: ignore[adding-index-non-concurrently] library_book is small; the build takes a moment
migrations.AddIndex(
    model_name="book",
    index=models.Index(fields=["title"], name="book_title_idx"),
),
migrations.AddField(
    model_name="author",
    name="nickname",
    field=models.CharField(max_length=50, null=True),
),`,
    },
  },
  operation(ctx) {
    const { op, migration } = ctx;
    if (ctx.target.database !== "postgresql" || !migration.atomic || op.unknown) return;
    if (ctx.effect === "state" || op.thirdParty?.database === "none") return;
    let held = heldByMigration.get(migration);
    // A new replay of the migration (another run in the same process) starts empty.
    if (!held || (ctx.parent === null && op === migration.operations[0])) {
      held = new Map();
      heldByMigration.set(migration, held);
    }
    const locks = locksOf(ctx);
    const work = held.size > 0 ? slowWork(ctx) : null;
    const first = work?.[0];
    if (first) {
      // The held locks this operation does not take itself. (Counted from its own locks, not by
      // listing every held one: a migration of thousands of operations holds thousands.)
      const ownExclusive = new Set(locks.filter((l) => l.mode === "ACCESS EXCLUSIVE").map((l) => l.table));
      let extended = held.size;
      for (const table of ownExclusive) if (held.has(table)) extended--;
      // The lock on the table this operation works on, when the migration holds one: its queries
      // are the ones that wait for the whole build or scan. Else the first lock held.
      let lockedTable: string | undefined = ownExclusive.has(first.table) || !held.has(first.table) ? undefined : first.table;
      let lock: HeldLock | undefined = lockedTable === undefined ? undefined : held.get(lockedTable);
      if (!lock) {
        for (const [table, entry] of held) {
          if (ownExclusive.has(table)) continue;
          lockedTable = table;
          lock = entry;
          break;
        }
      }
      if (lockedTable && lock) {
        const others = extended > 1 ? ` (and ${extended - 1} more table${extended > 2 ? "s" : ""})` : "";
        ctx.report({
          range: first.range,
          message: `This ${operationLabel(op)} ${first.what} on \`${first.table}\` while the migration still holds the ACCESS EXCLUSIVE lock it took on \`${lockedTable}\`${others} for ${lock.what} (line ${lock.range.line}).`,
          help: [
            `Django runs the migration in one transaction, and PostgreSQL releases locks only at COMMIT: every query of \`${lockedTable}\`, reads included, waits until this ${operationLabel(op)} and the rest of the migration finish, which on a large \`${first.table}\` is the whole ${first.what.startsWith("builds") ? "index build" : "scan"}.`,
            `1. Move this ${op.kind} to its own migration (for an index, \`AddIndexConcurrently\` in a migration with \`atomic = False\`), so each transaction holds only its own lock.`,
            lock.slow
              ? `2. Swapping the two would not help: the operation on line ${lock.range.line} is slow work too (${lock.what}), so the other table would wait instead. Give each its own migration.`
              : // Moving it past an operation on the same table may break the migration (Arches 10555:
                // a RemoveConstraint moved after the AddConstraint that makes the same name again).
                lock.usedAfter !== undefined || ((first.table === lockedTable || locks.some((l) => l.table === lockedTable)) && dependent(lock.keys, orderKeys(op)))
                ? `2. Do not move the operation on line ${lock.range.line} after it instead: ${lock.usedAfter ? `the operation on line ${lock.usedAfter.line}, in between, works on ${lock.keys.some((k) => k.endsWith(".*")) ? "the model it changes" : `the same ${lock.keys.some((k) => k.includes(".#")) ? "constraint or index" : "field"}`} and depends on the order` : `this ${op.kind} works on ${lock.keys.some((k) => k.endsWith(".*")) ? "the model it changes" : "the same field, constraint or index"} and may depend on it`}. Give each its own migration.`
                : lock.takenAgain !== undefined
                  ? `2. Moving the operation on line ${lock.range.line} after it would not help: the operation on line ${lock.takenAgain.line} takes ACCESS EXCLUSIVE on \`${lockedTable}\` too, before this one. Give this ${op.kind} its own migration.`
                  : `2. Or run it first: move the operation on line ${lock.range.line} after it, so the ACCESS EXCLUSIVE lock on \`${lockedTable}\` is taken just before COMMIT.`,
          ],
          related: [ctx.relatedAt({ file: migration.path, range: lock.range }, `ACCESS EXCLUSIVE on \`${lockedTable}\` taken here`)],
          // An index build on a table held locked: adding-index-non-concurrently's finding there
          // says that reads of it (and of the other tables held) wait for the build, and names this rule.
          ...(lockedTable === first.table && first.what.startsWith("builds") ? { coveredBy: "adding-index-non-concurrently" } : {}),
        });
      }
    }
    let slow: boolean | undefined;
    let keys: string[] | undefined;
    for (const lock of locks) {
      const earlier = held.get(lock.table);
      if (earlier && earlier.range !== op.range && earlier.usedAfter === undefined && dependent(earlier.keys, (keys ??= orderKeys(op)))) earlier.usedAfter = op.range;
      if (lock.mode === "ACCESS EXCLUSIVE" && earlier && earlier.range !== op.range) earlier.takenAgain ??= op.range;
      if (lock.mode !== "ACCESS EXCLUSIVE" || held.has(lock.table)) continue;
      slow ??= (work ?? slowWork(ctx)).length > 0;
      held.set(lock.table, { what: lock.what, range: op.range, slow, keys: (keys ??= orderKeys(op)) });
    }
    for (const { from, to } of renamedTables(ctx)) {
      const lock = held.get(from);
      if (!lock) continue;
      held.delete(from);
      if (!held.has(to)) held.set(to, lock);
    }
  },
};
