/**
 * Replays operations onto model state the way each operation's `state_forwards` does in
 * `django/db/migrations/operations/*.py`. Two instances run side by side during replay: Django's
 * state (what the code's models look like) and the physical schema (what the database holds),
 * which differ after `SeparateDatabaseAndState` and `RunSQL(state_operations=...)`.
 */
import type { Operation, PyValue } from "../model/types.js";
import type { SqlPartitionKey, SqlStatementFact } from "../sql/sql-facts.js";
import {
  allFieldsRead,
  cloneModel,
  columnOf,
  constraintFromValue,
  defaultTableName,
  djangoIndexName,
  fieldFromCall,
  indexFromValue,
  isOrderField,
  literalBool,
  outsideTable,
  literalString,
  postgresConstraintName,
  resolveModelReference,
  togetherKey,
  togetherList,
  truncateName,
  withOption,
  type FieldState,
  type ModelState,
  type Origin,
  createdFields,
  dictOf,
  listItems,
  ORDER_FIELD,
  orderField,
  orderFieldChange,
  ordersWithRespectTo,
  uniqueConstraintNames,
} from "./model-state.js";
import { setIn } from "../util/collections.js";
import { dropsForeignKey } from "../engine/field-changes.js";

/** One database step outside Django's model of the schema (see `ProjectState.rawSteps`). */
export interface RawDatabaseStep {
  /** The app of the migration it is in. */
  app: string;
  /** Its forward SQL statements; null when they cannot all be read (or it is not SQL). */
  statements(): readonly SqlStatementFact[] | null;
}

/** A reference the replay could not resolve (Django would raise while migrating). */
export interface ReplayProblem {
  message: string;
}

/** Where an operation comes from, for origins in state. */
export interface ApplyContext {
  app: string;
  migration: string;
  file: string;
}

/** A partitioned table of the physical schema, as `RunSQL` created it (see `src/engine/partitioned-tables.ts`). */
export interface PartitionedTable {
  /** Its partitions known so far (`CREATE TABLE ... PARTITION OF`, `ATTACH PARTITION`), in order. */
  partitions: string[];
  /** The statement that showed the table is partitioned. */
  origin: Origin | null;
  /** The operation that created it partitioned, when not `RunSQL` (`PostgresCreatePartitionedModel`). */
  by?: string;
  /** Its `PARTITION BY` key; null when no statement seen said it (a table known only as a parent). */
  key: SqlPartitionKey | null;
}

export class ProjectState {
  readonly models = new Map<string, ModelState>();
  /**
   * Physical schema only: tables `RunSQL` created partitioned (`CREATE TABLE ... PARTITION BY`),
   * by unqualified name. Django's model state cannot say a table is partitioned, and PostgreSQL
   * treats a partitioned parent differently (no `CREATE INDEX CONCURRENTLY`). Filled by the replay.
   */
  readonly partitionedTables = new Map<string, PartitionedTable>();
  /**
   * Physical schema only: the database steps Django's operations do not describe, in the order
   * they ran (every `RunSQL` that reaches the database, and every operation rollsafe cannot
   * read). What they did is read only when a rule asks (`statements`), so the SQL of the whole
   * history is not parsed for nothing. Filled by the replay.
   */
  readonly rawSteps: RawDatabaseStep[] = [];

  /**
   * Indexes for the lookups rules make per operation ("which model owns table t", "which fields
   * point at model m"), which would otherwise scan every model of a large project each time.
   * Every mutation of a model goes through `apply`, which marks its key dirty; a lookup first
   * re-indexes the dirty models, so the indexes are never stale.
   */
  private readonly dirty = new Set<string>();
  private indexed = false;
  private readonly byTable = new Map<string, Set<string>>();
  private readonly inbound = new Map<string, Set<string>>();
  /** Models whose Django-named indexes still hold the name of the table they were renamed from (`indexesNamedFor`), by that table. */
  private readonly byFormerTable = new Map<string, Set<string>>();
  private readonly indexedAs = new Map<string, { table: string | null; targets: string[]; former: string | null }>();
  /**
   * Models this state may change in place; null when it owns all of them. A shadow owns only the
   * copies it made (see `shadow`).
   */
  private owned: Set<ModelState> | null = null;

