/**
 * Text-level building blocks for fixes: indentation, imports and whole-line removal in a
 * migration's source. Fixes are computed from the parsed model and expressed as `TextEdit`s on
 * the decoded source string (offsets as in `SourceRange`), never by reformatting the file.
 */
import type { PyValue, TextEdit } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { lastAnswer } from "../util/collections.js";

/** The whitespace between the start of the line holding `offset` and `offset`, or null if code precedes it. */
export function indentAt(source: string, offset: number): string | null {
  const lineStart = source.lastIndexOf("\n", offset - 1) + 1;
  const before = source.slice(lineStart, offset);
  return /^[ \t]*$/.test(before) ? before : null;
}

/** Indents every line after the first by `indent` (the first line continues where the old text began). */
export function reindent(text: string, indent: string): string {
  return text
    .split("\n")
    .map((line, i) => (i === 0 || line === "" ? line : indent + line))
    .join("\n");
}

/**
 * The name the file uses for `django.db.migrations` (`migrations`, or an alias such as `m`),
 * or null when the module is not bound (only bare names were imported).
 */
export function migrationsModuleName(migration: ParsedMigration): string | null {
  for (const [alias, qualified] of Object.entries(migration.imports)) {
    if (qualified === "django.db.migrations") return alias;
  }
  return null;
}

/** The module prefix an operation was written with (`migrations.`, `m.`), or `""` for a bare name. */
export function operationPrefix(callee: string): string {
  const dot = callee.lastIndexOf(".");
  return dot < 0 ? "" : callee.slice(0, dot + 1);
}

/** Root identifiers a rendered value refers to (`models` in `models.CharField`, `django` in `django.db...`). */
export function referencedRoots(value: PyValue | null | undefined, out = new Set<string>()): Set<string> {
  if (!value) return out;
  switch (value.kind) {
    case "call":
      out.add(value.callee.split(".")[0] as string);
      for (const a of value.args) referencedRoots(a, out);
      for (const v of Object.values(value.kwargs)) referencedRoots(v, out);
      break;
    case "name":
      out.add(value.name.split(".")[0] as string);
      break;
    case "list":
    case "tuple":
    case "set":
      for (const item of value.items) referencedRoots(item, out);
      break;
    case "dict":
      for (const e of value.entries) {
        referencedRoots(e.key, out);
        referencedRoots(e.value, out);
      }
      break;
    case "opaque":
      // An expression rollsafe cannot read; its names are unknown.
      out.add("\0opaque");
      break;
    default:
      break;
  }
  return out;
}

