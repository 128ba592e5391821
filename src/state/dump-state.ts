/**
 * `rollsafe state --format json`: the reconstructed schema after the last migration of every
 * app, in the same shape as `test/django-state/dump_django_state.py` prints from Django's own
 * `MigrationLoader`, so the two can be compared table by table.
 */
import { autoJoinColumns, columnOf, declaredClass, isOwnFieldClass } from "./model-state.js";
import type { ProjectState } from "./project-state.js";
import { jsonChunks } from "../reporters/json-chunks.js";

export interface StateColumn {
  name: string;
  field: string;
  /** The field's class, as Django's state names it. */
  type: string;
  /** The Django field class whose column a class of the project makes (`BigIntegerField`), when it is another. */
  columnClass?: string;
  null: boolean | null;
  unique: boolean;
  dbIndex: boolean;
  primaryKey: boolean;
  hasDefault: boolean;
  hasDbDefault: boolean;
}

export interface StateTable {
  app: string;
  model: string;
  table: string;
  managed: boolean;
  proxy: boolean;
  autoCreated: boolean;
  columns: StateColumn[];
  indexes: string[];
  constraints: string[];
}

export interface StateDump {
  version: 1;
  tables: StateTable[];
}

/** Builds the dump, including auto-created many-to-many join tables. */
export function dumpState(state: ProjectState): StateDump {
  const tables: StateTable[] = [];
  for (const model of state.models.values()) {
    const table = state.tableOf(model);
    const columns: StateColumn[] = model.proxy
      ? []
      : [...model.fields.values()].flatMap((f) => {
          const column = columnOf(f);
          if (column === null) return [];
          const declared = declaredClass(f);
          return [
            {
              name: column,
              field: f.name,
              type: declared,
              ...(declared === f.type || isOwnFieldClass(f.type) ? {} : { columnClass: f.type }),
              null: f.null,
              unique: f.unique,
              dbIndex: f.dbIndex,
              primaryKey: f.primaryKey,
              hasDefault: f.hasDefault,
              hasDbDefault: f.hasDbDefault,
            },
          ];
        });
    tables.push({
      app: model.app,
      model: model.key,
      table,
      managed: model.managed,
      proxy: model.proxy,
      autoCreated: false,
      columns,
      indexes: model.indexes.map((i) => i.name).sort(),
      constraints: model.constraints.map((c) => c.name).sort(),
    });
    if (model.proxy) continue;
    for (const field of model.fields.values()) {
      const joinTable = state.m2mTableOf(model, field);
      if (!joinTable) continue;
      const target = field.relation?.to ? state.modelByKey(field.relation.to) : undefined;
      const targetKey = target?.key ?? field.relation?.to?.split(".")[1] ?? "target";
      const columns = autoJoinColumns(model.key, targetKey);
      const from = columns.from.slice(0, -3);
      const to = columns.to.slice(0, -3);
      const fk = (name: string, fieldName: string): StateColumn => ({
        name,
        field: fieldName,
        type: "ForeignKey",
        null: false,
        unique: false,
        dbIndex: true,
        primaryKey: false,
        hasDefault: false,
        hasDbDefault: false,
      });
      tables.push({
        app: model.app,
        model: `${model.key}_${field.name}`,
        table: joinTable,
        managed: model.managed,
        proxy: false,
        autoCreated: true,
        columns: [
          { name: "id", field: "id", type: "AutoField", null: false, unique: true, dbIndex: false, primaryKey: true, hasDefault: false, hasDbDefault: false },
          fk(`${from}_id`, from),
          fk(`${to}_id`, to),
        ],
        indexes: [],
        constraints: [],
      });
    }
  }
  tables.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : a.model < b.model ? -1 : 1));
  return { version: 1, tables };
}

/** The dump as `JSON.stringify(dump, null, 2)` and a newline, a table at a time. */
export function* dumpStateChunks(dump: StateDump): Generator<string> {
  yield* jsonChunks(dump, 0, 2);
  yield "\n";
}
