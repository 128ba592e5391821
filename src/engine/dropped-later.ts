/**
 * Whether a later operation of the migration drops a model's table. Django unapplies a migration's
 * operations last to first (`Migration.unapply`), and the reversal of `DeleteModel` re-creates the
 * table (`DeleteModel.database_backwards` -> `schema_editor.create_model`), empty, before the
 * operations before it are reversed: their reversals then run on a table without rows.
 */
import type { Operation } from "../model/types.js";
import { thirdPartyEffect } from "../model/third-party-operations.js";
import { createsNoTable, literalString, type FieldState, type ModelState } from "../state/model-state.js";
import type { ProjectState } from "../state/project-state.js";
import { schemaEditorChanges } from "./partitioned-tables.js";
import { oncePer } from "../util/collections.js";
import type { OperationContext } from "./rule-types.js";

/**
 * The index of the last operation of a list that is one of `kinds` and reaches the database (at
 * the top level or in `database_operations`; not unknown, not third-party), worked out once per
 * list; -1 when none is.
 */
function lastInDatabase(kinds: ReadonlySet<string>): (list: readonly Operation[]) => number {
  const reaches = (op: Operation): boolean => (op.kind === "SeparateDatabaseAndState" ? (op.databaseOperations ?? []).some(reaches) : kinds.has(op.kind) && !op.unknown && !op.thirdParty);
  return oncePer((list: readonly Operation[]): number => {
    for (let i = list.length - 1; i >= 0; i--) if (reaches(list[i] as Operation)) return i;
    return -1;
  });
}

/** The last operation of a list that deletes a table in the database. */
const lastDeleteOf = lastInDatabase(new Set(["DeleteModel"]));

/** The last operation of a list that may give a table its name in the database (what `Timeline.renames` and `creates` record). */
const lastTakerOf = lastInDatabase(new Set(["CreateModel", "RenameModel", "AlterModelTable"]));

/**
 * What the database side of an operation list does to tables, from one operation on: where each
 * table is dropped or renamed (by index in the list), replayed once on copies of the state as the
 * engine's replay does (src/engine/lint.ts), for every question asked about the list in this run.
 */
interface Timeline {
  /** The first operation replayed: questions about earlier ones replay again. */
  from: number;
  drops: Map<string, { at: number; op: Operation }[]>;
  renames: Map<string, { at: number; to: string; op: Operation }[]>;
  /** Tables `CreateModel` makes, by name. */
  creates: Map<string, { at: number; op: Operation }[]>;
}

/**
 * The timelines of a run, under its database state: held weakly by both, so that they go with the
 * run (a timeline holding the state would keep the database state of every model alive after it).
 */
const timelines = new WeakMap<ProjectState, WeakMap<readonly Operation[], Timeline>>();

function timelineOf(ctx: OperationContext, list: readonly Operation[], from: number): Timeline {
  let run = timelines.get(ctx.db);
  if (!run) timelines.set(ctx.db, (run = new WeakMap()));
  const known = run.get(list);
  if (known && known.from <= from) return known;
  const { migration } = ctx;
  const app = migration.app;
  const applyCtx = { app, migration: migration.id, file: migration.path };
  const timeline: Timeline = { from, drops: new Map(), renames: new Map(), creates: new Map() };
  const state = ctx.state.shadow();
  // Applies one database-side operation (at `at` in the list) and records what it does to tables.
  const follow = (o: Operation, logical: ProjectState, at: number): void => {
    const changes = o.unknown || o.thirdParty ? null : schemaEditorChanges(o, logical, app);
    logical.apply(o, applyCtx);
    for (const change of changes?.(logical) ?? []) {
      if (change.table === null) continue;
      if (change.kind === "drop-table") appendTo(timeline.drops, change.table, { at, op: o });
      else if (change.kind === "rename-table" && change.newName !== null) appendTo(timeline.renames, change.table, { at, to: change.newName, op: o });
    }
    if (o.kind === "CreateModel" && !o.unknown && !o.thirdParty && !createsNoTable(o)) {
      const created = logical.model(app, literalString(o.args.name) ?? "");
      if (created) appendTo(timeline.creates, logical.tableOf(created), { at, op: o });
    }
  };
  for (let at = from; at < list.length; at++) {
    const o = list[at] as Operation;
    if (o.thirdParty && !o.unknown) {
      if (thirdPartyEffect(o.thirdParty).applyState) state.apply(o, applyCtx);
    } else if (o.kind === "SeparateDatabaseAndState" && !o.unknown) {
      // Django runs the database operations against a copy of the state before it.
      const shadow = state.shadow();
      for (const inner of o.databaseOperations ?? []) follow(inner, shadow, at);
      state.apply(o, applyCtx);
    } else follow(o, state, at);
  }
  run.set(list, timeline);
  return timeline;
}

