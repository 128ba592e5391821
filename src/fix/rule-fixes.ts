/**
 * The rewrites rules attach to their findings. Each builder returns a `Fix` of local text edits
 * (plus, where the recipe needs a later step, a new migration request), or undefined when the
 * source does not have the simple shape the rewrite needs; a missing fix never hides a finding.
 *
 * Applicability: `safe` rewrites leave Django's final model state unchanged, so `models.py` stays
 * in step and `makemigrations` detects nothing new. `unsafe` rewrites also need the same change in
 * `models.py` (a `db_default`, a pinned `db_column` or `db_table`), so `--fix` applies them only
 * with `--unsafe-fixes`.
 */
import type { Fix, Operation, PyValue, TextEdit } from "../model/types.js";
import type { OperationContext } from "../engine/rule-types.js";
import type { FieldState, ModelState } from "../state/model-state.js";
import { dropColumnStatement, dropTablesStatement, py } from "../advice/snippets.js";
import {
  bindRoots,
  dottedDjangoModules,
  ensureImportStatement,
  indentAt,
  mergeInsertions,
  migrationsModuleName,
} from "./python-source-edits.js";

/** Shifts the continuation lines of an operation's source by `extra` (for nesting it deeper). */
function shift(text: string, extra: string): string {
  return text
    .split("\n")
    .map((line, i) => (i === 0 || line === "" ? line : extra + line))
    .join("\n");
}

/** Lines joined under the operation's own indentation. */
function block(lines: string[], indent: string): string {
  return lines.map((l, i) => (i === 0 || l === "" ? l : indent + l)).join("\n");
}

/** A short identifier for file names: `drop_book_subtitle`. */
export function slugOf(...parts: string[]): string {
  return parts
    .join("_")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, 52);
}

/**
 * RS101: replaces `RemoveField` by a state-only removal (after making a NOT NULL column fillable
 * by the database, when `expandField` is given), and adds the post-deploy migration that drops
 * the column or join table. PostgreSQL only: the drop uses `DROP ... IF EXISTS`.
 */
export function stateOnlyRemovalFix(
  ctx: OperationContext,
  model: ModelState,
  fieldName: string,
  field: FieldState,
  drop: { table: string; column: string | null; m2mTable: string | null },
  expandField: string | null,
): Fix | undefined {
  const { op, migration } = ctx;
  if (ctx.parent || ctx.target.database !== "postgresql") return undefined;
  const mig = migrationsModuleName(migration);
  const indent = indentAt(migration.source, op.range.startOffset);
  if (!mig || indent === null) return undefined;
  const edits: TextEdit[] = [];
  const lines: string[] = [];
  if (expandField !== null) {
    if (!field.call) return undefined;
    const bound = bindRoots(migration, field.call, [...dottedDjangoModules(field.call)]);
    if (!bound) return undefined;
    edits.push(...bound);
    lines.push(`${mig}.AlterField(`, `    model_name=${py(model.key)},`, `    name=${py(fieldName)},`, `    field=${expandField},`, "),");
  }
  const original = migration.source.slice(op.range.startOffset, op.range.endOffset);
  lines.push(
    `${mig}.SeparateDatabaseAndState(`,
    "    state_operations=[",
    `        ${shift(original, "        ")},`,
    "    ],",
    "    database_operations=[],",
    ")",
  );
  edits.push({ file: migration.path, startOffset: op.range.startOffset, endOffset: op.range.endOffset, text: block(lines, indent) });
  const sql = drop.m2mTable ? dropTablesStatement([drop.m2mTable], ctx.target.database) : dropColumnStatement(drop.table, drop.column ?? fieldName, ctx.target.database);
  const what = drop.m2mTable ? `join table \`${drop.m2mTable}\`` : `column \`${drop.table}.${drop.column ?? fieldName}\``;
  return {
    title: `Remove \`${model.name}.${fieldName}\` from the model state only, and drop the ${drop.m2mTable ? "join table" : "column"} in a new post-deploy migration`,
    applicability: "safe",
    edits: mergeInsertions(edits),
    newMigrations: [
      {
        app: migration.app,
        after: migration.id,
        slug: slugOf("drop", model.key, fieldName),
        comment: `Contract step of \`${migration.id}\`: drops ${what}, which no release uses any more.\nRun it only after the release without \`${model.name}.${fieldName}\` is live everywhere.`,
        operations: [`migrations.RunSQL(\n    ${py(sql)},\n    reverse_sql=migrations.RunSQL.noop,\n)`],
        stage: "post",
      },
    ],
  };
}

/**
 * RS105: adds `db_default=<expr>` to the field of an `AddField`, so the database fills the column
 * for the old release's INSERTs. Needs the same `db_default` in `models.py`.
 */
