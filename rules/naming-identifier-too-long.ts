import type { Rule } from "../src/engine/rule-types.js";
import type { PyValue } from "../src/model/types.js";
import { className, dictOf, listItems, literalBool, literalString } from "../src/state/model-state.js";
import { py } from "../src/advice/snippets.js";

/** PostgreSQL's identifier limit in bytes (`NAMEDATALEN - 1`). */
const LIMIT = 63;

/** What PostgreSQL keeps: the first 63 bytes, cut at a character boundary (`pg_mbcliplen`). */
function truncated(name: string): string {
  let out = "";
  let bytes = 0;
  for (const ch of name) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > LIMIT) break;
    out += ch;
    bytes += size;
  }
  return out;
}

interface NamedIdentifier {
  kind: "table" | "column" | "index" | "constraint" | "join table";
  name: string;
  /** The keyword to shorten, for advice. */
  where: string;
}

/** Explicit names in a field call: `db_column`, and a many-to-many `db_table`. */
function fieldNames(fieldName: string, call: PyValue | undefined): NamedIdentifier[] {
  if (call?.kind !== "call") return [];
  const out: NamedIdentifier[] = [];
  const column = literalString(call.kwargs.db_column);
  if (column) out.push({ kind: "column", name: column, where: `\`db_column\` of \`${fieldName}\`` });
  const joinTable = literalString(call.kwargs.db_table);
  if (joinTable) out.push({ kind: "join table", name: joinTable, where: `\`db_table\` of \`${fieldName}\`` });
  return out;
}

/** `Index(name=...)` / `UniqueConstraint(name=...)` and friends. */
function objectName(kind: "index" | "constraint", value: PyValue | undefined): NamedIdentifier[] {
  if (value?.kind !== "call") return [];
  const name = literalString(value.kwargs.name);
  return name ? [{ kind, name, where: `\`name\` of the \`${className(value)}\`` }] : [];
}

/**
 * RS505: an explicit identifier longer than PostgreSQL's 63 bytes. PostgreSQL truncates it
 * with only a NOTICE, so the catalog holds a different name than the migration.
 */
export const namingIdentifierTooLong: Rule = {
  meta: {
    code: "RS505",
    name: "naming-identifier-too-long",
    severity: "warning",
    databases: ["postgresql"],
    claims: [],
    hazards: ["H53"],
    docs: {
      summary: "An explicit table, column, index or constraint name longer than PostgreSQL's 63 bytes",
      what: "Checks the names a migration writes out on PostgreSQL: `db_table` (in `CreateModel` options, `AlterModelTable`, many-to-many fields), `db_column`, `Index(name=...)` and constraint names (`AddIndex`, `AddIndexConcurrently`, `RenameIndex`, `AddConstraint`, `AddConstraintNotValid`, `CreateModel` options). Lengths are counted in UTF-8 bytes, as PostgreSQL counts them. Names Django generates itself are already shortened by Django (`truncate_name`) and are not checked; nor are state-only operations and unmanaged or proxy models.",
      why: "PostgreSQL keeps only the first 63 bytes of an identifier (`NAMEDATALEN - 1`) and says so only in a NOTICE that Django does not show. Django's queries still work (PostgreSQL truncates them the same way), but two names that share their first 63 bytes collide (\"relation already exists\" in the deploy's `migrate`), and anything that compares the catalog with the migration's names (drift checks, `RunSQL` written against the full name in `pg_indexes`, other tools) sees a different object.",
      recipe: ["Choose a name of at most 63 bytes (Django's own check `models.E034` limits index names to 30 characters).", "For a table or column that already exists with the truncated name, set `db_table`/`db_column` to the truncated name, which Django then uses exactly."],
      severityReason: "Warning: the migration runs, but the database holds a different name than the code, which breaks later migrations only when names collide or are compared.",
      bad: `migrations.AddField(
    model_name="book",
    name="summary",
    field=models.TextField(null=True, db_column="summary_of_the_book_as_written_by_the_publisher_for_the_back_cover"),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="summary",
    field=models.TextField(null=True, db_column="back_cover_summary"),
)`,
    },
  },
  operation(ctx) {
    const { op } = ctx;
    if (ctx.target.database !== "postgresql" || op.unknown || ctx.effect === "state") return;
    const a = op.args;
    const modelOf = (arg: PyValue | undefined) => ctx.model(literalString(arg));
    const managed = (arg: PyValue | undefined) => {
      const model = modelOf(arg);
      return model !== undefined && ctx.hasTable(model);
    };
    const names: NamedIdentifier[] = [];
    switch (op.kind) {
      case "CreateModel": {
        const options = dictOf(a.options);
        if (literalBool(options.managed) === false || literalBool(options.proxy) === true) return;
        const table = literalString(options.db_table);
        if (table) names.push({ kind: "table", name: table, where: "`db_table`" });
        for (const item of listItems(a.fields)) {
          if (item.kind !== "tuple" && item.kind !== "list") continue;
          names.push(...fieldNames(literalString(item.items[0]) ?? "?", item.items[1]));
        }
        for (const index of listItems(options.indexes)) names.push(...objectName("index", index));
        for (const constraint of listItems(options.constraints)) names.push(...objectName("constraint", constraint));
        break;
      }
      case "AlterModelTable": {
        const table = literalString(a.table);
        if (table && managed(a.name)) names.push({ kind: "table", name: table, where: "`db_table`" });
        break;
      }
      case "AddField":
      case "AlterField":
        if (managed(a.model_name)) names.push(...fieldNames(literalString(a.name) ?? "?", a.field));
        break;
      case "AddIndex":
      case "AddIndexConcurrently":
        if (managed(a.model_name)) names.push(...objectName("index", a.index));
        break;
      case "RenameIndex": {
        const name = literalString(a.new_name);
        if (name && managed(a.model_name)) names.push({ kind: "index", name, where: "`new_name`" });
        break;
      }
      case "AddConstraint":
      case "AddConstraintNotValid":
        if (managed(a.model_name)) names.push(...objectName("constraint", a.constraint));
        break;
      default:
        return;
    }
    for (const id of names) {
      const bytes = Buffer.byteLength(id.name, "utf8");
      if (bytes <= LIMIT) continue;
      const kept = truncated(id.name);
      ctx.report({
        range: op.range,
        message: `The ${id.kind} name \`${id.name}\` is ${bytes} bytes long; PostgreSQL silently truncates it to \`${kept}\`.`,
        help: [
          `PostgreSQL keeps only the first ${LIMIT} bytes of an identifier and reports the truncation only as a NOTICE. Queries still find the object, but another name starting with the same ${LIMIT} bytes collides ("already exists"), and whatever compares catalog names with this migration (drift checks, hand-written SQL against \`pg_indexes\`/\`pg_constraint\`) sees \`${kept}\`.`,
          `1. Shorten the ${id.where} to at most ${LIMIT} bytes${id.kind === "index" ? " (Django's model check `models.E034` allows 30 characters for index names)" : ""}, e.g. \`${py(kept.slice(0, 40))}\` or a clearer abbreviation.`,
          `2. If this migration already ran somewhere, the object is named \`${kept}\` there: use exactly that name so the code and the database agree.`,
        ],
      });
    }
  },
};
