/**
 * Each migration's deploy stage as the project's runner applies it. A marker says it; an unmarked
 * migration runs at the configured default stage. django-safemigrate differs twice: an unmarked
 * migration is `Safe.always` (its default since 5.0; `Safe.after_deploy` before, which
 * `default-stage = "post"` reproduces), and `safemigrate` delays an `always` migration that
 * depends on a post-deploy one until after the deploy instead of blocking it (only a
 * `Safe.before_deploy` one behind it is blocked).
 */
import type { DeployStage } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import type { MigrationGraph } from "../graph/migration-graph.js";
import type { Target } from "./rule-types.js";

/** The stage a migration declares (its marker), or the one it has unmarked; before any delay. */
export function declaredStage(m: ParsedMigration, target: Target): DeployStage {
  return m.stage?.stage ?? (target.markerStyle === "safemigrate" && target.defaultStage !== "post" ? "always" : target.defaultStage);
}

/** Whether a migration whose stage is `stage` is post-deploy only because django-safemigrate delays it behind a post-deploy one. */
export function delayedBySafemigrate(m: ParsedMigration, target: Target, stage: DeployStage): boolean {
  return stage === "post" && target.markerStyle === "safemigrate" && declaredStage(m, target) === "always";
}

/** Each migration's stage, by id (the graph's plan puts parents first). */
export function deployStages(graph: MigrationGraph<ParsedMigration>, target: Target): Map<string, DeployStage> {
  const stages = new Map<string, DeployStage>();
  const safemigrate = target.markerStyle === "safemigrate";
  for (const m of graph.plan) {
    const declared = declaredStage(m, target);
    const delayed = safemigrate && declared === "always" && [...(graph.nodes.get(m.id)?.parents ?? [])].some((p) => stages.get(p) === "post");
    stages.set(m.id, delayed ? "post" : declared);
  }
  return stages;
}
