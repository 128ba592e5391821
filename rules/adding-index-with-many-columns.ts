import type { Rule } from "../src/engine/rule-types.js";
import type { PyValue } from "../src/model/types.js";
import { callOf, dictOf, literalBool, literalString, stringList } from "../src/state/model-state.js";

const MAX_COLUMNS = 3;

/** The columns of an `Index(...)`: its `fields` plus its positional expressions. */
function indexParts(value: PyValue | undefined): { name: string; parts: string[] } | null {
  if (!callOf(value, "Index")) return null;
  const fields = stringList(value.kwargs.fields).map((f) => f.replace(/^-/, ""));
  // A plain column reference (`F("realm_id")`, `"-created"` in `Index(...)`'s expressions) by its name.
  const expressions = value.args.map((arg, i) => {
    const column = arg.kind === "call" && /(^|\.)F$/.test(arg.qualified) && arg.args.length === 1 ? literalString(arg.args[0]) : arg.kind === "str" ? arg.value : null;
    return column?.replace(/^-/, "") ?? `expression ${i + 1}`;
  });
  return { name: literalString(value.kwargs.name) ?? "(unnamed)", parts: [...fields, ...expressions] };
}

/** RS901 (opt-in): a non-unique index over more than three columns (strong_migrations' `add_index_columns`). */
export const addingIndexWithManyColumns: Rule = {
  meta: {
    code: "RS901",
    name: "adding-index-with-many-columns",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H60"],
    docs: {
      summary: "A non-unique index over more than three columns (opt-in)",
      what: "Flags `Index(...)` with more than three fields or expressions in `AddIndex`, `AddIndexConcurrently` and `CreateModel` options. Unique indexes and `UniqueConstraint` are not flagged: their width is dictated by the rule they enforce.",
      why: "A B-tree index is used efficiently only for a prefix of its columns, so the trailing columns rarely help queries while every one of them makes the index larger and slower to build and to maintain on each write. Usually a narrower index (the selective leading columns) serves the same queries.",
      recipe: ["Keep the columns queries filter on with equality, most selective first; drop the rest or use `include=[...]` (a covering index, PostgreSQL 11+) for columns only read."],
      severityReason: "Warning: a schema-quality suggestion, not a deploy hazard.",
      bad: `migrations.CreateModel(
    name="Loan",
    fields=[
        ("id", models.BigAutoField(primary_key=True)),
        ("reader", models.CharField(max_length=100)),
        ("branch", models.CharField(max_length=100)),
        ("status", models.CharField(max_length=20)),
        ("due", models.DateField()),
    ],
    options={"indexes": [models.Index(fields=["reader", "branch", "status", "due"], name="loan_search_idx")]},
)`,
      good: `migrations.CreateModel(
    name="Loan",
    fields=[
        ("id", models.BigAutoField(primary_key=True)),
        ("reader", models.CharField(max_length=100)),
        ("branch", models.CharField(max_length=100)),
        ("status", models.CharField(max_length=20)),
        ("due", models.DateField()),
    ],
    options={"indexes": [models.Index(fields=["reader", "status"], include=["due"], name="loan_search_idx")]},
)`,
    },
  },
  operationKinds: ["AddIndex", "AddIndexConcurrently", "CreateModel"],
  operation(ctx) {
    const { op } = ctx;
    if (op.unknown || ctx.effect === "state") return;
    const indexes: PyValue[] = [];
    if (op.kind === "AddIndex" || op.kind === "AddIndexConcurrently") {
      const model = ctx.model(literalString(op.args.model_name));
      if (!model || !ctx.hasTable(model)) return;
      if (op.args.index) indexes.push(op.args.index);
    } else if (op.kind === "CreateModel") {
      const options = dictOf(op.args.options);
      if (literalBool(options.managed) === false || literalBool(options.proxy) === true) return;
      const list = options.indexes;
      if (list && (list.kind === "list" || list.kind === "tuple")) indexes.push(...list.items);
    } else {
      return;
    }
    for (const value of indexes) {
      const index = indexParts(value);
      if (!index || index.parts.length <= MAX_COLUMNS) continue;
      ctx.report({
        range: value.range,
        message: `Index \`${index.name}\` covers ${index.parts.length} columns (${index.parts.map((p) => `\`${p}\``).join(", ")}); queries use mostly its leading ones.`,
        help: [
          "A B-tree index helps a query through a prefix of its columns; the trailing columns make it larger and slower to build and to update on every write, and rarely speed anything up.",
          `1. Keep the ${MAX_COLUMNS} or fewer columns that queries filter on with equality, most selective first.`,
          "2. For columns that are only read, use a covering index instead: `models.Index(fields=[...], include=[...], name=...)` (PostgreSQL 11+).",
        ],
      });
    }
  },
};
