/**
 * The release plan of the pending (reported) migrations: what runs before the new code goes live,
 * what must wait until it is live, and whether a step needs a maintenance window. A deploy
 * pipeline reads the JSON form to choose between a rolling deploy and a maintenance deploy.
 */
import type { Analysis } from "../engine/lint.js";
import type { DeployStage, Diagnostic, Operation } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { displayPath } from "../engine/lint.js";
import { delayedBySafemigrate } from "../engine/deploy-stages.js";
import { createsNoTable, dictOf, literalBool, literalString } from "../state/model-state.js";
import { jsonChunks } from "../reporters/json-chunks.js";
import { listIn } from "../util/collections.js";
import { descendants } from "../graph/migration-graph.js";

/** A finding as the plan lists it. */
export interface PlanFinding {
  code: string;
  rule: string;
  severity: "error" | "warning";
  line: number;
  message: string;
}

/** One pending migration in the plan. */
export interface PlanStep {
  /** `app_label.name`. */
  migration: string;
  /** Path relative to the working directory. */
  file: string;
  phase: "pre-deploy" | "post-deploy";
  /** Whether a stage marker in the file says so (deploy tooling honours markers, not this plan). */
  marked: boolean;
  /** Why the step is in its phase. */
  reason: string;
  /** The operations, one line each (`AddField book.isbn`). */
  operations: string[];
  findings: PlanFinding[];
}

/** A step that holds a blocking lock no online recipe avoids. */
export interface MaintenanceStep extends PlanFinding {
  migration: string;
  file: string;
}

/** The plan, also the `plan` object of `check --format json`. */
export interface ReleasePlan {
  /** True when a step needs a maintenance window even when written the safe way. */
  requiresDowntime: boolean;
  /** True when no pending migration has an error finding (a rolling deploy is safe as written). */
  rollingDeploySafe: boolean;
  preDeploy: PlanStep[];
  postDeploy: PlanStep[];
  maintenance: MaintenanceStep[];
  /** Ordering problems between the phases. */
  notes: string[];
}

/** Operations that remove what the old release still uses: the contract half of expand/contract. */
const CONTRACT_KINDS = new Set(["RemoveField", "DeleteModel"]);
/** Operations that add what the new release reads: they cannot wait until after the deploy. */
const EXPAND_KINDS = new Set(["CreateModel", "AddField"]);
/**
 * Operations that rename a column or a table: only one name exists at a time, so one the rename
 * rules report breaks whichever release runs while it applies, before the deploy or after it
 * (normandy recipes 0005, umap 0032); no stage is right for it. Pinned by `db_column`/`db_table`,
 * it renames nothing in the database and goes with either.
 */
const RENAME_KINDS = new Set(["RenameField", "RenameModel", "AlterModelTable"]);
/** Findings that mean a step renames something in use. */
const RENAME_RULES = new Set(["renaming-column", "renaming-table", "runsql-renaming-column", "runsql-renaming-table"]);
/** Findings that mean a step drops something in use. */
const CONTRACT_RULES = new Set(["dropping-column", "dropping-table", "runsql-dropping-column", "runsql-dropping-table"]);

/** One line for an operation: its kind and the names it touches. */
export function describeOperation(op: Operation): string {
  if (op.unknown) return `(unreadable: ${op.unknown.reason})`;
  const s = (name: string) => literalString(op.args[name]);
  const model = s("model_name") ?? s("name");
  let what = "";
  switch (op.kind) {
    case "RenameField":
      what = `${s("model_name")}.${s("old_name")} -> ${s("new_name")}`;
      break;
    case "RenameModel":
      what = `${s("old_name")} -> ${s("new_name")}`;
      break;
    case "AddField":
    case "RemoveField":
    case "AlterField":
      what = `${s("model_name")}.${s("name")}`;
      break;
    case "AddIndex":
    case "AddIndexConcurrently":
    case "AddConstraint":
    case "AddConstraintNotValid": {
      const value = op.args.index ?? op.args.constraint;
      const name = value?.kind === "call" ? literalString(value.kwargs.name) : null;
      what = `${s("model_name")}${name ? ` (${name})` : ""}`;
      break;
    }
    default:
      what = model ?? "";
  }
  const nested: string[] = [];
  if (op.kind === "SeparateDatabaseAndState") {
    nested.push(`database: ${(op.databaseOperations ?? []).map(describeOperation).join(", ") || "none"}`);
    nested.push(`state: ${(op.stateOperations ?? []).map(describeOperation).join(", ") || "none"}`);
  }
  return [op.kind, what.replace(/null/g, "?"), nested.length ? `(${nested.join("; ")})` : ""].filter(Boolean).join(" ");
}