  private touch(key: string): void {
    if (this.indexed) this.dirty.add(key);
  }

  private reindex(): void {
    if (!this.indexed) {
      this.indexed = true;
      for (const key of this.models.keys()) this.dirty.add(key);
    }
    if (this.dirty.size === 0) return;
    for (const key of this.dirty) {
      const old = this.indexedAs.get(key);
      if (old) {
        if (old.table !== null) this.byTable.get(old.table)?.delete(key);
        for (const target of old.targets) this.inbound.get(target)?.delete(key);
        if (old.former !== null) this.byFormerTable.get(old.former)?.delete(key);
        this.indexedAs.delete(key);
      }
      const model = this.models.get(key);
      if (!model) continue;
      const table = this.hasTable(model) ? this.tableOf(model) : null;
      const targets = new Set<string>();
      for (const field of model.fields.values()) if (field.relation?.to) targets.add(field.relation.to);
      const former = model.indexesNamedFor?.table ?? null;
      if (table !== null) setIn(this.byTable, table).add(key);
      for (const target of targets) setIn(this.inbound, target).add(key);
      if (former !== null) setIn(this.byFormerTable, former).add(key);
      this.indexedAs.set(key, { table, targets: [...targets], former });
    }
    this.dirty.clear();
  }

  /** The managed, concrete models whose table is `table`, in state order. */
  modelsWithTable(table: string): ModelState[] {
    this.reindex();
    return this.inOrder(this.byTable.get(table));
  }

  /**
   * The models whose table was renamed away from `table` while keeping the indexes Django named
   * for it (`ModelState.indexesNamedFor`), in state order.
   */
  modelsKeepingIndexNamesOf(table: string): ModelState[] {
    this.reindex();
    return this.inOrder(this.byFormerTable.get(table));
  }

  /** The models with a field whose relation points at `target` (`app.model`), in state order. */
  modelsReferencing(target: string): ModelState[] {
    this.reindex();
    return this.inOrder(this.inbound.get(target));
  }

  /**
   * The fields that make a foreign-key constraint to `target` (`app.model`): a relation to it that
   * is not many-to-many and keeps `db_constraint`, with their models, in state order.
   */
  /** Whether a model's table has a foreign-key constraint, its own or another table's pointing at it. */
  hasForeignKeys(model: ModelState): boolean {
    const own = [...model.fields.values()].some((f) => (f.relation?.kind === "fk" || f.relation?.kind === "o2o") && f.relation.dbConstraint);
    return own || this.foreignKeyConstraintsTo(`${model.app}.${model.key}`).length > 0;
  }

  foreignKeyConstraintsTo(target: string): { model: ModelState; field: FieldState }[] {
    const found: { model: ModelState; field: FieldState }[] = [];
    for (const model of this.modelsReferencing(target)) {
      for (const field of model.fields.values()) {
        const relation = field.relation;
        if (relation && relation.kind !== "m2m" && relation.to === target && relation.dbConstraint) found.push({ model, field });
      }
    }
    return found;
  }

  /** The models of these keys, in the order of `models` (what a scan of every model would give). */
  private inOrder(keys: Set<string> | undefined): ModelState[] {
    if (!keys || keys.size === 0) return [];
    const found: ModelState[] = [];
    for (const key of keys) {
      const model = this.models.get(key);
      if (model) found.push(model);
    }
    if (found.length < 2) return found;
    const order = new Map([...this.models.keys()].map((key, i) => [key, i] as const));
    return found.sort((a, b) => (order.get(`${a.app}.${a.key}`) ?? 0) - (order.get(`${b.app}.${b.key}`) ?? 0));
  }

  /** Looks a model up by app label and (any-case) name. */
  model(app: string, name: string): ModelState | undefined {
    return this.models.get(`${app}.${name.toLowerCase()}`);
  }

