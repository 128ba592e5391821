/** A rule as the settings know it, before its module is loaded (see `catalog.ts`). */
export interface RuleEntry {
  code: string;
  name: string;
  optIn: boolean;
}

/** Finds a catalog entry by code (`RS101`) or name (`dropping-column`), case-insensitively. */
export function findRuleEntry(catalog: readonly RuleEntry[], codeOrName: string): RuleEntry | undefined {
  const key = codeOrName.trim().toLowerCase();
  return catalog.find((r) => r.code.toLowerCase() === key || r.name === key);
}