function databaseOperations(ops: Operation[]): Operation[] {
  return ops.flatMap((op) => (op.kind === "SeparateDatabaseAndState" ? databaseOperations(op.databaseOperations ?? []) : [op]));
}

function markerName(m: ParsedMigration): string {
  const source = m.stage?.source;
  return source === "syzygy" ? "django-syzygy" : source === "safemigrate" ? "django-safemigrate" : source === "sentry" ? "is_post_deployment" : "configuration";
}

/** Builds the plan from an analysis (its reported migrations, in Django's plan order). */
export function buildReleasePlan(analysis: Analysis): ReleasePlan {
  const { graph, result, target } = analysis;
  const byMigration = new Map<string, Diagnostic[]>();
  for (const d of result.diagnostics) if (d.migration) listIn(byMigration, d.migration).push(d);
  const metas = new Map(result.rules.map((r) => [r.name, r] as const));
  const plan: ReleasePlan = { requiresDowntime: false, rollingDeploySafe: true, preDeploy: [], postDeploy: [], maintenance: [], notes: [] };
  const phaseOf = new Map<string, PlanStep["phase"]>();

  // Proxy and unmanaged models: deleting one drops no table (`sqlmigrate` prints "(no-op)"), so
  // it is no contract step (evennia: five proxy DeleteModels made 50 false ordering notes). Read
  // in plan order, as the state is: a model may be unmanaged when deleted and made again managed
  // later (tournesol backoffice 0010-0012).
  const tablelessModels = new Set<string>();
  const noteTableless = (m: ParsedMigration) => {
    for (const op of m.operations) {
      if (op.unknown) continue;
      const name = (op.kind === "CreateModel" || op.kind === "AlterModelOptions" ? literalString(op.args.name) : undefined)?.toLowerCase();
      if (!name) continue;
      const key = `${m.app}.${name}`;
      if (op.kind === "CreateModel") {
        if (createsNoTable(op)) tablelessModels.add(key);
        else tablelessModels.delete(key);
        continue;
      }
      // A model made unmanaged later (tournesol faq 0007: `AlterModelOptions(managed=False)`).
      const managed = dictOf(op.args.options).managed;
      if (literalBool(managed) === false) tablelessModels.add(key);
      else if (literalBool(managed) === true) tablelessModels.delete(key);
    }
  };

  for (const m of graph.plan) {
    noteTableless(m);
    if (!analysis.isReported(m)) continue;
    const findings = byMigration.get(m.id) ?? [];
    const file = displayPath(result.cwd, m.path);
    const contract = databaseOperations(m.operations).filter((op) => CONTRACT_KINDS.has(op.kind) && !(op.kind === "DeleteModel" && tablelessModels.has(`${m.app}.${literalString(op.args.name)?.toLowerCase()}`)));
    const contractFinding = findings.find((d) => CONTRACT_RULES.has(d.rule));
    let stage: DeployStage;
    let reason: string;
    if (delayedBySafemigrate(m, target, analysis.stageOf(m))) {
      // django-safemigrate runs an `always` migration behind a post-deploy one after the deploy.
      stage = "post";
      reason = `${m.stage ? `marked safe at any time (${markerName(m)})` : "unmarked, so `Safe.always()` (django-safemigrate's default)"}, and it depends on a post-deploy migration: \`safemigrate\` delays it until after the deploy`;
    } else if (m.stage) {
      stage = m.stage.stage;
      reason = `marked ${stage === "post" ? "post-deploy" : stage === "always" ? "safe at any time" : "pre-deploy"} (${markerName(m)})`;
    } else if (contract.length > 0 || contractFinding) {
      stage = "post";
      // With what the new release needs in the same migration (djangoproject.com accounts 0005:
      // a column dropped and a table created), no one stage is right: it has to be split.
      const expand = databaseOperations(m.operations).filter((op) => EXPAND_KINDS.has(op.kind) && !(op.kind === "CreateModel" && createsNoTable(op)));
      const contractText = contract.length ? contract.map(describeOperation).join(", ") : contractFinding?.rule;
      const renames = findings.some((d) => RENAME_RULES.has(d.rule)) ? databaseOperations(m.operations).filter((op) => RENAME_KINDS.has(op.kind)) : [];
      const renameText =
        renames.length > 0
          ? `; its rename (${renames.map(describeOperation).join(", ")}) breaks whichever release runs while it applies, before the deploy or after it: keep the column or table under its name, as \`renaming-column\` and \`renaming-table\` advise, so the rename changes only the state`
          : "";
      reason =
        expand.length > 0
          ? `contract step (${contractText}) mixed with an expand step the new release needs (${expand.map(describeOperation).join(", ")}): split it, the expand operations into a migration before the deploy and the contract ones into one marked post-deploy${renameText}`
          : `contract step (${contractText}): it removes what the old release uses, so it must wait until the new release is live; mark it post-deploy${renameText}`;
    } else if (target.markerStyle === "safemigrate" && target.defaultStage !== "post") {
      stage = "always";
      reason = "unmarked, so `Safe.always()` (django-safemigrate's default): `safemigrate` runs it before the new release starts";
    } else {
      stage = target.defaultStage;
      reason = stage === "post" ? "unmarked; the configured default stage is post-deploy" : "unmarked: Django's migrate runs it before the new release starts";
    }
    const step: PlanStep = {
      migration: m.id,
      file,
      phase: stage === "post" ? "post-deploy" : "pre-deploy",
      marked: m.stage !== null,
      reason,
      operations: m.operations.map(describeOperation),
      findings: findings.map((d) => ({ code: d.code, rule: d.rule, severity: d.severity, line: d.line, message: d.message })),
    };
    phaseOf.set(m.id, step.phase);
    (step.phase === "post-deploy" ? plan.postDeploy : plan.preDeploy).push(step);
    for (const d of findings) {
      if (d.severity === "error") plan.rollingDeploySafe = false;
      const meta = metas.get(d.rule);
      if (d.severity === "error" && meta?.noOnlineRecipe && meta.claims.includes("blocking-lock")) {
        plan.maintenance.push({ migration: m.id, file, code: d.code, rule: d.rule, severity: d.severity, line: d.line, message: d.message });
      }
    }
  }
  plan.requiresDowntime = plan.maintenance.length > 0;

  // Django applies dependencies first: a pre-deploy step that needs a post-deploy one cannot run early.
  // Only the descendants of a post-deploy step can (one pass over the graph); for each of those,
  // a breadth-first search names the nearest post-deploy dependency. (A search from every step
  // made a long chain of migrations quadratic.)
  const afterPost = descendants(
    graph,
    [...phaseOf].filter(([, phase]) => phase === "post-deploy").map(([id]) => id),
  );
  // One note per post-deploy step, naming the pre-deploy steps that depend on it directly and
  // counting those that do only through them (tournesol: 62 notes, one per later migration).
  const dependents = new Map<string, { direct: string[]; through: string[] }>();
  for (const step of plan.preDeploy) {
    if (!afterPost.has(step.migration)) continue;
    const parents = graph.nodes.get(step.migration)?.parents ?? [];
    const seen = new Set<string>();
    const queue = [...parents];
    for (let next = 0; next < queue.length; next++) {
      const id = queue[next] as string;
      if (seen.has(id)) continue;
      seen.add(id);
      if (phaseOf.get(id) === "post-deploy") {
        const entry = dependents.get(id) ?? { direct: [], through: [] };
        dependents.set(id, entry);
        ([...parents].includes(id) ? entry.direct : entry.through).push(step.migration);
        break;
      }
      for (const parent of graph.nodes.get(id)?.parents ?? []) if (!seen.has(parent)) queue.push(parent);
    }
  }
  for (const [id, { direct, through }] of dependents) {
    const names = (list: string[]) => list.map((m) => `\`${m}\``).join(", ");
    const who = direct.length > 0 ? `${direct.length === 1 ? "pre-deploy" : "pre-deploy migrations"} ${names(direct)} ${direct.length === 1 ? "depends" : "depend"} on it` : "";
    const more = through.length > 0 ? `${who ? ", and " : ""}${through.length === 1 ? `pre-deploy ${names(through)} does` : `${through.length} more pre-deploy migrations do`} through other migrations${through.length > 1 && through.length <= 5 ? ` (${names(through)})` : ""}` : "";
    plan.notes.push(`\`${id}\` is post-deploy, but ${who}${more}: \`migrate\` would apply \`${id}\` before the new release is live. Move the dependency, or split the migrations.`);
  }
  return plan;
}

