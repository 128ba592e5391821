import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { TABLE_ALTERING_OPERATIONS } from "../src/model/django-operations.js";
import type { Operation } from "../src/model/types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { constraintFromValue, fieldFromCall, literalString, type FieldState } from "../src/state/model-state.js";
import { oncePer } from "../src/util/collections.js";
import { classifyTypeChange, columnTypeOf, formatColumnType, integerRank, textCapacity } from "./changing-column-type.js";
import { fieldOperation } from "../src/engine/resolved-operation.js";
import { parsedStatements, readableForwardStatements } from "../src/engine/sql-facts-for-operation.js";
import { functionsRunBy, isRunPythonNoop, runPythonFunctionName } from "../src/engine/run-python-facts.js";
import { locksOf, type TableLock } from "../src/engine/table-locks.js";

/** Calls a function that only changes the schema may make: running SQL, and the schema editor's index and quoting helpers. */
const SCHEMA_CALL = /(^|\.)(execute|cursor|add_index|remove_index|quote_name)$/;
/** Statement kinds that read or write rows, or whose effect cannot be read. */
const DATA_KINDS = new Set(["insert", "update", "delete", "select", "do-block", "other"]);

/**
 * Statements the SQL facts call "other" that define things and touch no rows: a function, a view,
 * a sequence, a type, a grant (Arches 11042 creates a trigger function, then the trigger).
 */
const DEFINITION_NODES = new Set(["CreateFunctionStmt", "AlterFunctionStmt", "ViewStmt", "CreateSeqStmt", "AlterSeqStmt", "CreateEnumStmt", "CreateDomainStmt", "DefineStmt", "CompositeTypeStmt", "GrantStmt", "DropStmt", "CreatePolicyStmt", "AlterPolicyStmt"]);

/** The functions a `RunPython` runs (`functionsRunBy`), and their names: a call of one of them is the function's own. */
function runFunctions(ctx: OperationContext, op: Operation): { functions: ReturnType<typeof functionsRunBy>; own: Set<string> } {
  const name = runPythonFunctionName(op.args.code);
  const functions = name ? functionsRunBy(ctx.migration, name) : [];
  return { functions, own: new Set(functions.map((f) => f.name)) };
}

/**
 * Whether a `RunPython` only changes the schema: its function (and the functions of the
 * migration it calls) calls nothing but `execute`, a cursor, and the schema editor's
 * `add_index`/`remove_index`, and it executes at least one statement, each read
 * (`Operation.executes`) and touching no rows. Its DDL is then checked as the schema change it
 * is, not as a backfill.
 */
function changesSchemaOnly(ctx: OperationContext, op: Operation): boolean {
  const { functions, own } = runFunctions(ctx, op);
  if (functions.length === 0 || functions.some((f) => f.imported)) return false;
  let executes = 0;
  let indexes = 0;
  for (const call of functions.flatMap((f) => f.calls)) {
    if (own.has(call)) return false; // called more than once, its executes would not add up
    if (!SCHEMA_CALL.test(call)) return false;
    if (call.endsWith(".execute")) executes++;
    if (call.endsWith(".add_index") || call.endsWith(".remove_index")) indexes++;
  }
  const ran = op.executes ?? [];
  if (ran.length === 0) return false;
  if (ran.filter((e) => e.kind === "RunSQL").length !== executes || ran.filter((e) => e.kind !== "RunSQL").length !== indexes) return false;
  return ran.every((e) => {
    if (e.kind !== "RunSQL") return e.kind === "AddIndex" || e.kind === "RemoveIndex";
    const statements = readableForwardStatements(ctx.sql(e));
    return statements !== null && statements.every((fact) => !DATA_KINDS.has(fact.kind) || (fact.kind === "other" && DEFINITION_NODES.has(fact.nodeType)));
  });
}

/** Calls that build the SQL or find the tables it names without touching rows: `apps.get_model`, dict and string methods. */
const SQL_BUILDING_CALL = /(^|\.)(get_model|items|keys|values|split|lower|upper|strip|replace)$/;

