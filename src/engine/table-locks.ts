/**
 * The table locks a Django operation takes on existing tables, by PostgreSQL lock mode, checked
 * against Django 4.2's schema editor and PostgreSQL 15's `pg_locks` (see the fixtures of
 * `altering-hot-table`). Rules that reason about what an operation blocks share it. On SQLite,
 * which locks the whole database rather than a table, an operation whose SQL changes a table
 * counts as locking it like the matching PostgreSQL statement.
 */
import type { OperationContext } from "./rule-types.js";
import type { Operation, PyValue } from "../model/types.js";
import { describeStatement, isPublic, type SqlStatementFact, type SqlStatementKind } from "../sql/analyze-sql.js";
import { fieldOfColumn, forwardStatements, modelOfIndex, modelOfTable, resolveSqlTable, tablesCreatedBefore } from "./sql-facts-for-operation.js";
import { databaseChanges, dropsForeignKey } from "./field-changes.js";
import { className, columnOf, defaultTableName, fieldFromCall, isColumnless, literalBool, literalString, outsideTable, togetherList, type FieldState, type ModelState } from "../state/model-state.js";

/**
 * The table-level lock modes that conflict with the application's traffic: SHARE and SHARE ROW
 * EXCLUSIVE conflict with the ROW EXCLUSIVE lock of every INSERT/UPDATE/DELETE, ACCESS EXCLUSIVE
 * with the ACCESS SHARE of every SELECT too. Weaker modes (SHARE UPDATE EXCLUSIVE: concurrent index
 * builds, VALIDATE CONSTRAINT, COMMENT, ALTER INDEX RENAME) let reads and writes through, so
 * nothing queues behind them.
 */
export type LockMode = "SHARE" | "SHARE ROW EXCLUSIVE" | "EXCLUSIVE" | "ACCESS EXCLUSIVE";
export const LOCK_RANK: Record<LockMode, number> = { SHARE: 1, "SHARE ROW EXCLUSIVE": 2, EXCLUSIVE: 3, "ACCESS EXCLUSIVE": 4 };

/** One lock an operation takes on an existing table. */
export interface TableLock {
  table: string;
  /** The model whose table it is, when the state knows it. */
  model: ModelState | null;
  /** `app.model` when the table is the target of a relation the state does not hold (e.g. `auth.user`). */
  key: string | null;
  mode: LockMode;
  /** What takes the lock, for messages: "adding column `isbn`". */
  what: string;
  /** The lock is taken because of a foreign key referencing the table (from another table). */
  referenced: boolean;
  /**
   * Taken only when the migration ends: on PostgreSQL, Django's schema editor adds the foreign
   * keys of a table it creates (a model's, or the join table of a new many-to-many field) with
   * its deferred SQL, which runs after the migration's last operation, just before COMMIT.
   */
  atEnd?: true;
}

/** ALTER TABLE subcommands and statements that take ACCESS EXCLUSIVE on their table. */
const ACCESS_EXCLUSIVE_SQL: ReadonlySet<SqlStatementKind> = new Set<SqlStatementKind>([
  "add-column",
  "drop-column",
  "rename-column",
  "rename-table",
  "rename-constraint",
  "set-schema",
  "drop-constraint",
  "set-not-null",
  "drop-not-null",
  "alter-column-type",
  "set-default",
  "drop-default",
  "set-tablespace",
  "set-logged",
  "set-unlogged",
  "set-access-method",
  "drop-table",
  "truncate",
  "vacuum-full",
  "cluster",
]);

/** The lock a SQL statement takes on its own table, or null when it lets traffic through. */
/** `DROP TRIGGER ... ON table`, "other" to the SQL facts: ACCESS EXCLUSIVE on its table (pg_locks on PostgreSQL 15; Arches 11848). */
export function dropsTrigger(fact: SqlStatementFact): boolean {
  return fact.kind === "other" && fact.nodeType === "DropStmt" && fact.objectType === "trigger" && fact.table !== null;
}

