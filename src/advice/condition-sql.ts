/**
 * The SQL of a `Q(...)` condition (a partial index's `condition=`), for recipes that build the
 * index by hand: lookups of fields on literal values, joined with AND, as Django compiles them
 * (`Q(deleted=False, team__isnull=False)` is `"deleted" = false AND "team_id" IS NOT NULL`).
 * Anything else (`|`, `~`, `F()`, functions, other lookups) gives null: the recipe then leaves
 * the condition to `sqlmigrate`.
 */
import type { PyValue } from "../model/types.js";
import { sqlIdent } from "./snippets.js";

const COMPARISONS: Record<string, string> = { exact: "=", gt: ">", gte: ">=", lt: "<", lte: "<=" };

/** A literal as SQL, or null. */
function literal(value: PyValue): string | null {
  switch (value.kind) {
    case "bool":
      return value.value ? "true" : "false";
    case "int":
    case "float":
      return value.text.replace(/_/g, "");
    case "str":
      return `'${value.value.replace(/'/g, "''")}'`;
    default:
      return null;
  }
}

/**
 * `q` as SQL, with `column` naming the column of a field (its name or, for a foreign key, its
 * `_id` attribute) or null when it is not a field of the model.
 */
export function conditionSql(q: PyValue | undefined, column: (field: string) => string | null): string | null {
  if (!q || q.kind !== "call" || !/(^|\.)Q$/.test(q.qualified) || q.hasSplat) return null;
  // Lookups as keywords (`Q(active=True)`) or as `(lookup, value)` pairs, the form Django's
  // deconstruct writes for more than one (`Q(("active", True), ("plural_form__isnull", True))`);
  // a nested `Q` or any other argument is not written.
  const pairs: [string, PyValue][] = [];
  for (const arg of q.args) {
    const [key, value] = arg.kind === "tuple" && arg.items.length === 2 ? arg.items : [];
    if (key?.kind !== "str" || value === undefined) return null;
    pairs.push([key.value, value]);
  }
  const entries = [...pairs, ...Object.entries(q.kwargs)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return null;
  const parts: string[] = [];
  for (const [key, value] of entries) {
    const pieces = key.split("__");
    const last = pieces[pieces.length - 1] as string;
    const known = last in COMPARISONS || last === "isnull" || last === "in";
    // `field` alone, or `field__<lookup>`; a transform or a related field (`author__name`) is not written.
    if (pieces.length > 2 || (pieces.length === 2 && !known)) return null;
    const lookup = pieces.length === 2 ? last : "exact";
    const field = pieces[0] as string;
    const col = column(field);
    if (!col) return null;
    const name = sqlIdent(col);
    if (lookup === "isnull") {
      if (value.kind !== "bool") return null;
      parts.push(`${name} IS ${value.value ? "" : "NOT "}NULL`);
    } else if (lookup === "in") {
      if (value.kind !== "list" && value.kind !== "tuple") return null;
      const items = value.items.map(literal);
      if (items.length === 0 || items.some((i) => i === null)) return null;
      parts.push(`${name} IN (${items.join(", ")})`);
    } else if (lookup === "exact" && value.kind === "none") {
      parts.push(`${name} IS NULL`);
    } else {
      const sql = literal(value);
      if (sql === null) return null;
      parts.push(`${name} ${COMPARISONS[lookup]} ${sql}`);
    }
  }
  return parts.join(" AND ");
}
