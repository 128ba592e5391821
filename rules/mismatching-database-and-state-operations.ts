import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { readableForwardStatements } from "../src/engine/sql-facts-for-operation.js";
import { rawStepsMay } from "../src/engine/raw-steps.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { oncePer } from "../src/util/collections.js";
import type { Operation, PyValue } from "../src/model/types.js";
import { columnOf, fieldFromCall, literalString, type ModelState, dictOf } from "../src/state/model-state.js";

/** What one side of `SeparateDatabaseAndState` names: `col:table.column`, `table:t`, `index:n`, `constraint:n`. */
type Key = string;

/** One state operation and the database objects any of which the database side must touch. */
interface Need {
  op: Operation;
  what: string;
  /** Keys that satisfy it. */
  keys: Key[];
}

function callName(value: PyValue | undefined): string | null {
  return value?.kind === "call" ? literalString(value.kwargs.name) : null;
}

/** Table names as PostgreSQL resolves them: an unqualified or `public.` name. */
function tableKey(schema: string | null, table: string | null): string | null {
  if (table === null || (schema !== null && schema !== "public")) return null;
  return table;
}

/**
 * The objects a Django operation names, resolved against `ctx.state` (the state before the
 * `SeparateDatabaseAndState`). `touch` is the table it changes (any change counts for
 * `AlterField`, whose database form can be a type change, an index, a constraint...).
 */
function keysOf(ctx: OperationContext, op: Operation): { what: string; keys: Key[]; touch: string | null } | null {
  const a = op.args;
  const model = (arg: PyValue | undefined): ModelState | undefined => ctx.model(literalString(arg));
  const tableOf = (m: ModelState) => ctx.tableOf(m);
  switch (op.kind) {
    case "AddField":
    case "RemoveField":
    case "AlterField": {
      const m = model(a.model_name);
      const name = literalString(a.name);
      if (!m || !name) return null;
      const table = tableOf(m);
      const old = m.fields.get(name);
      const next = a.field ? fieldFromCall(name, a.field, m.app, m.key, null) : null;
      const columns = [next ? columnOf(next) : null, old ? columnOf(old) : null].filter((c): c is string => c !== null);
      if (columns.length === 0) return null; // many-to-many: a join table, not checked
      const column = columns[0] as string;
      const verb = op.kind === "AddField" ? "adds" : op.kind === "RemoveField" ? "removes" : "alters";
      return { what: `\`${op.kind}\` ${verb} column \`${table}.${column}\``, keys: op.kind === "AlterField" ? [`touch:${table}`] : columns.map((c) => `col:${table}.${c}`), touch: table };
    }
    case "RenameField": {
      const m = model(a.model_name);
      const oldName = literalString(a.old_name);
      const newName = literalString(a.new_name);
      const field = oldName ? m?.fields.get(oldName) : undefined;
      if (!m || !field || !newName) return null;
      const oldColumn = columnOf(field);
      if (!oldColumn || field.dbColumn) return null;
      const newColumn = field.relation ? `${newName}_id` : newName;
      const table = tableOf(m);
      return { what: `\`RenameField\` renames column \`${table}.${oldColumn}\` to \`${newColumn}\``, keys: [`col:${table}.${oldColumn}`, `col:${table}.${newColumn}`], touch: table };
    }
    case "CreateModel": {
      const name = literalString(a.name);
      if (!name) return null;
      const table = literalString(dictOf(a.options).db_table) ?? `${ctx.migration.app}_${name.toLowerCase()}`;
      return { what: `\`CreateModel\` creates table \`${table}\``, keys: [`table:${table}`], touch: table };
    }
    case "DeleteModel": {
      const m = model(a.name);
      if (!m || !ctx.hasTable(m)) return null;
      const table = tableOf(m);
      return { what: `\`DeleteModel\` drops table \`${table}\``, keys: [`table:${table}`], touch: table };
    }
    case "AddIndex":
    case "AddIndexConcurrently":
    case "RemoveIndex":
    case "RemoveIndexConcurrently": {
      const m = model(a.model_name);
      const name = op.kind.startsWith("Add") ? callName(a.index) : literalString(a.name);
      if (!name) return null;
      return { what: `\`${op.kind}\` ${op.kind.startsWith("Add") ? "creates" : "drops"} index \`${name}\``, keys: [`index:${name}`], touch: m ? tableOf(m) : null };
    }
    case "AddConstraint":
    case "AddConstraintNotValid":
    case "RemoveConstraint": {
      const m = model(a.model_name);
      const name = op.kind === "RemoveConstraint" ? literalString(a.name) : callName(a.constraint);
      if (!name) return null;
      // A partial or expression UniqueConstraint is created as a unique index of that name.
      return {
        what: `\`${op.kind}\` ${op.kind === "RemoveConstraint" ? "drops" : "adds"} constraint \`${name}\``,
        keys: [`constraint:${name}`, `index:${name}`],
        touch: m ? tableOf(m) : null,
      };
    }
    default:
      return null;
  }
}

