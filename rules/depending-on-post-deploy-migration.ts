import type { Rule } from "../src/engine/rule-types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import type { SourceRange } from "../src/model/types.js";
import { stageName } from "../src/advice/snippets.js";
import { declaredStage } from "../src/engine/deploy-stages.js";

const WHOLE_FILE: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 };

/**
 * RS504: a pre-deploy migration that depends, directly or through other migrations, on a
 * post-deploy one (a stage inversion). A pre-deploy run cannot apply it without first applying
 * the post-deploy migration, which the old release is not ready for: django-syzygy's
 * `migrate --pre-deploy` stops with `AmbiguousPlan`, django-safemigrate blocks it.
 */
export const dependingOnPostDeployMigration: Rule = {
  meta: {
    code: "RS504",
    name: "depending-on-post-deploy-migration",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H48"],
    docs: {
      summary: "A pre-deploy migration that depends on a post-deploy migration (stage inversion)",
      what: "Follows `dependencies` and `run_before` through the whole graph (across apps) and flags a migration that runs before the deploy (marked pre-deploy, or unmarked with the default stage) when one of its ancestors is post-deploy. In a project marked for django-safemigrate, an unmarked migration is `Safe.always()` (the package's default since 5.0), which `safemigrate` delays until after the deploy when it depends on a post-deploy migration rather than blocking it; only a `Safe.before_deploy()` migration behind one is flagged, and the delayed migration's own expand steps are `adding-in-post-deploy-migration`'s. The finding names both migrations and the dependency path; it is reported at the pre-deploy migration, on the dependency entry when the post-deploy migration is a direct dependency. A migration that inherits the inversion through another checked pre-deploy migration is not reported again: the fix belongs to the first one.",
      why: "Django applies a migration's dependencies first. Before the deploy, the pre-deploy migration can only run after the post-deploy one, which is exactly what the old release, still serving traffic, is not ready for (a dropped column, a dropped table). Stage-aware runners refuse: django-syzygy's `migrate --pre-deploy` raises `AmbiguousPlan`, django-safemigrate blocks the migration; a plain `migrate` runs the contract step early.",
      recipe: [
        "Make the pre-deploy migration depend on the migration before the post-deploy one instead (edit its `dependencies`), when it does not need what the post-deploy migration did.",
        "Otherwise mark it post-deploy too, or move the operations it needs out of the post-deploy migration into a pre-deploy one.",
      ],
      severityReason: "Error: the deploy's pre-deploy `migrate` stops (syzygy, safemigrate) or runs a contract step while the old release still serves traffic.",
      bad: `# whole file: this post-deploy migration must run before 0001 (run_before), which is pre-deploy
from django.db import migrations
from syzygy import Stage


class Migration(migrations.Migration):
    stage = Stage.POST_DEPLOY
    dependencies = []
    run_before = [("library", "0001_initial")]
    operations = []`,
      good: `# whole file
from django.db import migrations
from syzygy import Stage


class Migration(migrations.Migration):
    stage = Stage.POST_DEPLOY
    dependencies = [("library", "0001_initial")]
    operations = []`,
    },
  },
  project(ctx) {
    const { graph } = ctx;
    // The migrations with a post-deploy ancestor: the search below only walks through them, so
    // a project without post-deploy migrations costs one pass, not a walk of every ancestry.
    // (A node left out cannot lead to a culprit, so the paths found are the same.)
    // Found from the post-deploy migrations down through their descendants (cycles included).
    const leadsToPost = new Set<string>();
    const down = [...graph.nodes.values()].filter((n) => ctx.stageOf(n.migration) === "post").map((n) => n.migration.id);
    while (down.length > 0) {
      for (const child of graph.nodes.get(down.pop() as string)?.children ?? []) {
        if (leadsToPost.has(child)) continue;
        leadsToPost.add(child);
        down.push(child);
      }
    }
    for (const node of graph.nodes.values()) {
      const m = node.migration;
      if (ctx.stageOf(m) !== "pre" || !ctx.isReported(m) || !leadsToPost.has(m.id)) continue;
      // Breadth-first over ancestors; stop at post-deploy ones (the nearest are the culprits).
      const via = new Map<string, string | null>([[m.id, null]]);
      const queue = [m.id];
      const culprits: ParsedMigration[] = [];
      while (queue.length > 0) {
        const id = queue.shift() as string;
        for (const parent of [...(graph.nodes.get(id)?.parents ?? [])].sort()) {
          if (via.has(parent)) continue;
          via.set(parent, id);
          const pm = graph.nodes.get(parent)?.migration;
          if (!pm) continue;
          // A migration django-safemigrate only delays (unmarked or `Safe.always`, behind a
          // post-deploy one) is post-deploy through what it depends on: the culprit is further up.
          if (ctx.stageOf(pm) === "post" && declaredStage(pm, ctx.target) === "post") culprits.push(pm);
          else if (leadsToPost.has(parent)) queue.push(parent);
        }
      }
      for (const post of culprits) {
        const path: string[] = [];
        for (let at: string | null | undefined = post.id; at; at = via.get(at)) path.push(at);
        path.reverse(); // m ... post
        const direct = path.length === 2;
        const dep = direct ? m.dependencies.find((d) => `${d.app}.${d.name}` === post.id) : undefined;
        const marker = post.stage ? `\`${post.stage.text.trim()}\`` : "the configured `default-stage`";
        const mine = m.stage ? `marked ${stageName(m.stage.stage)} (\`${m.stage.text.trim()}\`)` : "unmarked, so pre-deploy";
        const chain = path.map((id) => `\`${id}\``).join(" → ");
        const intermediate = path.slice(1, -1);
        // A checked pre-deploy migration on the path carries its own finding: fix it there.
        if (intermediate.some((id) => {
          const im = graph.nodes.get(id)?.migration;
          return im !== undefined && ctx.stageOf(im) === "pre" && ctx.isReported(im);
        })) continue;
        ctx.report(m, {
          range: dep?.range ?? m.classRange ?? WHOLE_FILE,
          message: `\`${m.id}\` runs before the deploy but depends on post-deploy \`${post.id}\`${direct ? "" : ` (through ${intermediate.map((id) => `\`${id}\``).join(", ")})`}.`,
          help: [
            `\`${m.id}\` is ${mine}; \`${post.id}\` is post-deploy (${marker}). Django applies dependencies first (${chain} is the path, read as "depends on"), so a pre-deploy run must apply \`${post.id}\` while the old release still serves traffic: django-syzygy's \`migrate --pre-deploy\` stops with \`AmbiguousPlan\`, django-safemigrate blocks \`${m.name}\`, and a plain \`migrate\` runs the post-deploy step early.`,
            `1. If \`${m.name}\` does not need what \`${post.id}\` does, point its dependency at the migration before it${direct ? ` (replace \`("${post.app}", "${post.name}")\` in \`dependencies\`)` : ` (the edge to cut is \`${path[0]}\` → \`${path[1]}\`)`}.`,
            `2. Otherwise \`${m.name}\` cannot run before the deploy: mark it post-deploy as well, or move the operations it needs out of \`${post.id}\` into a pre-deploy migration.`,
          ],
        });
      }
    }
  },
};