/** A `RunPython` that only executes SQL (`runsOnlySql`), some of it unread, as messages name it. */
const UNREAD_SQL = "`RunPython` (SQL only)";

/** Whether the functions a `RunPython` runs call nothing but SQL execution (`cursor.execute` ...). */
function runsOnlySql(ctx: OperationContext, op: Operation): boolean {
  const { functions, own } = runFunctions(ctx, op);
  const calls = functions.flatMap((f) => f.calls).filter((call) => !own.has(call));
  return functions.length > 0 && !functions.some((f) => f.imported) && calls.some((call) => call.endsWith(".execute")) && calls.every((call) => SCHEMA_CALL.test(call) || NO_DATABASE_CALL.test(call) || SQL_BUILDING_CALL.test(call));
}

/** Builtins a function that only reads may call, by bare name. */
const READING_BUILTINS = new Set(["print", "len", "list", "dict", "set", "tuple", "str", "int", "float", "bool", "sorted", "range", "enumerate", "zip", "isinstance", "getattr", "hasattr", "open", "min", "max", "sum", "any", "all", "repr", "format"]);
/** Methods a function that only reads may call: queryset reads, serialisation, files, logging. */
const READING_METHOD = /\.(get_model|all|filter|exclude|get|first|last|values|values_list|iterator|count|exists|order_by|select_related|prefetch_related|only|defer|annotate|aggregate|distinct|using|in_bulk|dump|dumps|load|loads|join|format|append|extend|items|keys|debug|info|warning|write)$/;

/**
 * Whether a `RunPython` only reads rows (Kiwi TCMS's management 0013 writes a backup file of a
 * column before the migration drops it): every call of its functions is a queryset read, a
 * builtin, a file write or logging. It takes no row locks, so one that runs before a schema
 * change holds nothing up.
 */
function readsOnly(ctx: OperationContext, op: Operation): boolean {
  if (op.kind !== "RunPython" || (op.executes?.length ?? 0) > 0) return false;
  const { functions, own } = runFunctions(ctx, op);
  if (functions.length === 0) return false;
  return functions.every((f) => f.calls.every((call) => own.has(call) || READING_BUILTINS.has(call) || READING_METHOD.test(call)));
}

/**
 * Calls that reach no database and take no time: writing to the console or a log, reading the
 * clock, formatting (IETF datatracker's `timestamp` functions write the time to stderr around
 * each step of doc 0015).
 */
const NO_DATABASE_CALL = /^(print|len|str|repr|int|float|format|sorted|range|enumerate|zip|isinstance|(sys\.)?(stdout|stderr)\.(write|flush)|(datetime\.)?(datetime|date)\.(now|today|utcnow)|(django\.utils\.)?timezone\.now|time\.(time|strftime|localtime|gmtime|monotonic|perf_counter)|(logger|log|logging|LOGGER|log\w*)\.(debug|info|warning|warn|error|exception|critical)|.+\.(strftime|isoformat|format|join))$/;

/**
 * A `RunPython` whose functions call nothing (a body of `return`, `pass`, a docstring: Funkwhale
 * music 0011), or nothing but calls that reach no database (`NO_DATABASE_CALL`): no rows, no time.
 */
function doesNothing(ctx: OperationContext, op: Operation): boolean {
  if ((op.executes?.length ?? 0) > 0) return false;
  const { functions, own } = runFunctions(ctx, op);
  return functions.length > 0 && functions.every((f) => f.calls.every((call) => own.has(call) || NO_DATABASE_CALL.test(call)));
}