  /**
   * Looks a model up by `app.model` key. The model's name is matched in any case, the app label as
   * it is (Django's labels are case-sensitive: Debian's OmniDB has `OmniDB_app`).
   */
  modelByKey(key: string): ModelState | undefined {
    const dot = key.indexOf(".");
    return this.models.get(dot < 0 ? key.toLowerCase() : `${key.slice(0, dot)}.${key.slice(dot + 1).toLowerCase()}`);
  }

  /**
   * The concrete table of a model: proxies use their concrete parent's table, also when the parent
   * is a model outside the run's apps (DefectDojo's `Dojo_User`, a proxy of `auth.User`, is
   * `auth_user`): a contrib model's table, or Django's default name for the model.
   */
  tableOf(model: ModelState, seen = new Set<string>()): string {
    if (model.proxy) {
      for (const base of model.bases) {
        const parent = this.modelByKey(base);
        if (parent && !seen.has(base)) {
          seen.add(base);
          return this.tableOf(parent, seen);
        }
      }
      const outside = model.bases.find((base) => base.includes(".") && !this.modelByKey(base));
      if (outside !== undefined) return outsideTable(outside);
    }
    return model.dbTable ?? defaultTableName(model.app, model.key);
  }

  /** Whether Django emits DDL for this model (not unmanaged, not proxy). */
  hasTable(model: ModelState): boolean {
    return model.managed && !model.proxy;
  }

  /** The auto-created join table of a many-to-many field. */
  m2mTableOf(model: ModelState, field: FieldState): string | null {
    if (field.relation?.kind !== "m2m" || field.relation.through) return null;
    return field.relation.dbTable ?? truncateName(`${this.tableOf(model)}_${field.name}`);
  }

  /** The auto-created join tables of `fields` (by default the model's own), in field order. */
  joinTablesOf(model: ModelState, fields: Iterable<FieldState> = model.fields.values()): string[] {
    const tables: string[] = [];
    for (const field of fields) {
      const table = this.m2mTableOf(model, field);
      if (table !== null) tables.push(table);
    }
    return tables;
  }

  /**
   * A state to apply operations to while this one does not change: Django runs the database
   * operations of `SeparateDatabaseAndState` against a copy of the state before it. The shadow
   * shares this state's models and copies one only when one of its operations changes it, so a
   * migration of many `SeparateDatabaseAndState` does not copy every model of the project (and
   * every field of a model with thousands) for each. It reads the shared models as they are: use
   * it before this state changes again.
   */
  shadow(): ProjectState {
    const copy = new ProjectState();
    copy.owned = new Set();
    for (const [key, model] of this.models) copy.models.set(key, model);
    for (const [table, info] of this.partitionedTables) copy.partitionedTables.set(table, { ...info, partitions: [...info.partitions] });
    return copy;
  }

