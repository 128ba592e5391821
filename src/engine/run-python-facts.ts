/**
 * What the functions a `RunPython` runs do, from the facts the parser collects per module
 * function (`ParsedMigration.functions`: the calls and the model imports of each body).
 */
import type { FunctionFacts, ParsedMigration } from "../parse/parse-migration.js";
import type { PyValue } from "../model/types.js";
import { oncePer } from "../util/collections.js";

/** The module function a `RunPython` argument names, if it is a plain local name. */
export function runPythonFunctionName(value: PyValue | undefined): string | null {
  return value?.kind === "name" && !value.name.includes(".") ? value.name : null;
}

/** Whether a `RunPython` argument is `RunPython.noop` (a function that does nothing). */
export function isRunPythonNoop(value: PyValue | undefined): boolean {
  return value?.kind === "name" && /(^|\.)RunPython\.noop$/.test(value.name);
}

/**
 * The module's functions by name, indexed once per migration: rules ask for each `RunPython`, and
 * an index per question made a data migration of thousands of functions quadratic.
 */
const functionsByName = oncePer((migration: ParsedMigration): ReadonlyMap<string, FunctionFacts> => new Map(migration.functions.map((f) => [f.name, f] as const)));

/** The functions `RunPython` runs: the named one and the module functions it calls, transitively. */
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