/** A description of what the data operation does, or null when it is not a backfill. */
function backfillOf(ctx: OperationContext, op: Operation): string | null {
  if (op.kind === "RunPython") {
    if (isRunPythonNoop(op.args.code) || changesSchemaOnly(ctx, op) || doesNothing(ctx, op)) return null;
    // SQL alone, some of which rollsafe cannot read (Funkwhale music 0044's triggers, built with
    // `.format`): it may write rows, or only define things; the message does not say it backfills.
    return runsOnlySql(ctx, op) ? UNREAD_SQL : "`RunPython`";
  }
  if (op.kind !== "RunSQL") return null;
  const dml = parsedStatements(ctx.sql(op)?.forward).find((s) => ["insert", "update", "delete"].includes(s.fact.kind));
  return dml ? `\`RunSQL\` ${dml.fact.kind.toUpperCase()}` : null;
}

/** A schema change: the operation, and the lock it takes on an existing table. */
interface SchemaChange {
  op: Operation;
  what: string;
  lock: TableLock;
  /** What the change asks of the rows already there (`NOT NULL on \`isbn\``), which a backfill before it may be providing; null when nothing. */
  needs: string | null;
}

/**
 * What a schema change asks of the table's existing rows: NOT NULL, a unique or check constraint,
 * a foreign key's constraint. A backfill before such a change is often what makes the rows
 * satisfy it (filling NULLs, removing duplicates), so it cannot be moved after the deploy.
 */
function rowsNeeded(ctx: OperationContext): string | null {
  const { op } = ctx;
  if (op.kind === "AlterField") {
    const found = fieldOperation(ctx);
    return found?.before ? fieldNeeds(ctx, found.before, found.after, ctx.columnOf(found.after) ?? found.name) : null;
  }
  return constraintNeeds(op);
}

/** What an `AlterField` from `before` to `after` asks of the rows of `column`, or null. */
function fieldNeeds(ctx: OperationContext, before: FieldState, after: FieldState, column: string): string | null {
  if (before.null !== false && after.null === false) return `NOT NULL on \`${column}\`, which fails on any NULL left`;
  if (!before.unique && after.unique) return `the unique constraint on \`${column}\`, which fails on any duplicate left`;
  if (after.relation?.dbConstraint && !(before.relation?.dbConstraint ?? false)) return `the foreign key constraint on \`${column}\`, which fails on any row that points nowhere`;
  // A new column type: PostgreSQL casts every value (saleor's HTML `content` set to '{}' before `::jsonb`).
  const database = ctx.target.database;
  const from = columnTypeOf(before, ctx.state, database);
  const to = columnTypeOf(after, ctx.state, database);
  if (!from || !to) return null;
  const change = classifyTypeChange(from, to, database);
  // Wider integers and text of any length take every value; so does text from any type.
  const takesAll = (integerRank(from) !== undefined && integerRank(to) !== undefined) || (textCapacity(from) !== undefined && textCapacity(to) !== undefined) || from.base === to.base || textCapacity(to) === Infinity;
  if (change === "narrowing" || (change === "rewrite" && !takesAll)) return `the change of \`${column}\` from \`${formatColumnType(from)}\` to \`${formatColumnType(to)}\`, which fails on any value that does not ${change === "narrowing" ? "fit" : "convert"}`;
  return null;
}

/** What an `AddConstraint` or `AlterUniqueTogether` asks of the rows, or null. */
function constraintNeeds(op: Operation): string | null {
  if (op.kind === "AddConstraint" && op.args.constraint) {
    const constraint = constraintFromValue(op.args.constraint);
    if (constraint.kind === "other") return null;
    return `the ${constraint.kind} constraint \`${constraint.name}\`, which fails on any row that breaks it`;
  }
  if (op.kind === "AlterUniqueTogether") return "the unique constraint of `unique_together`, which fails on any duplicate left";
  return null;
}

/** The places of a migration's operations that may ask something of the rows (`rowsNeeded`), in order. */
const needingPlaces = oncePer((list: readonly Operation[]): number[] => list.flatMap((op, at) => (op.kind === "AlterField" || op.kind === "AddConstraint" || op.kind === "AlterUniqueTogether" ? [at] : [])));

/** How many later operations a backfill's advice looks at for one that needs its rows. */
const LATER_LOOKED_AT = 8;

