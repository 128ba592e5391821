/**
 * What the functions a `RunPython` runs do, from the facts the parser collects per module
 * function (`ParsedMigration.functions`: the calls and the model imports of each body).
 */
import { RUN_PYTHON_PARAMS, type FunctionFacts, type ParsedMigration } from "../parse/parse-migration.js";
import { NESTED_FUNCTION, nestedName } from "../parse/nested-functions.js";
import type { PyValue } from "../model/types.js";
import { oncePer } from "../util/collections.js";

/**
 * The function a `RunPython` argument names, as the migration writes it: a function of the
 * migration (`backfill`), or one it imports from a module of the project (`backfill` after
 * `from .utils import backfill`, `utils.backfill`), whose facts the load adds to the
 * migration's (`FunctionFacts.imported`).
 */
export function runPythonFunctionName(value: PyValue | undefined): string | null {
  if (value?.kind !== "name" || isRunPythonNoop(value)) return null;
  // A function defined inside another (`FunctionFacts.nestedIn`): found by its qualified name.
  return value.qualified.includes(NESTED_FUNCTION) ? value.qualified : value.name;
}

/**
 * Where a function is defined, for messages: "" for the migration's own, ` (in
 * \`shop/migrations/utils.py\`)` for an imported one, ` (in \`make_renamer\`)` for one defined
 * inside a function of the migration, ` (in \`make_renamer\` of \`shop/migrations/utils.py\`)`
 * inside a helper module's.
 */
export function definedIn(fn: FunctionFacts): string {
  const outer = fn.nestedIn ? `\`${fn.nestedIn}\`` : null;
  if (fn.imported) return ` (in ${outer ? `${outer} of ` : ""}\`${fn.imported.file}\`)`;
  return outer ? ` (in ${outer})` : "";
}

/** A function's name in its module, as Python's `__qualname__` gives it (`make_renamer.<locals>.operation` for a nested one). */
function qualifiedName(fn: FunctionFacts): string {
  return fn.nestedIn ? nestedName(fn.nestedIn, fn.name) : fn.name;
}

/** One name per function, however it is found: an imported function may be named twice (`backfill`, `utils.backfill`). */
export function functionId(fn: FunctionFacts): string {
  return fn.imported ? `${fn.imported.file}:${qualifiedName(fn)}` : qualifiedName(fn);
}

/**
 * The `def` line advice shows for a function a `RunPython` runs or one it calls, with the
 * function's own parameters, and the name of the parameter that holds Django's app registry
 * there (`apps`): the one named `apps`, else, for the function `RunPython` runs (`direct`:
 * Django passes the registry as its first argument), its first. A function called with no
 * such parameter gets `apps` added first (`added`): its callers must then pass it.
 */
export function adviceDef(fn: FunctionFacts, direct: boolean): { line: string; apps: string; added: boolean } {
  const { text, apps, first } = fn.params ?? RUN_PYTHON_PARAMS;
  const registry = apps ? "apps" : direct ? first : null;
  if (registry) return { line: `def ${fn.name}(${text}):`, apps: registry, added: false };
  return { line: `def ${fn.name}(${text ? `apps, ${text}` : "apps"}):`, apps: "apps", added: true };
}

/** The name `functionsRunBy` finds a function by. */
export function functionKey(fn: FunctionFacts): string {
  return fn.imported?.key ?? qualifiedName(fn);
}

/** Whether a `RunPython` argument is `RunPython.noop` (a function that does nothing). */
export function isRunPythonNoop(value: PyValue | undefined): boolean {
  return value?.kind === "name" && /(^|\.)RunPython\.noop$/.test(value.name);
}

/**
 * The module's functions by name, indexed once per migration: rules ask for each `RunPython`, and
 * an index per question made a data migration of thousands of functions quadratic.
 */
const functionsByName = oncePer((migration: ParsedMigration): ReadonlyMap<string, FunctionFacts> => new Map(migration.functions.map((f) => [functionKey(f), f] as const)));

/**
 * The functions `RunPython` runs: the named one and the module functions it calls, transitively
 * (for an imported function, those of its own module).
 */
export function functionsRunBy(migration: ParsedMigration, name: string): FunctionFacts[] {
  const byName = functionsByName(migration);
  const seen = new Set<string>();
  const out: FunctionFacts[] = [];
  const visit = (n: string) => {
    const fn = byName.get(n);
    if (!fn || seen.has(n)) return;
    seen.add(n);
    out.push(fn);
    for (const call of fn.calls) if (byName.has(call)) visit(call);
  };
  visit(name);
  return out;
}

/** The name an import binds: `Book` for `Book`, `B` for `Book as B` (`FunctionFacts.modelImports` entries). */
export function importedLocalName(imported: string): string {
  const parts = imported.split(/\s+as\s+/);
  return (parts[1] ?? parts[0] ?? "").trim();
}

/** Whether a function's calls go through `name` (`Book.objects...`, `Book(...)`, `Book.something`). */
export function usesName(calls: readonly string[], name: string): boolean {
  return calls.some((c) => c === name || c.startsWith(`${name}.`));
}