  /** Applies one operation's state change. Unknown operations change nothing (they are reported). */
  apply(op: Operation, ctx: ApplyContext): ReplayProblem[] {
    const problems: ReplayProblem[] = [];
    const origin: Origin = { migration: ctx.migration, file: ctx.file, range: op.range };
    const a = op.args;
    const str = (v: PyValue | undefined) => literalString(v);
    const needModel = (name: string | null): ModelState | undefined => {
      if (name === null) return undefined;
      const model = this.model(ctx.app, name);
      if (!model) problems.push({ message: `model \`${ctx.app}.${name}\` is not in the state before this operation` });
      return model;
    };
    // Models are changed in place: each ProjectState owns its models (the Django and database
    // states build theirs separately), and rules only read state during their call. Copying a
    // model per operation made long histories quadratic. A shadow copies a shared model once,
    // the first time it changes it.
    const editable = (model: ModelState): ModelState => {
      const key = `${model.app}.${model.key}`;
      this.touch(key);
      if (this.owned === null || this.owned.has(model)) return model;
      const copy = cloneModel(model);
      this.owned.add(copy);
      this.models.set(key, copy);
      return copy;
    };
    if (op.unknown && op.behavesAs) return this.apply({ ...op, kind: op.behavesAs, unknown: undefined, behavesAs: undefined }, ctx);
    if (op.unknown && op.kind !== "SeparateDatabaseAndState") return problems;
    switch (op.kind) {
      case "CreateModel": {
        const name = str(a.name);
        if (!name) break;
        const key = name.toLowerCase();
        const options = dictOf(a.options);
        const model: ModelState = {
          app: ctx.app,
          name,
          key,
          fields: new Map(),
          dbTable: str(options.db_table),
          managed: literalBool(options.managed) !== false,
          proxy: literalBool(options.proxy) === true,
          bases: basesOf(a.bases, ctx.app, key),
          uniqueTogether: togetherList(options.unique_together),
          indexTogether: togetherList(options.index_together),
          indexes: listItems(options.indexes).map(indexFromValue),
          constraints: listItems(options.constraints).map(constraintFromValue),
          createdIn: ctx.migration,
          origin,
        };
        const created = createdFields(a.fields);
        // Each field's origin is its own `(name, field)` entry, so that notes point at its line.
        for (const { name: fieldName, call, range } of created) model.fields.set(fieldName, fieldFromCall(fieldName, call, ctx.app, key, { ...origin, range }));
        if (!allFieldsRead(a.fields, created.length)) model.fieldsIncomplete = true;
        if (ordersWithRespectTo(options.order_with_respect_to) && !model.fields.has(ORDER_FIELD)) model.fields.set(ORDER_FIELD, orderField(origin));
        if (this.hasTable(model)) {
          // PostgreSQL builds the primary key's index first, then the unique ones in column order.
          const fields = [...model.fields.values()];
          const taken = new Set<string>();
          for (const field of [...fields.filter((f) => f.primaryKey), ...fields.filter((f) => !f.primaryKey)]) nameInlineConstraint(this.tableOf(model), field, taken);
          nameTogether(model, this.tableOf(model), true, [], model.uniqueTogether);
          nameTogether(model, this.tableOf(model), false, [], model.indexTogether);
        }
        this.models.set(`${ctx.app}.${key}`, model);
        this.touch(`${ctx.app}.${key}`);
        break;
      }
      case "DeleteModel": {
        const model = needModel(str(a.name));
        if (model) {
          this.models.delete(`${model.app}.${model.key}`);
          this.touch(`${model.app}.${model.key}`);
        }
        break;
      }
      case "RenameModel": {
        const model = needModel(str(a.old_name));
        const newName = str(a.new_name);
        if (!model || !newName) break;
        const oldKey = `${model.app}.${model.key}`;
        const oldTable = this.tableOf(model);
        const renamed = cloneModel(model);
        renamed.name = newName;
        renamed.key = newName.toLowerCase();
        // Its own foreign keys to other models keep the names they were made with; Django makes
        // those pointing at it again (repointRelations), self-references included.
        if (model.dbTable === null) this.keepForeignKeyNames(renamed, oldTable, (field) => field.relation?.to !== oldKey);
        if (model.dbTable === null) keepIndexNames(renamed, oldTable, ctx.migration);
        this.models.delete(oldKey);
        this.models.set(`${renamed.app}.${renamed.key}`, renamed);
        this.touch(oldKey);
        this.touch(`${renamed.app}.${renamed.key}`);
        this.repointRelations(oldKey, renamed);
        break;
      }
      case "AlterModelTable": {
        const model = needModel(str(a.name));
        if (!model) break;
        // Django renames the table and makes no foreign key again: the constraints on it, and
        // those of other tables pointing at it, keep the names of the table they were made with.
        const oldTable = this.tableOf(model);
        const key = `${model.app}.${model.key}`;
        const changed = editable(model);
        changed.dbTable = str(a.table);
        if (this.tableOf(changed) === oldTable) break;
        this.keepForeignKeyNames(changed, oldTable, () => true, key);
        keepIndexNames(changed, oldTable, ctx.migration);
        for (const [otherKey, other] of this.models) {
          if (otherKey === key || ![...other.fields.values()].some((f) => f.relation?.to === key)) continue;
          const copy = editable(other);
          this.keepForeignKeyNames(copy, this.tableOf(copy), (f) => f.relation?.to === key, key, oldTable);
        }
        break;
      }
      case "AlterModelOptions": {
        const model = needModel(str(a.name));
        if (!model) break;
        // `managed` is one of AlterModelOptions.ALTER_OPTION_KEYS; missing keys are reset.
        const options = dictOf(a.options);
        editable(model).managed = literalBool(options.managed) !== false;
        break;
      }
      case "AlterOrderWithRespectTo": {
        // The option gives the rendered model its `_order` field (see ORDER_FIELD).
        const model = needModel(str(a.name));
        const change = model ? orderFieldChange(model, a.order_with_respect_to) : null;
        if (model && change === "add") editable(model).fields.set(ORDER_FIELD, orderField(origin));
        if (model && change === "remove") editable(model).fields.delete(ORDER_FIELD);
        break;
      }
      case "AlterUniqueTogether": {
        const model = needModel(str(a.name));
        if (model) {
          const copy = editable(model);
          const before = copy.uniqueTogether;
          copy.uniqueTogether = togetherList(a.unique_together);
          if (this.hasTable(copy)) nameTogether(copy, this.tableOf(copy), true, before, copy.uniqueTogether);
        }
        break;
      }
      case "AlterIndexTogether": {
        const model = needModel(str(a.name));
        if (model) {
          const copy = editable(model);
          const before = copy.indexTogether;
          copy.indexTogether = togetherList(a.index_together);
          if (this.hasTable(copy)) nameTogether(copy, this.tableOf(copy), false, before, copy.indexTogether);
        }
        break;
      }
      case "AddField":
      case "AlterField": {
        const model = needModel(str(a.model_name));
        const name = str(a.name);
        if (!model || !name || !a.field) break;
        const field = fieldFromCall(name, a.field, model.app, model.key, origin);
        // `preserve_default=False`: the default was only for existing rows (state_forwards drops it).
        if (literalBool(a.preserve_default) === false) {
          field.hasDefault = false;
          field.default = null;
        }
        if (op.kind === "AlterField" && !model.fields.has(name) && !model.fieldsIncomplete) {
          problems.push({ message: `field \`${model.name}.${name}\` is not in the state before this operation` });
        }
        const addedIn = op.kind === "AddField" ? ctx.migration : model.fields.get(name)?.addedIn;
        if (addedIn !== undefined) field.addedIn = addedIn;
        const previous = op.kind === "AlterField" ? model.fields.get(name) : undefined;
        if (previous) keepColumnBefore(previous, field, ctx.migration);
        // An AlterField that makes the constraint again names it after the current tables.
        if (previous?.fkNamedFor && !dropsForeignKey(previous, field)) field.fkNamedFor = previous.fkNamedFor;
        if (this.hasTable(model)) {
          const table = this.tableOf(model);
          const before = model.fields.get(name);
          // The names the table's constraints have taken are read only for a unique column (a
          // model may have thousands of fields).
          if (op.kind === "AddField" && field.unique) nameInlineConstraint(table, field, uniqueConstraintNames(model));
          else if (op.kind === "AlterField" && before) field.uniqueConstraint = alteredUniqueConstraint(table, before, field);
        }
        const copy = editable(model);
        copy.fields.set(name, field);
        keepOrderFieldLast(copy);
        break;
      }
      case "RemoveField": {
        const model = needModel(str(a.model_name));
        const name = str(a.name);
        if (!model || !name) break;
        // `_order` is not in the migration state's fields: Django's remove_field raises KeyError.
        const field = model.fields.get(name);
        if (!field || isOrderField(field)) {
          if (!model.fieldsIncomplete) problems.push({ message: `field \`${model.name}.${name}\` is not in the state before this operation` });
          break;
        }
        editable(model).fields.delete(name);
        break;
      }
      case "RenameField": {
        const model = needModel(str(a.model_name));
        const oldName = str(a.old_name);
        const newName = str(a.new_name);
        if (!model || !oldName || !newName) break;
        const field = model.fields.get(oldName);
        if (!field || isOrderField(field)) {
          if (!model.fieldsIncomplete) problems.push({ message: `field \`${model.name}.${oldName}\` is not in the state before this operation` });
          break;
        }
        const copy = editable(model);
        // `ProjectState.rename_field` pops the field and re-adds it: it moves to the end.
        copy.fields.delete(oldName);
        const moved: FieldState = { ...field, name: newName, origin };
        keepColumnBefore(field, moved, ctx.migration);
        // A new column name: Django drops the constraint and makes it again, named after the current tables.
        if (moved.fkNamedFor && columnOf(moved) !== columnOf(field)) delete moved.fkNamedFor;
        copy.fields.set(newName, moved);
        keepOrderFieldLast(copy);
        const rename = (names: string[]) => names.map((n) => (n === oldName ? newName : n));
        copy.uniqueTogether = copy.uniqueTogether.map(rename);
        copy.indexTogether = copy.indexTogether.map(rename);
        // The constraints keep the names Django gave them for the old column.
        if (copy.togetherNames) {
          copy.togetherNames = Object.fromEntries(
            Object.entries(copy.togetherNames).map(([key, name]) => {
              const [kind, set] = key.split(":") as [string, string];
              return [`${kind}:${rename(set.split(",")).join(",")}`, name];
            }),
          );
        }
        break;
      }
      case "AddIndex":
      case "AddIndexConcurrently": {
        const model = needModel(str(a.model_name));
        if (model && a.index) editable(model).indexes.push(indexFromValue(a.index));
        break;
      }
      case "RemoveIndex":
      case "RemoveIndexConcurrently": {
        const model = needModel(str(a.model_name));
        const name = str(a.name);
        if (model) {
          const copy = editable(model);
          copy.indexes = copy.indexes.filter((i) => i.name !== name);
        }
        break;
      }
      case "RenameIndex": {
        const model = needModel(str(a.model_name));
        const oldName = str(a.old_name);
        const newName = str(a.new_name);
        if (!model || !newName) break;
        const copy = editable(model);
        if (oldName) {
          copy.indexes = copy.indexes.map((i) => (i.name === oldName ? { ...i, name: newName } : i));
        } else {
          // Renaming an unnamed index_together index turns it into a named Meta.indexes entry.
          const fields = a.old_fields?.kind === "list" || a.old_fields?.kind === "tuple" ? a.old_fields.items.flatMap((v) => (v.kind === "str" ? [v.value] : [])) : [];
          copy.indexTogether = copy.indexTogether.filter((t) => t.join(",") !== fields.join(","));
          copy.indexes.push({ name: newName, fields, unique: false, hasCondition: false, value: a.old_fields ?? { kind: "none", range: op.range } });
        }
        break;
      }
      case "AddConstraint":
      case "AddConstraintNotValid": {
        const model = needModel(str(a.model_name));
        if (model && a.constraint) editable(model).constraints.push({ ...constraintFromValue(a.constraint), ...(op.kind === "AddConstraintNotValid" ? { notValid: true as const } : {}) });
        break;
      }
      case "ValidateConstraint": {
        // Django's state_forwards changes nothing; rollsafe clears `notValid`, so that rules know
        // PostgreSQL can rely on the constraint from here on (setting-column-not-null).
        const model = this.model(ctx.app, str(a.model_name) ?? "");
        const name = str(a.name);
        if (model?.constraints.some((c) => c.name === name && c.notValid)) {
          const copy = editable(model);
          copy.constraints = copy.constraints.map((c) => {
            if (c.name !== name) return c;
            const validated = { ...c };
            delete validated.notValid;
            return validated;
          });
        }
        break;
      }
      case "RemoveConstraint": {
        const model = needModel(str(a.model_name));
        const name = str(a.name);
        if (model) {
          const copy = editable(model);
          copy.constraints = copy.constraints.filter((c) => c.name !== name);
        }
        break;
      }
      case "AlterConstraint": {
        const model = needModel(str(a.model_name));
        const name = str(a.name);
        if (model && a.constraint) {
          const copy = editable(model);
          copy.constraints = copy.constraints.map((c) => (c.name === name ? constraintFromValue(a.constraint as PyValue) : c));
        }
        break;
      }
      case "SeparateDatabaseAndState":
        for (const inner of op.stateOperations ?? []) problems.push(...this.apply(inner, ctx));
        break;
      case "RunSQL":
        for (const inner of op.stateOperations ?? []) problems.push(...this.apply(inner, ctx));
        break;
      default:
        // RunPython, extensions, collations, AlterModelTableComment,
        // AlterModelManagers: no change to tables or columns we track.
        break;
    }
    return problems;
  }