const IMPORT_LINE = /^(?:from [\w.]+ import [^\n(\\]+|import [\w.]+(?: as \w+)?)[ \t]*(?:#[^\n]*)?$/gm;

/**
 * The top-level single-line import statements of a file, in order. The last file's are kept:
 * fixes are worked out a finding at a time, and a migration's findings come together.
 */
export const importLines: (source: string) => readonly string[] = lastAnswer((source: string) =>
  [...source.matchAll(IMPORT_LINE)].map((m) => m[0].replace(/[ \t]*#.*$/, "").trimEnd()),
);

/**
 * An edit that binds `name` from `module` (`from django.db import models`), or `[]` when the file
 * already binds it the same way. Extends an existing `from module import ...` line when there is
 * one; otherwise inserts a line before the first import. Returns null if `name` is bound to
 * something else.
 */
export function ensureFromImport(migration: ParsedMigration, module: string, name: string): TextEdit[] | null {
  const bound = migration.imports[name];
  if (bound === `${module}.${name}`) return [];
  if (bound !== undefined) return null;
  const { source } = migration;
  const line = new RegExp(`^from ${module.replace(/\./g, "\\.")} import ([^\\n(\\\\#]+?)[ \\t]*(#[^\\n]*)?$`, "m").exec(source);
  if (line) {
    const end = line.index + "from ".length + module.length + " import ".length + (line[1] as string).length;
    return [{ file: migration.path, startOffset: end, endOffset: end, text: `, ${name}` }];
  }
  return insertImportLine(migration, `from ${module} import ${name}`);
}

/** An edit that adds `import module` unless the file already has that exact line. */
export function ensureImportStatement(migration: ParsedMigration, statement: string): TextEdit[] {
  if (importLines(migration.source).includes(statement)) return [];
  return insertImportLine(migration, statement);
}

function insertImportLine(migration: ParsedMigration, statement: string): TextEdit[] {
  const first = /^(?:from|import) /m.exec(migration.source);
  const at = first ? first.index : 0;
  return [{ file: migration.path, startOffset: at, endOffset: at, text: `${statement}\n` }];
}

/**
 * Binds the roots a rendered field call needs in this file: `models` from `django.db`, and
 * `django` through `import django.db.models.deletion`-style lines for fully dotted names.
 * Returns null when a root cannot be bound safely.
 */
export function bindRoots(migration: ParsedMigration, value: PyValue, dottedModules: string[]): TextEdit[] | null {
  const edits: TextEdit[] = [];
  for (const root of referencedRoots(value)) {
    if (root === "\0opaque") return null;
    if (root === "models") {
      const e = ensureFromImport(migration, "django.db", "models");
      if (!e) return null;
      edits.push(...e);
    } else if (root === "django") {
      if (migration.imports.django === undefined || migration.imports.django === "django") {
        for (const module of dottedModules) edits.push(...ensureImportStatement(migration, `import ${module}`));
      } else return null;
    } else if (migration.imports[root] === undefined) {
      return null;
    }
  }
  return mergeInsertions(edits);
}

/** Modules named by fully dotted `django.` references in a value (`django.db.models.deletion`). */
export function dottedDjangoModules(value: PyValue | null | undefined, out = new Set<string>()): Set<string> {
  if (!value) return out;
  const add = (dotted: string) => {
    if (dotted.startsWith("django.")) out.add(dotted.slice(0, dotted.lastIndexOf(".")));
  };
  switch (value.kind) {
    case "call":
      add(value.callee);
      for (const a of value.args) dottedDjangoModules(a, out);
      for (const v of Object.values(value.kwargs)) dottedDjangoModules(v, out);
      break;
    case "name":
      add(value.name);
      break;
    case "list":
    case "tuple":
    case "set":
      for (const item of value.items) dottedDjangoModules(item, out);
      break;
    case "dict":
      for (const e of value.entries) {
        dottedDjangoModules(e.key, out);
        dottedDjangoModules(e.value, out);
      }
      break;
    default:
      break;
  }
  return out;
}

/** Joins insertions at the same offset into one edit, so they never count as overlapping. */
export function mergeInsertions(edits: TextEdit[]): TextEdit[] {
  const out: TextEdit[] = [];
  for (const e of edits) {
    const same = out.find((o) => o.file === e.file && o.startOffset === e.startOffset && o.endOffset === e.endOffset && o.startOffset === o.endOffset);
    if (same) same.text += e.text;
    else out.push({ ...e });
  }
  return out;
}

/**
 * The edit removing an operation that stands on its own line(s) with its trailing comma, or null
 * when other code shares its lines.
 */
export function removeOperationLines(migration: ParsedMigration, start: number, end: number): TextEdit | null {
  const { source } = migration;
  if (indentAt(source, start) === null) return null;
  const lineStart = source.lastIndexOf("\n", start - 1) + 1;
  const rest = /^[ \t]*,?[ \t]*(#[^\n]*)?(\n|$)/.exec(source.slice(end));
  if (!rest) return null;
  return { file: migration.path, startOffset: lineStart, endOffset: end + rest[0].length, text: "" };
}

/** The edit setting `atomic = False` on the `Migration` class (replacing an existing `atomic = ...`). */
export function setNonAtomic(migration: ParsedMigration): TextEdit | null {
  const { source } = migration;
  if (migration.atomicRange) {
    return { file: migration.path, startOffset: migration.atomicRange.startOffset, endOffset: migration.atomicRange.endOffset, text: "atomic = False" };
  }
  if (!migration.classRange) return null;
  const header = /class\s+Migration\s*\([^)]*\)\s*:[ \t]*(#[^\n]*)?\n/.exec(source.slice(migration.classRange.startOffset));
  if (!header) return null;
  const at = migration.classRange.startOffset + header.index + header[0].length;
  const body = /^([ \t]*)\S/m.exec(source.slice(at));
  const indent = body ? (body[1] as string) : "    ";
  const text = source.startsWith("\n", at) ? `\n${indent}atomic = False\n` : `${indent}atomic = False\n\n`;
  return { file: migration.path, startOffset: at, endOffset: at, text };
}
