/**
 * App labels read from the migrations when an app's `apps.py` gives none: an app whose label is
 * not its directory's name (`kolibri/core/auth` is `kolibriauth`, Misago's `threads` is
 * `misago_threads`) names itself by that label in its own migrations' dependencies. Without it,
 * every migration of the app looks like a leaf (a dependency on an app the run does not have).
 */
import path from "node:path";
import type { AppInfo, DependencyRef } from "../model/types.js";
import { listIn } from "../util/collections.js";
import type { ParsedMigration } from "../parse/parse-migration.js";

/** An app relabelled from its migrations: the label they use. */
export interface InferredLabel {
  label: string;
  /** The app's directory, for the note. */
  dir: string;
  /** Read from other apps' dependencies on it, its own naming no label. */
  fromOthers?: true;
}

/**
 * Relabels, in place, the apps whose label came from their directory and whose migrations never
 * depend on that label but depend on one other label no app of the run has, ending in the
 * directory's name, every migration of which they name is one of theirs; or, when their own
 * migrations name no such label, that other apps' migrations depend on as `<prefix>_<directory>`. Their migrations' `app`
 * and `id` follow. Returns the apps relabelled.
 */
export function labelsFromDependencies(apps: readonly AppInfo[], migrations: readonly ParsedMigration[]): InferredLabel[] {
  const known = new Set(apps.map((a) => a.label));
  const byApp = new Map<AppInfo, ParsedMigration[]>();
  for (const app of apps) if (app.labelSource === "directory") byApp.set(app, []);
  if (byApp.size === 0) return [];
  const ownOf = new Map([...byApp].map(([a, own]) => [a.migrationsDir, own] as const));
  for (const m of migrations) ownOf.get(path.dirname(m.path))?.push(m);
  const inferred: InferredLabel[] = [];
  // Every migration's dependencies by the label they name, read once when an app needs them.
  let byLabel: Map<string, { dir: string; dependency: DependencyRef }[]> | null = null;
  for (const [app, own] of byApp) {
    if (own.length === 0) continue;
    const names = new Set(own.map((m) => m.name));
    const deps = own.flatMap((m) => m.dependencies.filter((d) => !d.swappable && !d.name.startsWith("__")));
    if (deps.some((d) => d.app === app.label)) continue;
    let fromOthers = false;
    let candidates = new Set(deps.filter((d) => !known.has(d.app) && d.app.endsWith(app.label) && d.app !== app.label).map((d) => d.app));
    // An app whose own migrations name no label (one migration, Misago's `conf`): other apps'
    // dependencies on `<prefix>_<directory>`, every migration of which they name is one of its own.
    if (candidates.size === 0) {
      byLabel ??= dependenciesByLabel(migrations);
      const others: DependencyRef[] = [];
      for (const [label, entries] of byLabel) {
        if (known.has(label) || !label.endsWith(`_${app.label}`)) continue;
        for (const { dir, dependency } of entries) if (dir !== app.migrationsDir) others.push(dependency);
      }
      candidates = new Set(others.map((d) => d.app));
      if (candidates.size === 1 && !others.filter((d) => candidates.has(d.app)).every((d) => names.has(d.name))) continue;
      deps.push(...others.filter((d) => candidates.has(d.app)));
      fromOthers = true;
    }
    if (candidates.size !== 1) continue;
    const label = [...candidates][0] as string;
    if (!deps.filter((d) => d.app === label).every((d) => names.has(d.name))) continue;
    inferred.push({ label, dir: app.dir, ...(fromOthers ? { fromOthers: true as const } : {}) });
    known.add(label);
    app.label = label;
    for (const m of own) {
      m.app = label;
      m.id = `${label}.${m.name}`;
    }
  }
  return inferred;
}

/** The migrations' dependencies on other migrations by the app label they name, with the directory of the migration that has each. */
function dependenciesByLabel(migrations: readonly ParsedMigration[]): Map<string, { dir: string; dependency: DependencyRef }[]> {
  const byLabel = new Map<string, { dir: string; dependency: DependencyRef }[]>();
  for (const m of migrations) {
    const dir = path.dirname(m.path);
    for (const dependency of m.dependencies) if (!dependency.swappable && !dependency.name.startsWith("__")) listIn(byLabel, dependency.app).push({ dir, dependency });
  }
  return byLabel;
}
