/**
 * `rollsafe plan [PATHS] [--base REF]`: the release plan of the pending migrations, as text or
 * JSON. Pending means reported: every migration under PATHS, or with `--base`, those the branch
 * adds or changes. The CLI front registers the command; this module runs it.
 */
import { analyze, type LintOptions } from "../engine/lint.js";
import { changedFilter, changedSince } from "../git/changed-files.js";
import { buildReleasePlan, renderPlanJsonChunks, renderPlanTextChunks, type ReleasePlan } from "../plan/release-plan.js";
import { sanitizeText } from "../reporters/sanitize-text.js";

/** What `plan` prints (in pieces: a large project's plan runs to tens of megabytes), and the plan itself. */
export interface PlanRun {
  pieces: Generator<string>;
  plan: ReleasePlan;
  internalError: boolean;
}

/** Runs `plan` over the paths with the resolved lint options. */
export async function runPlan(paths: string[], options: LintOptions, flags: { format: "text" | "json"; base?: string; cwd?: string }): Promise<PlanRun> {
  const cwd = flags.cwd ?? options.cwd ?? process.cwd();
  const lintOptions: LintOptions = { ...options };
  if (flags.base) lintOptions.reportFilter = changedFilter(await changedSince(flags.base, cwd));
  const analysis = await analyze(paths, lintOptions);
  const plan = buildReleasePlan(analysis);
  // Each piece holds whole lines, so sanitising piece by piece removes what the whole text would.
  const pieces = flags.format === "json" ? renderPlanJsonChunks(plan) : (function* () {
    for (const piece of renderPlanTextChunks(plan)) yield sanitizeText(piece);
  })();
  return { pieces, plan, internalError: analysis.result.diagnostics.some((d) => d.rule === "internal-error") };
}
