/**
 * Reads an app's label from its `apps.py`: a static `label = "..."` on an `AppConfig` subclass
 * overrides the default, which is the app directory's name (Django's `AppConfig.label` defaults
 * to the last component of the app's module path).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { lightTree } from "./light-tree.js";
import { parsePython } from "./python-parser.js";
import { tooDeeplyIndented } from "./python3-syntax.js";
import { decodePythonSource } from "./source-text.js";
import { decodeString } from "./parse-migration.js";

/** Returns the label declared in `apps.py` source, or null when none is static. */
export function labelFromAppsSource(source: string): string | null {
  // CPython refuses it, and tree-sitter's scanner would abort the process (python3-syntax.ts).
  if (tooDeeplyIndented(source)) return null;
  const root = lightTree(parsePython(source), source);
  const labels: string[] = [];
  for (const cls of root.namedChildren) {
    const def = cls.type === "decorated_definition" ? cls.childForFieldName("definition") : cls;
    if (!def || def.type !== "class_definition") continue;
    const bases = def.childForFieldName("superclasses")?.text ?? "";
    if (!/AppConfig\b/.test(bases)) continue;
    for (const stmt of def.childForFieldName("body")?.namedChildren ?? []) {
      const assignment = stmt.type === "expression_statement" ? stmt.namedChildren[0] : null;
      if (assignment?.type !== "assignment") continue;
      if (assignment.childForFieldName("left")?.text !== "label") continue;
      const right = assignment.childForFieldName("right");
      const decoded = right?.type === "string" ? decodeString(right.text) : null;
      if (decoded && decoded.value) labels.push(decoded.value);
    }
  }
  // Several configs in one apps.py: Django picks the one marked `default = True` or the only one;
  // a statically unique label is what we can trust.
  const unique = [...new Set(labels)];
  return unique.length === 1 ? (unique[0] ?? null) : null;
}

/**
 * Labels read from `apps.py` files, by app directory and content (the parse cache): a run whose
 * apps.py files are unchanged never loads tree-sitter for them.
 */
export interface AppLabelCache {
  /** The label read earlier from these bytes (null: no apps.py), or undefined when unknown. */
  label(appDir: string, bytes: Uint8Array | null): Promise<{ label: string | null } | undefined>;
  setLabel(appDir: string, bytes: Uint8Array | null, label: string | null): Promise<void>;
}

/** The app label for an app directory. */
export async function readAppLabel(appDir: string, cache?: AppLabelCache): Promise<{ label: string; source: "apps.py" | "directory" }> {
  let bytes: Buffer | null = null;
  try {
    bytes = readFileSync(path.join(appDir, "apps.py"));
  } catch {
    // No apps.py, or an unreadable one: Django falls back to the module name too.
  }
  const cached = await cache?.label(appDir, bytes);
  let label = cached ? cached.label : null;
  if (!cached && bytes) {
    try {
      label = labelFromAppsSource(decodePythonSource(bytes));
    } catch {
      // An undecodable apps.py: Django could not import it either; fall back to the module name.
    }
  }
  if (!cached) await cache?.setLabel(appDir, bytes, label);
  if (label) return { label, source: "apps.py" };
  return { label: path.basename(appDir), source: "directory" };
}