  /**
   * After RenameModel, relations that pointed at the old model point at the new one. Like
   * `ProjectState.rename_model`, which sets the field's `to`/`through` to `"<app>.<NewName>"`, the
   * field's options and call say so too, so that a field written from the state names a model
   * that exists.
   */
  /**
   * Records, on the foreign keys of `model` that `which` selects and that have no record yet, the
   * tables their constraints were named after before a table rename: `table` (the model's table
   * then) and, for a reference to `renamedKey`, `refTable`; otherwise the referenced model's table.
   */
  private keepForeignKeyNames(model: ModelState, table: string, which: (field: FieldState) => boolean, renamedKey?: string, refTable?: string): void {
    for (const [name, field] of model.fields) {
      const relation = field.relation;
      if (!relation || relation.kind === "m2m" || !relation.dbConstraint || !relation.to || field.fkNamedFor || !which(field)) continue;
      const target = relation.to === renamedKey && refTable !== undefined ? refTable : this.referencedTable(relation.to, model, table);
      model.fields.set(name, { ...field, fkNamedFor: { table, refTable: target } });
    }
  }

  /** The table a relation `to` references now: the model's in state, a contrib model's, or Django's default name. */
  private referencedTable(to: string, owner: ModelState, ownerTable: string): string {
    if (to === `${owner.app}.${owner.key}`) return ownerTable;
    const target = this.modelByKey(to);
    return target ? this.tableOf(target) : outsideTable(to);
  }