/**
 * What a later operation of the migration asks of the rows a backfill may be fixing (Django's own
 * recipe for a new unique field: `AddField(null=True)`, a `RunPython` that fills it, then an
 * `AlterField` to NOT NULL and unique), read against the state as the backfill leaves it; null when
 * none of the next few that could does.
 */
function laterNeeds(ctx: OperationContext): string | null {
  if (ctx.parent !== null) return null;
  const list = ctx.migration.operations;
  // Read at each held backfill: its place and the next candidates without a scan of the list.
  const at = list[ctx.op.index] === ctx.op ? ctx.op.index : list.indexOf(ctx.op);
  const candidates = needingPlaces(list);
  let first = 0;
  for (let high = candidates.length; first < high; ) {
    const middle = (first + high) >> 1;
    if ((candidates[middle] as number) <= at) first = middle + 1;
    else high = middle;
  }
  for (const place of candidates.slice(first, first + LATER_LOOKED_AT)) {
    const later = list[place] as Operation;
    if (later.unknown) continue;
    if (later.kind !== "AlterField") {
      const needs = constraintNeeds(later);
      if (needs) return needs;
      continue;
    }
    const model = ctx.model(literalString(later.args.model_name));
    const name = literalString(later.args.name);
    const before = name ? model?.fields.get(name) : undefined;
    if (!model || !name || !before || !later.args.field) continue;
    const after = fieldFromCall(name, later.args.field, model.app, model.key, null);
    const needs = fieldNeeds(ctx, before, after, ctx.columnOf(after) ?? name);
    if (needs) return needs;
  }
  return null;
}

/**
 * The lock the operation takes on an existing table when it runs, as the lock model has it
 * (src/engine/table-locks.ts): none for an `AlterField` that changes only options Django keeps in
 * Python, a `RenameIndex` on PostgreSQL, `AlterModelOptions`, `AlterModelManagers`, `RunSQL`
 * without DDL... Locks taken only when the migration ends (the foreign keys of a new table) are
 * never held during a backfill. The lock on the operation's own table is named first.
 */
function schemaChangeOf(ctx: OperationContext, backfillsWaiting: boolean): SchemaChange | null {
  const { op } = ctx;
  const locks = locksOf(ctx).filter((l) => !l.atEnd);
  const lock = locks.find((l) => !l.referenced) ?? locks[0];
  if (!lock) return null;
  if (op.kind === "RunSQL") return { op, what: op.executedBy ? `DDL a \`RunPython\` runs on \`${lock.table}\`` : `\`RunSQL\` DDL on \`${lock.table}\``, lock, needs: null };
  const arg = TABLE_ALTERING_OPERATIONS[op.kind];
  const model = arg === undefined ? undefined : ctx.model(literalString(op.args[arg]));
  // A foreign key locks the table it references: name it when it is not the model's own.
  const locking = model && ctx.tableOf(model) === lock.table ? "" : ` (locking \`${lock.table}\`)`;
  return { op, what: `\`${op.kind}\` on \`${model?.name ?? lock.table}\`${locking}`, lock, needs: backfillsWaiting ? rowsNeeded(ctx) : null };
}

/** A backfill that ran before any schema change of its migration, and how to report it. */
interface WaitingBackfill {
  what: string;
  range: Operation["range"];
  report: OperationContext["report"];
  /** The operation that backfills. */
  source: Operation;
}

/**
 * What the operations of a migration seen so far did, in the order Django runs them (each judged
 * in the state before it): the nearest schema change, and the backfills that ran before the first.
 */
interface Progress {
  /** The schema change nearest before the current operation (the one a backfill after it is named against), and how many came before it. */
  latest: SchemaChange | null;
  earlier: number;
  /** Every table lock the schema changes so far took (by table: the first, or an ACCESS EXCLUSIVE one), held until COMMIT. */
  held: Map<string, TableLock>;
  waiting: WaitingBackfill[];
}
/**
 * The migration being replayed and its progress, by run (keyed by the run's database state). The
 * replay visits one migration's operations after another's, so only the current one is kept. A
 * waiting backfill's `report` holds the replay's closures, and through them the run's database
 * state: kept by migration (as the graph keeps migrations after the run), they kept every
 * migration's replay context alive, 12 MB at 5,100 files; keyed by the state they refer to, they
 * go with it.
 */
