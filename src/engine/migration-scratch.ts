/**
 * What a rule builds up while the replay walks one migration's operations (the columns its renames
 * made, the unique sets it dropped), kept per run and migration: keyed by the run's database state
 * first, so that a parsed migration another run in the same process reuses starts empty.
 */
import type { ParsedMigration } from "../parse/parse-migration.js";

/**
 * A getter of the scratch value of a context's run and migration, made by `make` on first use
 * (given that first context: an index of the migration's operations, read once, is one).
 */
export function migrationScratch<T, C extends { db: object; migration: ParsedMigration } = { db: object; migration: ParsedMigration }>(make: (ctx: C) => T): (ctx: C) => T {
  const byRun = new WeakMap<object, WeakMap<ParsedMigration, T>>();
  return (ctx) => {
    let run = byRun.get(ctx.db);
    if (!run) byRun.set(ctx.db, (run = new WeakMap()));
    let value = run.get(ctx.migration);
    if (value === undefined) run.set(ctx.migration, (value = make(ctx)));
    return value;
  };
}