export function dbDefaultFix(ctx: OperationContext, fieldCall: PyValue, dbDefault: string): Fix | undefined {
  const { migration } = ctx;
  if (fieldCall.kind !== "call" || fieldCall.hasSplat) return undefined;
  const { source } = migration;
  const text = source.slice(fieldCall.range.startOffset, fieldCall.range.endOffset);
  if (!text.endsWith(")")) return undefined;
  const close = fieldCall.range.endOffset - 1;
  const inner = source.slice(fieldCall.range.startOffset, close);
  const trimmed = inner.replace(/\s+$/, "");
  const at = fieldCall.range.startOffset + trimmed.length;
  const kwarg = `db_default=${dbDefault}`;
  let insertion: string;
  if (trimmed.endsWith("(")) insertion = kwarg;
  else if (/\n[ \t]*$/.test(inner)) {
    // One argument per line: follow that layout.
    const argIndent = /\n([ \t]*)\S[^\n]*$/.exec(trimmed)?.[1] ?? "    ";
    insertion = `${trimmed.endsWith(",") ? "" : ","}\n${argIndent}${kwarg},`;
  } else insertion = trimmed.endsWith(",") ? ` ${kwarg}` : `, ${kwarg}`;
  const edits: TextEdit[] = [{ file: migration.path, startOffset: at, endOffset: at, text: insertion }];
  if (dbDefault.startsWith("django.")) {
    if (migration.imports.django !== undefined && migration.imports.django !== "django") return undefined;
    edits.push(...ensureImportStatement(migration, `import ${dbDefault.slice(0, dbDefault.lastIndexOf("."))}`));
  }
  return {
    title: `Add \`${kwarg}\` to the field (add it to the model field in models.py too)`,
    applicability: "unsafe",
    edits: mergeInsertions(edits),
  };
}

/**
 * RS103: pins the old column with `db_column` in an `AlterField` placed before the `RenameField`,
 * so the rename changes only the Python attribute and emits no SQL.
 */
export function pinColumnFix(ctx: OperationContext, model: ModelState, fieldName: string, oldField: FieldState, pinnedField: string): Fix | undefined {
  const { op, migration } = ctx;
  if (op.kind !== "RenameField" || ctx.parent || !oldField.call) return undefined;
  const mig = migrationsModuleName(migration);
  const indent = indentAt(migration.source, op.range.startOffset);
  if (!mig || indent === null) return undefined;
  const bound = bindRoots(migration, oldField.call, [...dottedDjangoModules(oldField.call)]);
  if (!bound) return undefined;
  const alter = `${block([`${mig}.AlterField(`, `    model_name=${py(model.key)},`, `    name=${py(fieldName)},`, `    field=${pinnedField},`, "),"], indent)}\n${indent}`;
  return {
    title: `Keep the column: pin \`db_column\` on \`${model.name}.${fieldName}\` before the rename (set it on the model field in models.py too)`,
    applicability: "unsafe",
    edits: mergeInsertions([...bound, { file: migration.path, startOffset: op.range.startOffset, endOffset: op.range.startOffset, text: alter }]),
  };
}

/**
 * RS104: pins the old table with an `AlterModelTable` placed before the `RenameModel`, so the
 * rename changes only the class name.
 */
export function pinTableFix(ctx: OperationContext, model: ModelState, oldTable: string): Fix | undefined {
  const { op, migration } = ctx;
  if (op.kind !== "RenameModel" || ctx.parent) return undefined;
  // With a pinned table, Django's RenameModel still renames the `<model>_id` columns of
  // many-to-many join tables and rebuilds foreign keys pointing at the model: pinning alone
  // does not make such a rename safe, so no fix is offered then.
  const self = `${model.app}.${model.key}`;
  for (const other of ctx.state.models.values()) {
    for (const f of other.fields.values()) {
      if (f.relation && (f.relation.to === self || (other === model && f.relation.kind === "m2m"))) return undefined;
    }
  }
  const mig = migrationsModuleName(migration);
  const indent = indentAt(migration.source, op.range.startOffset);
  if (!mig || indent === null) return undefined;
  const text = `${mig}.AlterModelTable(name=${py(model.key)}, table=${py(oldTable)}),\n${indent}`;
  return {
    title: `Keep the table: pin \`db_table = ${py(oldTable)}\` on \`${model.name}\` before the rename (add it to the model's Meta in models.py too)`,
    applicability: "unsafe",
    edits: [{ file: migration.path, startOffset: op.range.startOffset, endOffset: op.range.startOffset, text }],
  };
}

/** The operation's source text as written. */
export function operationSource(ctx: { migration: { source: string } }, op: Operation): string {
  return ctx.migration.source.slice(op.range.startOffset, op.range.endOffset);
}
