/**
 * State-only operations and what the database steps Django's operations do not describe
 * (`ProjectState.rawSteps`: every `RunSQL` that reached the database, and every operation
 * rollsafe cannot read) may have done about them.
 */
import { isPublic } from "../sql/analyze-sql.js";
import type { SqlStatementFact } from "../sql/sql-facts.js";
import type { OperationContext } from "./rule-types.js";
import { columnOf, fieldFromCall, findField, literalString, type FieldState, type ModelState } from "../state/model-state.js";
import type { RawDatabaseStep } from "../state/project-state.js";
import { listIn, oncePer } from "../util/collections.js";

/** Statement kinds whose effect on tables cannot be read from their facts (a `DO` block, a function call). */
const OPAQUE_KINDS = new Set<SqlStatementFact["kind"]>(["other", "select", "do-block"]);

/**
 * Whether the operation is read in the `state_operations` of a `SeparateDatabaseAndState` or a
 * `RunSQL`. With `unpaired`, only a `SeparateDatabaseAndState` without database operations
 * counts (`mismatching-database-and-state-operations` compares the two sides otherwise).
 */
export function inStateOperations(ctx: OperationContext, unpaired = false): boolean {
  const { op, parent } = ctx;
  if (op.unknown || !parent?.stateOperations?.includes(op)) return false;
  return !unpaired || parent.kind !== "SeparateDatabaseAndState" || (parent.databaseOperations?.length ?? 0) === 0;
}

/** Whether a statement names `table`, unqualified or in `public` (the schema Django's tables are in). */
export function onTable(fact: SqlStatementFact, table: string): boolean {
  return fact.table === table && isPublic(fact.schema);
}

/** Whether a statement may create `table`, or rename a table to it. */
export function mayCreateTable(fact: SqlStatementFact, table: string): boolean {
  if (fact.kind === "create-table") return onTable(fact, table);
  return fact.kind === "rename-table" && isPublic(fact.schema) && fact.newName === table;
}

/** Column statements after which `table.column` may be defined anew. */
const REDEFINING_KINDS = new Set<SqlStatementFact["kind"]>(["alter-column-type", "add-column", "drop-column", "rename-column"]);

/**
 * Whether a statement may have defined `table.column` anew: changed its type, dropped, re-added
 * or renamed it (to or from that name), created the table or renamed a table to it; or done one
 * of the kinds in `also` to the column.
 */
export function mayRedefineColumn(fact: SqlStatementFact, table: string, column: string, also: readonly SqlStatementFact["kind"][] = []): boolean {
  if (fact.kind === "rename-table") return mayCreateTable(fact, table);
  if (!onTable(fact, table)) return false;
  if (fact.kind === "create-table") return true;
  if (!REDEFINING_KINDS.has(fact.kind) && !also.includes(fact.kind)) return false;
  return fact.column === null || fact.column === column || fact.newName === column;
}

/**
 * Whether a step so far may have done what `does` says to `table`: a readable statement on
 * `table` (or renaming a table to it) for which it holds, a statement whose effect cannot be read
 * (in any app), or a step that cannot be read at all in one of `apps` (the model's and the
 * migration's: SQL or an operation elsewhere rarely reaches another app's tables, and counting
 * them would silence the rules on any project that has one). `does` only ever holds for a
 * statement on `table` in `public`, or one renaming a public table to it.
 */
export function rawStepsMay(ctx: OperationContext, apps: readonly string[], table: string, does: (fact: SqlStatementFact) => boolean): boolean {
  const index = rawStepIndex(ctx.db.rawSteps);
  if (index.opaque || apps.some((app) => index.unreadable.has(app))) return true;
  return index.byTable.get(table)?.some(does) ?? false;
}

/**
 * Whether a readable statement so far did what `does` says to `table` (`rawStepsMay` without its
 * doubt: a statement or step that cannot be read does not count). For a finding that stays an
 * error unless SQL is known to have prevented it: an app with one custom operation in its history
 * would otherwise silence it for good.
 */
export function rawStepsDid(ctx: OperationContext, table: string, does: (fact: SqlStatementFact) => boolean): boolean {
  return rawStepIndex(ctx.db.rawSteps).byTable.get(table)?.some(does) ?? false;
}

/**
 * What the raw steps so far did, read once each (the first question reads them; later ones read
 * only the steps added since): the questions come from every state-only operation, and a pass
 * over the project's whole history for each made a project of many `RunSQL` quadratic.
 */
interface RawStepIndex {
  /** How many of the steps are read. */
  read: number;
  /** A statement whose effect cannot be read. */
  opaque: boolean;
  /** Apps with a step that cannot be read at all. */
  unreadable: Set<string>;
  /** Statements on each public table, and those renaming a public table to it. */
  byTable: Map<string, SqlStatementFact[]>;
}

const emptyIndex = oncePer((_steps: readonly RawDatabaseStep[]): RawStepIndex => ({ read: 0, opaque: false, unreadable: new Set(), byTable: new Map() }));

function rawStepIndex(steps: readonly RawDatabaseStep[]): RawStepIndex {
  const index = emptyIndex(steps);
  for (; index.read < steps.length; index.read++) {
    const step = steps[index.read] as RawDatabaseStep;
    const statements = step.statements();
    if (statements === null) {
      index.unreadable.add(step.app);
      continue;
    }
    for (const fact of statements) {
      if (OPAQUE_KINDS.has(fact.kind)) index.opaque = true;
      if (!isPublic(fact.schema)) continue;
      if (fact.table !== null) listIn(index.byTable, fact.table).push(fact);
      if (fact.kind === "rename-table" && fact.newName !== null && fact.newName !== fact.table) listIn(index.byTable, fact.newName).push(fact);
    }
  }
  return index;
}

/**
 * The model an operation's `model_name` names, in the state and as Django's operations left it
 * in the database (`physical`), when both exist, it is managed and not a proxy, and its table
 * exists: what a state-only field operation is compared with.
 */
export function stateAndDatabaseModel(ctx: OperationContext): { model: ModelState; physical: ModelState } | null {
  const modelName = literalString(ctx.op.args.model_name);
  const model = ctx.model(modelName);
  const physical = modelName ? ctx.db.model(ctx.migration.app, modelName) : undefined;
  if (!model || !physical || !model.managed || model.proxy || !ctx.hasTable(physical)) return null;
  return { model, physical };
}

/** A state-only `AlterField`, read: the field it sets, and its column as the database has it. */
export interface StateOnlyAlteredField {
  model: ModelState;
  physical: ModelState;
  name: string;
  field: FieldState;
  column: string;
  /** The field that has the column in the database model (`physical`). */
  stored: FieldState;
}

/**
 * The operation as a state-only `AlterField` (see `inStateOperations`) of a model that
 * `stateAndDatabaseModel` gives, whose column the database model has; null otherwise.
 */
export function stateOnlyAlteredField(ctx: OperationContext): StateOnlyAlteredField | null {
  const { op } = ctx;
  if (op.kind !== "AlterField" || !inStateOperations(ctx)) return null;
  const name = literalString(op.args.name);
  const models = stateAndDatabaseModel(ctx);
  if (!models || !name || !op.args.field) return null;
  const { model, physical } = models;
  const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
  const column = columnOf(field);
  if (column === null) return null;
  const stored = findField(physical, (f) => columnOf(f) === column);
  return stored ? { model, physical, name, field, column, stored } : null;
}