/** The plan as text. */
export function renderPlanText(plan: ReleasePlan): string {
  return [...renderPlanTextChunks(plan)].join("");
}

/**
 * The same text as `renderPlanText`, a step at a time (whole lines per piece): the plan of a
 * large project runs to tens of megabytes.
 */
export function* renderPlanTextChunks(plan: ReleasePlan): Generator<string> {
  const total = plan.preDeploy.length + plan.postDeploy.length;
  if (total === 0) {
    yield "No pending migrations: nothing to plan.\n";
    return;
  }
  const lines = (list: string[]) => list.map((line) => `${line}\n`).join("");
  yield lines([`Release plan for ${total} pending migration${total === 1 ? "" : "s"}`, ""]);
  function* section(title: string, steps: PlanStep[]): Generator<string> {
    yield lines(steps.length === 0 ? [title, "  (none)"] : [title]);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as PlanStep;
      yield lines([
        `  ${i + 1}. ${step.migration}  ${step.file}`,
        `     why here: ${step.reason}`,
        ...step.operations.map((op) => `     - ${op}`),
        ...step.findings.map((f) => `     ${f.severity === "error" ? "!" : "?"} ${f.code} ${f.rule} (line ${f.line}): ${f.message}`),
      ]);
    }
    yield "\n";
  }
  yield* section("Before the new code goes live (pre-deploy):", plan.preDeploy);
  yield* section("After the new code is live everywhere (post-deploy):", plan.postDeploy);
  const tail: string[] = [];
  for (const note of plan.notes) tail.push(`Note: ${note}`);
  if (plan.notes.length) tail.push("");
  if (plan.requiresDowntime) {
    tail.push("Maintenance window: NEEDED. These steps hold a blocking lock that no online recipe avoids:");
    for (const s of plan.maintenance) tail.push(`  - ${s.migration} (${s.file}:${s.line}): ${s.code} ${s.rule}: ${s.message}`);
  } else {
    tail.push("Maintenance window: not needed.");
  }
  const errors = [...plan.preDeploy, ...plan.postDeploy].reduce((n, s) => n + s.findings.filter((f) => f.severity === "error").length, 0);
  tail.push(
    plan.rollingDeploySafe
      ? "Rolling deploy: safe as written."
      : `Rolling deploy: not safe as written (${errors} error${errors === 1 ? "" : "s"}; see \`rollsafe check\`): follow the advice, or deploy with downtime.`,
  );
  yield lines(tail);
}

/** The plan as a JSON document (with a trailing newline). */
export function renderPlanJson(plan: ReleasePlan): string {
  return [...renderPlanJsonChunks(plan)].join("");
}

/** The same document as `renderPlanJson`, byte for byte, a step at a time. */
export function* renderPlanJsonChunks(plan: ReleasePlan): Generator<string> {
  yield '{\n  "version": 1,\n  "plan": ';
  yield* jsonChunks(plan, 1, 3);
  yield "\n}\n";
}