/**
 * A state-side `RenameField` whose column a later state operation moves back (an `AlterField` of
 * the renamed field with `db_column` set to the old column: ArchiveBox crawls 0014's pair, as
 * adding-foreign-key-constraint's recipe keeps it): together they leave the column where it was,
 * so the database side has nothing to do for it.
 */
function movedBackLater(ctx: OperationContext, op: Operation, later: Operation[]): boolean {
  if (op.kind !== "RenameField") return false;
  const model = ctx.model(literalString(op.args.model_name));
  const oldName = literalString(op.args.old_name);
  const newName = literalString(op.args.new_name);
  const field = oldName ? model?.fields.get(oldName) : undefined;
  if (!model || !field || !newName) return false;
  const column = columnOf(field);
  return later.some((o) => {
    if (o.kind !== "AlterField" || literalString(o.args.model_name)?.toLowerCase() !== model.key || literalString(o.args.name) !== newName || !o.args.field) return false;
    return columnOf(fieldFromCall(newName, o.args.field, model.app, model.key, null)) === column;
  });
}

/** The keys the database side produces, or null when it cannot be read completely. */
function databaseKeys(ctx: OperationContext, ops: Operation[]): Set<Key> | null {
  const out = new Set<Key>();
  for (const op of ops) {
    if (op.unknown) return null;
    if (op.kind === "RunSQL") {
      const statements = readableForwardStatements(ctx.sql(op));
      if (!statements) return null;
      // A DO block (procedural code, often a dynamic EXECUTE) or a statement not modelled may touch anything.
      if (statements.some((fact) => fact.kind === "do-block" || fact.kind === "other")) return null;
      for (const fact of statements) {
        const table = tableKey(fact.schema, fact.table);
        if (table) out.add(`touch:${table}`);
        if (table && fact.column) out.add(`col:${table}.${fact.column}`);
        if (table && fact.kind === "rename-column" && fact.newName) out.add(`col:${table}.${fact.newName}`);
        if (table && ["create-table", "drop-table", "rename-table"].includes(fact.kind)) out.add(`table:${table}`);
        if (fact.kind === "rename-table" && fact.newName) out.add(`table:${fact.newName}`);
        if (fact.index) out.add(`index:${fact.index}`);
        if (fact.kind === "rename-index" && fact.newName) out.add(`index:${fact.newName}`);
        if (fact.constraint) out.add(`constraint:${fact.constraint}`);
        if (fact.kind === "rename-constraint" && fact.newName) out.add(`constraint:${fact.newName}`);
      }
      continue;
    }
    if (op.origin !== "django" && op.origin !== "postgres" && !op.thirdParty?.sameAs) return null;
    const keys = keysOf(ctx, op);
    if (!keys) {
      // A built-in operation whose objects are not modelled here: it may be what the state describes.
      return null;
    }
    for (const key of keys.keys) out.add(key);
    if (keys.touch) out.add(`touch:${keys.touch}`);
    // A column change is also a change of its table.
    for (const key of keys.keys) if (key.startsWith("col:")) out.add(`touch:${key.slice(4, key.lastIndexOf("."))}`);
  }
  return out;
}

/** A short description of what the database side does, from its keys. */
function describeKeys(keys: Set<Key>): string {
  const shown = [...keys].filter((k) => !k.startsWith("touch:")).map((k) => {
    const [kind, name] = [k.slice(0, k.indexOf(":")), k.slice(k.indexOf(":") + 1)];
    return `${kind === "col" ? "column" : kind} \`${name}\``;
  });
  return shown.length === 0 ? "no named object" : shown.slice(0, 4).join(", ") + (shown.length > 4 ? ", ..." : "");
}