const currentByRun = new WeakMap<OperationContext["db"], { migration: ParsedMigration; progress: Progress }>();

/**
 * The other tables the migration's schema changes have locked by then, as the help says them:
 * a dropped foreign key locks the table it references (allianceauth authentication 0015: a loop
 * saving every user while dropping a key to `auth_user` holds ACCESS EXCLUSIVE on it).
 */
function alsoHeld(held: ReadonlyMap<string, TableLock>, named: TableLock, sqlite: boolean): string {
  if (sqlite) return "";
  // The named table too when an earlier change holds a stronger lock on it (Funkwhale music 0044:
  // an index build named, an ADD COLUMN's ACCESS EXCLUSIVE before it).
  const stronger = (l: TableLock) => l.mode === "ACCESS EXCLUSIVE" && named.mode !== "ACCESS EXCLUSIVE";
  const others = [...held.values()].filter((l) => l.table !== named.table || stronger(l)).sort((a, b) => Number(b.mode === "ACCESS EXCLUSIVE") - Number(a.mode === "ACCESS EXCLUSIVE"));
  if (others.length === 0) return "";
  const shown = others.slice(0, 5).map((l) => `${l.mode} on \`${l.table}\` (${l.what})`);
  const more = others.length > shown.length ? `, and ${others.length - shown.length} more` : "";
  const allExclusive = others.every((l) => l.mode === "ACCESS EXCLUSIVE");
  const what = allExclusive ? "every read and write" : others.some((l) => l.mode === "ACCESS EXCLUSIVE") ? "the reads and writes those locks block (ACCESS EXCLUSIVE blocks reads too)" : "every write";
  return ` The migration also holds ${shown.join(", ")}${more}: ${what} of ${others.length > 1 ? "those tables" : "that table"} waits as long.`;
}

/** What a backfill does to rows, as the message says it: a DELETE removes them (patchwork 0043, Misago 0017). */
function writes(what: string): string {
  if (what === UNREAD_SQL) return "runs SQL rollsafe cannot read, which may write rows,";
  return what.endsWith("DELETE") ? "deletes rows" : "backfills data";
}

/**
 * Reports a backfill held against a schema change before it (`first`) or after it, with the
 * `report` of the backfill's own operation (a change after it is seen once the backfill was visited).
 */
function report(
  ctx: OperationContext,
  reportFinding: OperationContext["report"],
  backfill: { what: string; range: Operation["range"] },
  schema: SchemaChange,
  first: boolean,
  earlier = 0,
  heldLocks: ReadonlyMap<string, TableLock> = new Map(),
): void {
  const { migration } = ctx;
  const { lock } = schema;
  // A change the backfill must precede: the one after it (`schema.needs`), or, when it is held
  // against a change before it, one later in the migration.
  const needs = first ? laterNeeds(ctx) : schema.needs;
  // ACCESS EXCLUSIVE also blocks reads; the weaker modes that conflict with traffic block writes.
  // SQLite's transaction holds the database's write lock from its first write to COMMIT.
  const sqlite = ctx.target.database === "sqlite";
  const held = sqlite ? `the database's write lock, taken for ${lock.what},` : `the ${lock.mode} lock on \`${lock.table}\` taken for ${lock.what}`;
  const blocked = sqlite ? "every write to the database" : `${lock.mode === "ACCESS EXCLUSIVE" ? "every read and write" : "every write"} of \`${lock.table}\``;
  reportFinding({
    range: backfill.range,
    severity: first ? "error" : "warning",
    message: first
      ? `${backfill.what} ${writes(backfill.what)} while ${schema.what} earlier in this atomic migration still holds its lock${earlier > 0 ? ` (as ${earlier === 1 ? "does the schema change" : `do the ${earlier} schema changes`} before it)` : ""}.`
      : `${backfill.what} ${writes(backfill.what)} in the same atomic migration as ${schema.what}, which runs after it.`,
    help: [
      first
        ? `Django runs \`${migration.name}\` in one transaction, so ${held} is held until COMMIT, through the whole backfill: ${blocked} waits until the backfill ends.${alsoHeld(heldLocks, lock, sqlite)}`
        : `Django runs \`${migration.name}\` in one transaction: ${sqlite ? "the database's write lock the backfill takes is" : "the backfill's row locks are"} held until COMMIT, through the schema change, and the transaction lasts as long as the backfill.`,
      ...(needs
        ? [
            `1. Keep the schema change alone in its migration${first ? "" : ", after the backfill's"}. ${first ? "A later change" : "It"} asks something of the rows already there (${needs}): if the backfill is what makes them fit, it cannot wait until after the deploy.`,
            `2. Move the backfill to a data migration of its own, just before ${first ? "the one that asks it" : "that one"}, with \`atomic = False\`, working in batches. Rows the running release writes between the two can still break the change: ship the code that writes them right in the release before.`,
          ]
        : [
            "1. Keep the schema change alone in its migration.",
            "2. Move the backfill to a separate data migration with `atomic = False` that works in batches; run it post-deploy if the table is large.",
          ]),
    ],
    related: [ctx.relatedAt({ file: migration.path, range: schema.op.range }, `${schema.what} is here`)],
  });
}