function sqlLockMode(fact: SqlStatementFact): LockMode | null {
  if (ACCESS_EXCLUSIVE_SQL.has(fact.kind)) return "ACCESS EXCLUSIVE";
  switch (fact.kind) {
    case "add-constraint":
      // A foreign key takes SHARE ROW EXCLUSIVE on both tables; CHECK, UNIQUE, PRIMARY KEY and
      // EXCLUDE are ALTER TABLE's default ACCESS EXCLUSIVE.
      return fact.constraintType === "foreign-key" ? "SHARE ROW EXCLUSIVE" : "ACCESS EXCLUSIVE";
    case "create-index":
      return fact.concurrently || fact.only ? null : "SHARE";
    case "drop-index":
    case "detach-partition":
      return fact.concurrently ? null : "ACCESS EXCLUSIVE";
    case "reindex":
      return fact.concurrently ? null : "SHARE";
    case "create-trigger":
      return "SHARE ROW EXCLUSIVE";
    case "other":
      return dropsTrigger(fact) ? "ACCESS EXCLUSIVE" : null;
    case "lock-table":
      // EXCLUSIVE blocks writes (not reads), like SHARE and SHARE ROW EXCLUSIVE.
      return fact.lockMode === "SHARE" || fact.lockMode === "SHARE ROW EXCLUSIVE" || fact.lockMode === "EXCLUSIVE" || fact.lockMode === "ACCESS EXCLUSIVE"
        ? fact.lockMode
        : null;
    default:
      return null;
  }
}

/** Collects the locks of one operation on tables that exist before the migration. */
class LockCollector {
  readonly locks: TableLock[] = [];
  constructor(private readonly ctx: OperationContext) {}

  /** The model's own table, if it exists before this migration and Django manages it. */
  own(model: ModelState | undefined | null, mode: LockMode, what: string): void {
    if (!model || !this.ctx.hasTable(model) || this.ctx.isNewTable(model)) return;
    this.locks.push({ table: this.ctx.tableOf(model), model, key: null, mode, what, referenced: false });
  }

  /** The table a relation `to` (`app.model`) points at, when it exists before this migration. */
  target(to: string | null, mode: LockMode, what: string, atEnd = false): void {
    if (to === null) return;
    const when = atEnd ? { atEnd: true as const } : {};
    const model = this.ctx.state.modelByKey(to) ?? this.ctx.db.modelByKey(to);
    if (model) {
      if (!this.ctx.hasTable(model) || this.ctx.isNewTable(model)) return;
      this.locks.push({ table: this.ctx.tableOf(model), model, key: null, mode, what, referenced: true, ...when });
      return;
    }
    // A model outside the linted apps (`auth.User` behind `settings.AUTH_USER_MODEL`).
    this.locks.push({ table: outsideTable(to), model: null, key: to, mode, what, referenced: true, ...when });
  }

  /** The tables a field's foreign-key constraints reference (FK/one-to-one, or an auto-created M2M join table). */
  relationTargets(owner: ModelState, field: FieldState, mode: LockMode, what: string, atEnd = false): void {
    const rel = field.relation;
    if (!rel || !rel.dbConstraint) return;
    if (rel.kind === "m2m") {
      if (rel.through) return; // an explicit through model has its own fields and operations
      this.target(`${owner.app}.${owner.key}`, mode, what, atEnd);
    }
    this.target(rel.to, mode, what, atEnd);
  }
}

/** Locks per operation context: several rules ask for the same operation's locks. */
const locksByContext = new WeakMap<OperationContext, TableLock[]>();

export function locksOf(ctx: OperationContext): TableLock[] {
  let locks = locksByContext.get(ctx);
  if (!locks) locksByContext.set(ctx, (locks = computeLocks(ctx)));
  return locks;
}