/** The index of the last top-level `RemoveIndex`/`RemoveConstraint` of each name, found once per migration. */
const lastRemovals = oncePer((migration: ParsedMigration): Map<string, number> => {
  const last = new Map<string, number>();
  for (const op of migration.operations) {
    const name = op.kind.startsWith("RemoveIndex") || op.kind === "RemoveConstraint" ? literalString(op.args.name) : null;
    if (name) last.set(name, op.index);
  }
  return last;
});

/**
 * A state-only `AddIndex`/`AddConstraint` records an index or constraint the database must already
 * have: one an earlier migration built (the concurrent-index recipe builds it with `RunSQL`, then
 * records it so). When nothing rollsafe read ever created that name (no Django operation, no SQL
 * of the model's or the migration's app, nothing unreadable that might have), it never exists:
 * queries run without the index, and a unique constraint accepts duplicates.
 */
function stateOnlyAddition(ctx: OperationContext, op: Operation): void {
  if (op.unknown || !["AddIndex", "AddIndexConcurrently", "AddConstraint", "AddConstraintNotValid"].includes(op.kind)) return;
  const model = ctx.model(literalString(op.args.model_name));
  const isIndex = op.kind.startsWith("AddIndex");
  const name = callName(isIndex ? op.args.index : op.args.constraint);
  if (!model || !name || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
  const physical = ctx.db.model(model.app, model.key);
  if (physical?.indexes.some((i) => i.name === name) || physical?.constraints.some((c) => c.name === name)) return;
  const table = ctx.db.tableOf(physical ?? model);
  const named = (fact: { kind: string; index: string | null; constraint: string | null; newName: string | null }) =>
    fact.index === name || fact.constraint === name || (fact.kind === "rename-index" && fact.newName === name);
  if (rawStepsMay(ctx, [model.app, ctx.migration.app], table, named)) return;
  // Recorded only to be removed again later in the migration (a RemoveIndex of it): nothing is missing.
  if ((lastRemovals(ctx.migration).get(name) ?? -1) > (ctx.parent ?? ctx.op).index) return;
  const unique = !isIndex && op.args.constraint?.kind === "call" && /UniqueConstraint$/.test(op.args.constraint.qualified);
  ctx.report({
    range: op.range,
    severity: "warning",
    message: `This \`${op.kind}\` records ${isIndex ? "index" : "constraint"} \`${name}\` on \`${table}\` in the model state only, and nothing rollsafe read creates it in the database.`,
    help: [
      `A state-only \`${op.kind}\` is the last step of a recipe that built the ${isIndex ? "index" : "constraint"} with SQL before (\`CREATE ${isIndex || unique ? `${unique ? "UNIQUE " : ""}INDEX CONCURRENTLY` : "... NOT VALID"}\` in an earlier migration). No operation or SQL of the migrations creates \`${name}\`, so the database never gets it: ${isIndex ? "queries that need it scan the table" : unique ? "duplicates are accepted without an error" : "rows that break it are accepted"}, and a later \`Remove${isIndex ? "Index" : "Constraint"}\` fails because it is not there.`,
      isIndex
        ? `1. Build it in the database: \`AddIndexConcurrently\` in a migration with \`atomic = False\` instead of the state-only form, or a \`RunSQL\` with \`CREATE INDEX CONCURRENTLY IF NOT EXISTS "${name}" ...\` as the database operation.`
        : `1. Build it in the database: ${unique ? `\`CREATE UNIQUE INDEX CONCURRENTLY "${name}" ...\` then \`ALTER TABLE "${table}" ADD CONSTRAINT "${name}" UNIQUE USING INDEX "${name}"\`` : `\`AddConstraintNotValid\` then \`ValidateConstraint\``} as the database operations.`,
      "2. If it was created outside the migrations (by hand, or by another tool), keep this and suppress the finding with that reason.",
    ],
  });
}

/**
 * RS506: `SeparateDatabaseAndState` whose `state_operations` and `database_operations` describe
 * different objects. Django trusts the state side from then on, so the model and the schema
 * drift apart silently until a later migration or query hits the difference.
 */
export const mismatchingDatabaseAndStateOperations: Rule = {
  meta: {
    code: "RS506",
    name: "mismatching-database-and-state-operations",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H52"],
    docs: {
      summary: "`SeparateDatabaseAndState` whose state and database operations name different columns, tables, indexes or constraints",
      what: "For a `SeparateDatabaseAndState` with a non-empty `database_operations`, checks that each state operation's object (the column of `AddField`/`RemoveField`/`RenameField`, the table of `CreateModel`/`DeleteModel`, the table of `AlterField`, the name of an index or constraint) is touched by the database side. The database side is read from Django operations and from the parsed SQL of `RunSQL`; when any part of it cannot be read (unparsable or non-literal SQL, a `DO` block or a statement rollsafe does not model, `RunPython`, custom operations) nothing is reported. A state-only `SeparateDatabaseAndState` (empty `database_operations`) is the staged-removal recipe and is not compared; but an `AddIndex` or `AddConstraint` in it records an index or constraint the database must already have, and when no operation or SQL rollsafe read creates that name (and the migration does not remove it again), it is a warning: a database built from the migrations never gets it.",
      why: "Django records only the state side. When the database side creates `isbn13` but the state says `isbn`, every query of the new release on the model fails (`column \"isbn\" does not exist`); when an index is created under another name than the state's, a later `RemoveIndex` fails on deploy. The difference is invisible to `makemigrations`, which compares models with the state, not with the database.",
      recipe: [
        "Make both sides name the same objects: the column (`db_column` or the field name, `<name>_id` for a foreign key), the table (`db_table` or `<app>_<model>`), and the index or constraint name.",
        "Check the SQL Django would run with `python manage.py sqlmigrate <app> <migration>` on a migration holding only the state operations, and copy its names.",
      ],
      severityReason: "Warning: it is a drift, not always an immediate failure (a column added under another name may be intended for later); a look is needed.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
    ],
    database_operations=[
        migrations.RunSQL(
            "ALTER TABLE library_book ADD COLUMN isbn13 varchar(20) NULL",
            reverse_sql="ALTER TABLE library_book DROP COLUMN isbn13",
        ),
    ],
)`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
    ],
    database_operations=[
        migrations.RunSQL(
            "ALTER TABLE library_book ADD COLUMN isbn varchar(20) NULL",
            reverse_sql="ALTER TABLE library_book DROP COLUMN isbn",
        ),
    ],
)`,
    },
  },
  operationKinds: ["SeparateDatabaseAndState"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "SeparateDatabaseAndState" || op.unknown || ctx.effect !== "both") return;
    const dbOps = op.databaseOperations ?? [];
    const stateOps = op.stateOperations ?? [];
    if (dbOps.length === 0) {
      for (const inner of stateOps) stateOnlyAddition(ctx, inner);
      return;
    }
    if (stateOps.length === 0) return;
    const produced = databaseKeys(ctx, dbOps);
    if (!produced) return;
    const needs: Need[] = [];
    for (const [i, inner] of stateOps.entries()) {
      if (inner.unknown || movedBackLater(ctx, inner, stateOps.slice(i + 1))) continue;
      const keys = keysOf(ctx, inner);
      if (keys) needs.push({ op: inner, what: keys.what, keys: keys.keys });
    }
    const missing = needs.filter((n) => !n.keys.some((k) => produced.has(k)));
    if (missing.length === 0) return;
    const first = missing[0] as Need;
    ctx.report({
      range: op.range,
      message: `The state side of this \`SeparateDatabaseAndState\` ${first.what.replace(/^`\w+` /, `(\`${first.op.kind}\`) `)}, but its database operations never touch it (they change ${describeKeys(produced)}).`,
      help: [
        "Django records only the state operations: from now on it believes the database matches them. Queries of the new release use the state's names, and later migrations (a `RemoveIndex`, an `AlterField`) act on objects the database side never created, so they fail on deploy. `makemigrations` cannot see this drift.",
        ...missing.slice(1).map((n) => `Also: the state ${n.what.replace(/^`\w+` /, `(\`${n.op.kind}\`) `)}, which the database side does not touch.`),
        "1. Make the database operations create or change exactly what the state describes: the same column (`db_column`, or the field name; `<name>_id` for a foreign key), table (`db_table`, or `<app_label>_<model_name>`), index and constraint names.",
        "2. To get Django's own names, run `python manage.py sqlmigrate <app_label> <migration>` on a scratch migration holding only the state operations, and reuse its SQL.",
      ],
      related: missing.map((n) => ctx.relatedAt({ file: ctx.migration.path, range: n.op.range }, `${n.what}`)),
    });
  },
};