function appendTo<T>(map: Map<string, T[]>, key: string, item: T): void {
  const items = map.get(key);
  if (items) items.push(item);
  else map.set(key, [item]);
}

/**
 * The `DeleteModel` after the operation, in the same migration, that drops the table the model
 * has before it, followed through the renames Django's schema editor makes (`RenameModel`,
 * `AlterModelTable`, also in `SeparateDatabaseAndState.database_operations`); null when none does.
 * Only a delete that reaches the database counts: not a state-only one, and not one of a model
 * Django no longer manages by then (its reversal creates nothing). Third-party operations are not
 * followed.
 *
 * The rest of the list is replayed once, at the first question about it (`Timeline`), so a
 * migration of thousands of removals before a delete stays linear. For an operation inside
 * `SeparateDatabaseAndState.database_operations`, only the rest of that list is followed: the
 * context does not hold the state the operations after it start from.
 */
export function droppedLater(ctx: OperationContext, model: ModelState): Operation | null {
  const { migration, op, parent } = ctx;
  const list = parent === null ? migration.operations : parent.kind === "SeparateDatabaseAndState" ? (parent.databaseOperations ?? []) : [];
  const at = list[op.index] === op ? op.index : list.indexOf(op);
  if (at < 0 || at >= lastDeleteOf(list)) return null;
  const { drops, renames } = timelineOf(ctx, list, at);
  // Follow the table from here: its first drop, unless a rename comes first.
  let table = ctx.tableOf(model);
  let after = at;
  for (let step = 0; step <= list.length; step++) {
    const drop = drops.get(table)?.find((d) => d.at > after);
    const rename = renames.get(table)?.find((r) => r.at > after);
    if (drop && (!rename || drop.at <= rename.at)) return drop.op;
    if (!rename) return null;
    table = rename.to;
    // A drop of the new name by the same operation counts.
    after = rename.at - 1;
  }
  return null;
}

/**
 * The `DeleteModel` of `model` later in the same migration that drops its table (`droppedLater`),
 * when it deletes the model under the same name: what Django's autodetector writes after removing
 * a deleted model's relations. Null after a rename, or when a `RemoveField` drops the table.
 */
export function deletedWithTable(ctx: OperationContext, model: ModelState): Operation | null {
  const dropper = droppedLater(ctx, model);
  return dropper?.kind === "DeleteModel" && literalString(dropper.args.name)?.toLowerCase() === model.key ? dropper : null;
}

/**
 * Whether `RemoveField` of `field` drops a column that a `DeleteModel` of the same model later in
 * the migration would drop with its table (dropping-table takes the removal in): not a join
 * table, which the delete leaves to the removal.
 */
export function removedWithTable(ctx: OperationContext, model: ModelState, field: FieldState): boolean {
  return field.relation?.kind !== "m2m" && deletedWithTable(ctx, model) !== null;
}

/**
 * The operation later in the same migration that gives `table` to another model: a `CreateModel`
 * whose table has that name, or a `RenameModel`/`AlterModelTable` that renames another table to
 * it (patchwork 0043: `DeleteModel("Patch")`, then `RenameModel("Submission", "Patch")`; mathesar
 * 0007: a model renamed, then a new one under its old name). A recipe that keeps `table` where it
 * is collides with it. Null when none does.
 */
export function tableTakenLater(ctx: OperationContext, table: string): Operation | null {
  const { migration, op, parent } = ctx;
  const list = parent === null ? migration.operations : parent.kind === "SeparateDatabaseAndState" ? (parent.databaseOperations ?? []) : [];
  const at = list[op.index] === op ? op.index : list.indexOf(op);
  if (at < 0 || at >= lastTakerOf(list)) return null;
  const { renames, creates } = timelineOf(ctx, list, at);
  const created = creates.get(table)?.find((c) => c.at > at);
  let renamed: { at: number; op: Operation } | undefined;
  for (const entries of renames.values()) for (const r of entries) if (r.to === table && r.at > at && (!renamed || r.at < renamed.at)) renamed = r;
  if (created && (!renamed || created.at < renamed.at)) return created.op;
  return renamed?.op ?? null;
}

/** A later operation that takes a table name, as a finding names it. */
export function describeTaker(op: Operation): string {
  if (op.kind === "RenameModel") return `\`RenameModel\` of \`${literalString(op.args.old_name) ?? "?"}\` to \`${literalString(op.args.new_name) ?? "?"}\``;
  return `\`${op.kind}\` of \`${literalString(op.args.name) ?? "?"}\``;
}