  private repointRelations(oldKey: string, renamed: ModelState): void {
    const newKey = `${renamed.app}.${renamed.key}`;
    for (const [key, model] of this.models) {
      let changed: ModelState | null = null;
      for (const [name, field] of model.fields) {
        const relation = field.relation;
        if (!relation || (relation.to !== oldKey && relation.through !== oldKey)) continue;
        changed ??= cloneModel(model);
        let repointed: FieldState = {
          ...field,
          relation: { ...relation, to: relation.to === oldKey ? newKey : relation.to, through: relation.through === oldKey ? newKey : relation.through },
        };
        // RenameModel alters every field pointing at the model: its constraint is made again.
        if (relation.to === oldKey) delete repointed.fkNamedFor;
        for (const option of ["to", "through"] as const) {
          const written = field.kwargs[option];
          if (relation[option] === oldKey && written) repointed = withOption(repointed, option, { kind: "str", value: `${renamed.app}.${renamed.name}`, range: written.range });
        }
        changed.fields.set(name, repointed);
      }
      if (model.bases.includes(oldKey)) {
        changed ??= cloneModel(model);
        changed.bases = changed.bases.map((b) => (b === oldKey ? newKey : b));
      }
      if (changed) {
        this.models.set(key, changed);
        this.touch(key);
      }
    }
  }
}