/** RS404: a data backfill in the same atomic migration as schema changes to existing tables. */
export const mixingBackfillWithSchemaChanges: Rule = {
  meta: {
    code: "RS404",
    name: "mixing-backfill-with-schema-changes",
    severity: "error",
    databases: ["postgresql", "sqlite"],
    claims: ["blocking-lock"],
    unobservable: "The lock is held for as long as the backfill runs, which only matters on a table with many rows.",
    hazards: ["H41"],
    docs: {
      summary: "A data backfill in the same atomic migration as a schema change of an existing table",
      what: "Flags a `RunPython` (other than `RunPython.noop`, and other than one whose function only executes DDL that rollsafe reads: `schema_editor.execute`, a cursor's `execute`, `schema_editor.add_index`/`remove_index`, which are checked as schema changes) or a `RunSQL` with INSERT/UPDATE/DELETE in an atomic migration that also takes a lock that blocks the traffic of an existing table, as rollsafe's lock model has it: a schema change of the table (`AddField`, an `AlterField` that changes the column, `AddIndex`, `AddConstraint`... or DDL in `RunSQL`), or a foreign key added to it (SHARE ROW EXCLUSIVE, from a new table too). An error when the schema change comes first (its lock is held during the whole backfill), a warning when it comes after, unless the `RunPython` only reads (every call a queryset read, a builtin, a file write or logging: it takes no row locks). A `RunPython` whose functions reach no database at all (console and log writes, the clock, formatting) is no backfill either way. A `RunSQL` that takes `LOCK TABLE` and then inserts, updates or deletes holds that lock through its own data move, and is reported as if the two were separate operations. Operations that take no such lock are not schema changes here: an `AlterField` of options Django keeps in Python (`help_text`, `choices`, `verbose_name`, `default`, `auto_now`...: `sqlmigrate` prints \"(no-op)\"), `AlterModelOptions`, `AlterModelManagers`, `RenameIndex` on PostgreSQL (SHARE UPDATE EXCLUSIVE on the index only), and the foreign keys Django adds to a new table when the migration ends. Schema operations that lock only tables created in the same migration, `atomic = False` migrations and MySQL (whose DDL commits implicitly) are not reported.",
      why: "On PostgreSQL, Django runs an atomic migration in one transaction, so the lock of the schema change (ACCESS EXCLUSIVE for most, which blocks reads too; SHARE for an index build, which blocks writes) is held until COMMIT, through the whole backfill: the table's traffic waits for the backfill. Backfill first, and its row locks are held while the DDL waits and runs.",
      recipe: [
        "Put the schema change in its own migration.",
        "Put the backfill in a separate data migration with `atomic = False`, working in batches; post-deploy for large tables.",
        "When the schema change asks something of the existing rows that the backfill provides (NOT NULL after filling NULLs, a unique constraint after removing duplicates), the backfill's migration goes just before it, never after the deploy; ship code that writes the rows right one release earlier.",
      ],
      severityReason: "Error when the schema lock is held during the backfill: reads and writes of the table block for its whole duration. Warning when the backfill comes first: its row locks and the long transaction still delay the DDL.",
      bad: `migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
migrations.RunSQL("UPDATE library_book SET isbn = '' WHERE isbn IS NULL", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("UPDATE library_book SET pages = 0 WHERE pages IS NULL", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operation(ctx) {
    const { op, migration } = ctx;
    // A new migration, or a new replay of this one (another run in the same process), starts empty.
    let current = currentByRun.get(ctx.db);
    if (current?.migration !== migration || (ctx.parent === null && op === migration.operations[0])) currentByRun.set(ctx.db, (current = { migration, progress: { latest: null, earlier: 0, held: new Map(), waiting: [] } }));
    const progress = current.progress;
    if (!migration.atomic || ctx.effect === "state" || ctx.target.database === "mysql" || op.unknown) return;
    // SQL a RunPython runs itself is part of that RunPython's backfill, reported once, on it.
    const backfill = op.executedBy === undefined ? backfillOf(ctx, op) : null;
    const held = progress.latest;
    // Every lock taken before is held; the nearest change is named (the one a backfill between
    // changes most likely prepares or follows), with a count of the others.
    if (backfill !== null && progress.latest) report(ctx, ctx.report, { what: backfill, range: op.range }, progress.latest, true, progress.earlier, progress.held);
    // A RunSQL that takes a table lock itself (`LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`) and then
    // moves data holds that lock through the data move (galaxy_ng 0012): as if two operations.
    else if (backfill !== null && op.kind === "RunSQL" && op.executedBy === undefined) {
      const statements = parsedStatements(ctx.sql(op)?.forward);
      const lockAt = statements.findIndex((s) => s.fact.kind === "lock-table" && s.fact.table !== null);
      const lockFact = lockAt >= 0 ? statements[lockAt]?.fact : undefined;
      const lock = lockFact ? locksOf(ctx).find((l) => l.table === lockFact.table && !l.atEnd) : undefined;
      if (lockFact && lock && statements.slice(lockAt + 1).some((s) => ["insert", "update", "delete"].includes(s.fact.kind))) {
        report(ctx, ctx.report, { what: backfill, range: op.range }, { op, what: `its own \`LOCK TABLE\` on \`${lock.table}\``, lock, needs: null }, true);
      }
    }
    const change = schemaChangeOf(ctx, progress.waiting.length > 0);
    if (change) {
      for (const lock of locksOf(ctx)) {
        const known = progress.held.get(lock.table);
        if (!lock.atEnd && (!known || (lock.mode === "ACCESS EXCLUSIVE" && known.mode !== "ACCESS EXCLUSIVE"))) progress.held.set(lock.table, lock);
      }
      if (progress.latest) progress.earlier++;
      progress.latest = change;
      // SQL a RunPython runs itself (`Operation.executes`) is that RunPython's own step, not a
      // later one: its backfill keeps waiting for another operation's schema change.
      const own = (waiting: WaitingBackfill) => op.executedBy !== undefined && waiting.source === ctx.parent;
      for (const waiting of progress.waiting) if (!own(waiting)) report(ctx, waiting.report, waiting, change, false);
      progress.waiting = progress.waiting.filter(own);
    }
    // Added after its own schema change: a `RunSQL` with both DDL and DML is not held against itself.
    // A function that only reads holds no row locks against a later change.
    if (backfill !== null && !held && !readsOnly(ctx, op)) progress.waiting.push({ what: backfill, range: op.range, report: ctx.report, source: op });
  },
};