function computeLocks(ctx: OperationContext): TableLock[] {
  const { op } = ctx;
  const c = new LockCollector(ctx);
  const model = (arg: string) => ctx.model(literalString(op.args[arg]));
  const name = literalString(op.args.name);
  switch (op.kind) {
    case "CreateModel": {
      // The model is not in the state yet (rules see an operation before it is applied).
      const modelName = literalString(op.args.name);
      const fields = op.args.fields;
      const options = op.args.options;
      const option = (key: string) =>
        options?.kind === "dict" ? options.entries.find((e) => literalString(e.key) === key)?.value : undefined;
      // Unmanaged models and proxies get no table, so no foreign-key constraints either.
      if (!modelName || fields?.kind !== "list" || literalBool(option("managed")) === false || literalBool(option("proxy")) === true) break;
      const app = ctx.migration.app;
      const key = modelName.toLowerCase();
      for (const item of fields.items) {
        if (item.kind !== "tuple" || item.items.length !== 2) continue;
        const [fieldName, call] = item.items as [PyValue, PyValue];
        if (fieldName.kind !== "str") continue;
        const field = fieldFromCall(fieldName.value, call, app, key, null);
        const rel = field.relation;
        if (!rel?.dbConstraint || rel.to === `${app}.${key}` || (rel.kind === "m2m" && rel.through)) continue;
        c.target(rel.to, "SHARE ROW EXCLUSIVE", `the foreign key of the new \`${modelName}.${fieldName.value}\``, true);
      }
      break;
    }
    case "AddField": {
      const owner = model("model_name");
      if (!owner || !ctx.hasTable(owner) || !name || !op.args.field) break;
      const field = fieldFromCall(name, op.args.field, owner.app, owner.key, null);
      if (isColumnless(field)) break;
      if (field.relation?.kind === "m2m") {
        // A new join table, whose two foreign keys reference both tables.
        c.relationTargets(owner, field, "SHARE ROW EXCLUSIVE", `the join table of the new \`${owner.name}.${name}\``, true);
        break;
      }
      c.own(owner, "ACCESS EXCLUSIVE", `adding column \`${columnOf(field) ?? name}\``);
      c.relationTargets(owner, field, "SHARE ROW EXCLUSIVE", `the foreign key of the new \`${owner.name}.${name}\``);
      break;
    }
    case "AlterField": {
      const owner = model("model_name");
      const before = name ? owner?.fields.get(name) : undefined;
      if (!owner || !name || !before || !op.args.field || !ctx.hasTable(owner) || ctx.isNewTable(owner)) break;
      const after = fieldFromCall(name, op.args.field, owner.app, owner.key, null);
      const changes = databaseChanges(before, after, ctx.target.database);
      if (before.relation?.kind === "m2m" || after.relation?.kind === "m2m" || changes.length === 0) break;
      // Django drops the foreign key of an altered FK column (DROP CONSTRAINT: ACCESS EXCLUSIVE on
      // both tables) and adds it back (SHARE ROW EXCLUSIVE on both, validating every row).
      const dropped = dropsForeignKey(before, after);
      const column = `\`${columnOf(before) ?? name}\``;
      if (!dropped && changes.every((k) => k === "db_index")) {
        // Only the index: CREATE INDEX (SHARE) or DROP INDEX (ACCESS EXCLUSIVE).
        c.own(owner, after.dbIndex ? "SHARE" : "ACCESS EXCLUSIVE", `${after.dbIndex ? "indexing" : "dropping the index of"} column ${column}`);
        break;
      }
      c.own(owner, "ACCESS EXCLUSIVE", `altering column ${column}`);
      if (dropped) c.relationTargets(owner, before, "ACCESS EXCLUSIVE", `${after.relation ? "dropping and re-adding" : "dropping"} the foreign key of \`${owner.name}.${name}\``);
      c.relationTargets(owner, after, "SHARE ROW EXCLUSIVE", `the foreign key of \`${owner.name}.${name}\``);
      break;
    }
    case "RemoveField": {
      const owner = model("model_name");
      const field = name ? owner?.fields.get(name) : undefined;
      if (!owner || !name || !field || !ctx.hasTable(owner) || ctx.isNewTable(owner) || isColumnless(field)) break;
      if (field.relation?.kind === "m2m") {
        // Dropping the join table drops its foreign keys: ACCESS EXCLUSIVE on both referenced
        // tables. A field with a `through` model drops nothing (its table is the model's).
        if (!field.relation.through) c.relationTargets(owner, field, "ACCESS EXCLUSIVE", `dropping the join table of \`${owner.name}.${name}\``);
        break;
      }
      c.own(owner, "ACCESS EXCLUSIVE", `dropping column \`${columnOf(field) ?? name}\``);
      c.relationTargets(owner, field, "ACCESS EXCLUSIVE", `dropping the foreign key of \`${owner.name}.${name}\``);
      break;
    }
    case "RenameField": {
      const owner = model("model_name");
      const oldName = literalString(op.args.old_name);
      const newName = literalString(op.args.new_name);
      const field = oldName ? owner?.fields.get(oldName) : undefined;
      if (!owner || !field || !newName || field.dbColumn !== null || field.relation?.kind === "m2m") break;
      c.own(owner, "ACCESS EXCLUSIVE", `renaming column \`${columnOf(field) ?? oldName}\``);
      // Django renames the column with alter_field, which drops a foreign key first and adds it
      // back (validated) after the rename, as for an AlterField.
      if (dropsForeignKey(field, { ...field, name: newName })) {
        c.relationTargets(owner, field, "ACCESS EXCLUSIVE", `dropping and re-adding the foreign key of \`${owner.name}.${oldName}\``);
      }
      break;
    }
    case "AddIndex":
      // CONCURRENTLY is PostgreSQL's word (PeeringDB 0102 on MySQL).
      c.own(model("model_name"), "SHARE", ctx.target.database === "postgresql" ? "building an index without CONCURRENTLY" : "building an index");
      break;
    case "RemoveIndex":
      c.own(model("model_name"), "ACCESS EXCLUSIVE", ctx.target.database === "postgresql" ? "dropping an index without CONCURRENTLY" : "dropping an index");
      break;
    case "RenameIndex":
      // PostgreSQL renames in place (`ALTER INDEX ... RENAME`: SHARE UPDATE EXCLUSIVE on the index
      // only). SQLite cannot (`can_rename_index` is False): Django drops the index and builds it again.
      if (ctx.target.database === "sqlite") c.own(model("model_name"), "ACCESS EXCLUSIVE", "dropping the index and building it again under its new name");
      break;
    case "AddConstraint": {
      const constraint = op.args.constraint;
      // A UniqueConstraint with a condition or expressions is a CREATE UNIQUE INDEX (SHARE);
      // every other constraint is an ALTER TABLE ... ADD CONSTRAINT (ACCESS EXCLUSIVE).
      const asIndex = constraint?.kind === "call" && className(constraint).endsWith("UniqueConstraint")
        && (constraint.args.length > 0 || constraint.kwargs.fields === undefined
          || ["condition", "include", "opclasses"].some((k) => constraint.kwargs[k] !== undefined));
      c.own(model("model_name"), asIndex ? "SHARE" : "ACCESS EXCLUSIVE", "adding a constraint");
      break;
    }
    case "AddConstraintNotValid":
      c.own(model("model_name"), "ACCESS EXCLUSIVE", "adding a NOT VALID constraint");
      break;
    case "RemoveConstraint":
      c.own(model("model_name"), "ACCESS EXCLUSIVE", "dropping a constraint");
      break;
    case "AlterUniqueTogether": {
      const owner = model("name");
      if (owner && !sameSets(owner.uniqueTogether, togetherList(op.args.unique_together))) c.own(owner, "ACCESS EXCLUSIVE", "changing `unique_together`");
      break;
    }
    case "AlterIndexTogether": {
      const owner = model("name");
      const after = togetherList(op.args.index_together);
      if (!owner || sameSets(owner.indexTogether, after)) break;
      const removes = owner.indexTogether.some((set) => !after.some((s) => sameSet(s, set)));
      c.own(owner, removes ? "ACCESS EXCLUSIVE" : "SHARE", "changing `index_together`");
      break;
    }
    case "AlterModelTable": {
      const owner = model("name");
      // `table=None` is Django's default name (allianceauth teamspeak3 0002: a no-op when the table has it).
      const table = !op.args.table || op.args.table.kind === "none" ? (owner ? defaultTableName(owner.app, owner.key) : null) : literalString(op.args.table);
      if (owner && table !== ctx.tableOf(owner)) c.own(owner, "ACCESS EXCLUSIVE", "renaming the table");
      break;
    }
    case "AlterOrderWithRespectTo":
      c.own(model("name"), "ACCESS EXCLUSIVE", "adding or dropping the `_order` column");
      break;
    case "RenameModel": {
      const owner = model("old_name");
      if (!owner) break;
      if (owner.dbTable === null) c.own(owner, "ACCESS EXCLUSIVE", "renaming the table");
      // Django alters every field pointing at the renamed model: PostgreSQL drops each foreign-key
      // constraint (ACCESS EXCLUSIVE on both tables, pg_locks of renaming-model-rebuilds-foreign-keys'
      // fixture) and adds it again, validating it (see renaming-model-rebuilds-foreign-keys). A
      // self-reference is on the owner's table.
      const rebuilt = ctx.state.foreignKeyConstraintsTo(`${owner.app}.${owner.key}`);
      for (const { model: other, field } of rebuilt) {
        if (other !== owner) c.own(other, "ACCESS EXCLUSIVE", `dropping and re-creating the foreign key \`${other.name}.${field.name}\` to the renamed model`);
      }
      if (rebuilt.length > 0 && owner.dbTable !== null) c.own(owner, "ACCESS EXCLUSIVE", "dropping and re-creating the foreign keys that point at it");
      break;
    }
    case "DeleteModel": {
      const owner = model("name");
      if (!owner || !ctx.hasTable(owner) || ctx.isNewTable(owner)) break;
      c.own(owner, "ACCESS EXCLUSIVE", "dropping the table");
      // DROP TABLE drops the table's foreign keys: ACCESS EXCLUSIVE on every table they reference.
      for (const field of owner.fields.values()) {
        if (field.relation?.to === `${owner.app}.${owner.key}` && field.relation.kind !== "m2m") continue;
        c.relationTargets(owner, field, "ACCESS EXCLUSIVE", `dropping \`${owner.name}\` and its foreign key \`${field.name}\``);
      }
      break;
    }
    case "RunSQL":
      return sqlLocks(ctx);
  }
  return c.locks;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function sameSets(a: string[][], b: string[][]): boolean {
  return a.length === b.length && a.every((set) => b.some((other) => sameSet(set, other)));
}

/** The locks of a `RunSQL`'s statements, each with the statement's range. */
export function sqlLocks(ctx: OperationContext): (TableLock & { range?: Operation["range"] })[] {
  const locks: (TableLock & { range?: Operation["range"] })[] = [];
  for (const { fact, range } of forwardStatements(ctx)) {
    const statement = `\`${describeStatement(fact)}\``;
    const ref = resolveSqlTable(ctx, fact);
    const mode = sqlLockMode(fact);
    if (ref && !ref.isNew && mode) {
      locks.push({ table: ref.table, model: ref.dbModel ?? ref.model, key: null, mode, what: statement, referenced: false, range });
    } else if (mode && fact.table === null && fact.index !== null && isPublic(fact.schema) && (fact.kind === "drop-index" || fact.kind === "reindex")) {
      // DROP INDEX and REINDEX INDEX name only the index: its table is the one the state puts it on.
      const owner = modelOfIndex(ctx, fact.index);
      if (owner && !ctx.isNewTable(owner)) locks.push({ table: ctx.tableOf(owner), model: owner, key: null, mode, what: statement, referenced: false, range });
    }
    // Foreign keys the statement adds (SHARE ROW EXCLUSIVE on the referenced table) or drops with
    // their table or column (ACCESS EXCLUSIVE on it).
    const referenced: { schema: string | null; name: string; mode: LockMode }[] = [];
    if (fact.kind === "create-table" || (fact.kind === "add-constraint" && fact.constraintType === "foreign-key")) {
      for (const r of fact.references) referenced.push({ ...r, mode: "SHARE ROW EXCLUSIVE" });
    }
    const dropped = ref && !ref.isNew ? (ref.dbModel ?? ref.model) : null;
    if (dropped && (fact.kind === "drop-table" || fact.kind === "drop-column")) {
      const fields = fact.kind === "drop-table" ? [...dropped.fields.values()] : [fieldOfColumn(dropped, fact.column)].filter((f) => f !== null);
      for (const field of fields) {
        if (!field.relation?.dbConstraint || field.relation.kind === "m2m" || field.relation.to === null) continue;
        const target = ctx.db.modelByKey(field.relation.to) ?? ctx.state.modelByKey(field.relation.to);
        referenced.push({ schema: null, name: target ? ctx.tableOf(target) : outsideTable(field.relation.to), mode: "ACCESS EXCLUSIVE" });
      }
    }
    const created = tablesCreatedBefore(ctx, fact);
    for (const r of referenced) {
      if (r.schema !== null && r.schema !== "public") continue;
      if (r.name === fact.table || created.has(r.name)) continue;
      const model = modelOfTable(ctx.db, null, r.name) ?? modelOfTable(ctx.state, null, r.name);
      if (model && model.createdIn === ctx.migration.id) continue;
      locks.push({ table: r.name, model, key: null, mode: r.mode, what: `${statement} (a foreign key referencing it)`, referenced: true, range });
    }
  }
  return locks;
}