/** Records on `after` the column `before` had when `migration` began, if the operation moves it (`FieldState.columnBefore`). */
function keepColumnBefore(before: FieldState, after: FieldState, migration: string): void {
  // A field this migration added had no column when it began (wger measurements 0004: a field
  // added, renamed, then made a foreign key): there is none to keep.
  if (before.addedIn === migration) {
    delete after.columnBefore;
    return;
  }
  const since = before.columnBefore?.migration === migration ? before.columnBefore : undefined;
  if (since) after.columnBefore = since;
  else if (columnOf(before) !== columnOf(after)) after.columnBefore = { migration, column: columnOf(before) };
  else delete after.columnBefore;
}

/**
 * Keeps `_order` after the declared fields: Django adds it when it renders the model, after every
 * field of the migration state (`Options._prepare`), whatever was added or renamed since.
 */
function keepOrderFieldLast(model: ModelState): void {
  const order = model.fields.get(ORDER_FIELD);
  if (!order || !isOrderField(order)) return;
  model.fields.delete(ORDER_FIELD);
  model.fields.set(ORDER_FIELD, order);
}

/** Names the PRIMARY KEY or UNIQUE a new column gets inline (CREATE TABLE, ADD COLUMN), as PostgreSQL does, and marks the name taken. */
function nameInlineConstraint(table: string, field: FieldState, taken: Set<string>): void {
  const column = columnOf(field);
  if (!field.unique || column === null) return;
  field.uniqueConstraint = field.primaryKey ? postgresConstraintName(table, null, "pkey", taken) : postgresConstraintName(table, column, "key", taken);
  taken.add(field.uniqueConstraint);
}

