/**
 * Matching the configured table lists (`partitioned-tables`, `hot-tables`, `large-tables`)
 * against a model or a table named in SQL. An entry is either a database table name
 * (`shop_order`, or `schema.shop_order`) or a model as `app_label.ModelName`; model entries
 * compare case-insensitively like Django's model lookups, table names compare like PostgreSQL's
 * unquoted identifiers (case-folded).
 */
import type { ModelState } from "../state/model-state.js";
import { defaultTableName } from "../state/model-state.js";

/** The table a model's rows live in. */
export function tableOfModel(model: ModelState): string {
  return model.dbTable ?? defaultTableName(model.app, model.key);
}

/**
 * The first entry of `list` that names this model or this table, or null. `model` may be null
 * when only a table name is known (RunSQL); `table` may be omitted when the model is known.
 */
export function tableListed(list: readonly string[], model: ModelState | null, table?: string | null): string | null {
  if (list.length === 0) return null;
  const tableName = (table ?? (model ? tableOfModel(model) : null))?.toLowerCase() ?? null;
  const bareTable = tableName?.includes(".") ? tableName.slice(tableName.lastIndexOf(".") + 1) : tableName;
  const modelRef = model ? `${model.app}.${model.key}`.toLowerCase() : null;
  for (const entry of list) {
    const lower = entry.toLowerCase();
    if (modelRef && lower === modelRef) return entry;
    if (tableName && (lower === tableName || lower === bareTable)) return entry;
    // `schema.table`: with a model known, only `public.` can be told apart from `app_label.Model`.
    const dot = lower.indexOf(".");
    if (bareTable && dot > 0 && lower.slice(dot + 1) === bareTable && (!modelRef || lower.slice(0, dot) === "public")) return entry;
  }
  return null;
}