/**
 * The constraint that makes the column unique after Django's `_alter_field` from `before`: one
 * the field keeps, or the one Django adds and names (`_create_primary_key_sql`: `..._pk`;
 * `_create_unique_sql` when `_unique_should_be_added`: `..._uniq`).
 */
function alteredUniqueConstraint(table: string, before: FieldState, after: FieldState): string | null {
  const column = columnOf(after);
  if (!after.unique || column === null) return null;
  if (after.primaryKey) return before.primaryKey ? before.uniqueConstraint : djangoIndexName(table, [column], "_pk");
  if (before.unique && !before.primaryKey) return before.uniqueConstraint;
  return djangoIndexName(table, [column], "_uniq");
}

function basesOf(value: PyValue | undefined, app: string, key: string): string[] {
  return listItems(value).flatMap((item) => (item.kind === "str" ? [resolveModelReference(item.value, app, key)] : []));
}

/** Columns of a model in Django's order, for `rollsafe state` and for rules. */
export function columnsOf(model: ModelState): { field: FieldState; column: string }[] {
  const out: { field: FieldState; column: string }[] = [];
  for (const field of model.fields.values()) {
    const column = columnOf(field);
    if (column !== null) out.push({ field, column });
  }
  return out;
}

/**
 * Records the names Django gives the sets of `sets` that `before` does not have, after `table` and
 * their columns now (`ModelState.togetherNames`), and forgets those of the sets dropped.
 */
function nameTogether(model: ModelState, table: string, unique: boolean, before: string[][], sets: string[][]): void {
  const kept = new Set(sets.map((s) => togetherKey(unique, s)));
  const had = new Set(before.map((s) => togetherKey(unique, s)));
  // In place: the model is this state's own (a copy of a shared one copies the record too).
  const names = (model.togetherNames ??= {});
  for (const key of had) if (!kept.has(key)) delete names[key];
  for (const set of sets) {
    const key = togetherKey(unique, set);
    if (had.has(key) && names[key] !== undefined) continue;
    const columns = set.map((name) => {
      const field = model.fields.get(name);
      return (field && columnOf(field)) ?? name;
    });
    names[key] = djangoIndexName(table, columns, unique ? "_uniq" : "_idx");
  }
  if (sets.length === 0 && Object.keys(names).length === 0) delete model.togetherNames;
}

/**
 * Records, once, the table a model's Django-named indexes were made for before its table is
 * renamed (`ModelState.indexesNamedFor`). Indexes made in the same migration are not among them:
 * Django builds them with the schema editor's deferred SQL when the migration ends, and a table
 * rename renames the references of that SQL first (`_alter_db_table`), so they get the new name.
 */
function keepIndexNames(model: ModelState, table: string, migration: string): void {
  if (model.indexesNamedFor || model.createdIn === migration) return;
  const fields = [...model.fields.values()].filter((f) => f.addedIn !== migration).map((f) => f.name);
  model.indexesNamedFor = { table, fields, together: [...model.indexTogether, ...model.uniqueTogether].map((t) => [...t]) };
}
