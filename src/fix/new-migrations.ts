/**
 * Turns the migrations a fix asks for (`Fix.newMigrations`) into files: the next number of the
 * app, a dependency on the app's current leaf (so Django still sees one leaf per app and raises no
 * "Conflicting migrations"), and the project's own post-deploy stage marker.
 */
import path from "node:path";
import type { Diagnostic, NewMigrationRequest } from "../model/types.js";
import type { Target } from "../engine/rule-types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { appLeaves, type MigrationGraph } from "../graph/migration-graph.js";
import { py } from "../advice/snippets.js";

/** The stage marker lines (imports, class attribute) for a post-deploy migration, per convention. */
export function postDeployMarkerLines(style: Target["markerStyle"]): { imports: string[]; attribute: string } | null {
  switch (style) {
    case "syzygy":
      return { imports: ["from syzygy import Stage"], attribute: "stage = Stage.POST_DEPLOY" };
    case "safemigrate":
      return { imports: ["from django_safemigrate import Safe"], attribute: "safe = Safe.after_deploy()" };
    case "sentry":
      return { imports: [], attribute: "is_post_deployment = True" };
    default:
      return null;
  }
}

/** The highest leading migration number in an app (0 when none is numbered). */
function highestNumber(graph: MigrationGraph<ParsedMigration>, app: string): number {
  // One pass per graph for every app: asked once per new migration.
  let byApp = highestCache.get(graph);
  if (!byApp) {
    byApp = new Map();
    for (const m of [...[...graph.nodes.values()].map((n) => n.migration), ...graph.replaced]) {
      const n = /^(\d+)_/.exec(m.name);
      if (n) byApp.set(m.app, Math.max(byApp.get(m.app) ?? 0, Number(n[1])));
    }
    highestCache.set(graph, byApp);
  }
  return byApp.get(app) ?? 0;
}

const highestCache = new WeakMap<object, Map<string, number>>();

/** Renders one new migration file. Returns null when it cannot be placed or marked. */
export function renderNewMigration(
  request: NewMigrationRequest,
  graph: MigrationGraph<ParsedMigration>,
  target: Target,
): { file: string; content: string } | null {
  const leaves = appLeaves(graph, request.app);
  if (leaves.length !== 1) return null;
  const leafId = leaves[0] as string;
  if (request.directlyAfter && leafId !== request.after) return null;
  const leaf = graph.nodes.get(leafId)?.migration;
  if (!leaf) return null;
  const name = `${String(highestNumber(graph, request.app) + 1).padStart(4, "0")}_${request.slug}`;
  const marker = request.stage === "post" ? postDeployMarkerLines(target.markerStyle) : null;
  // Sentry's marker is an attribute of its CheckedMigration base class: keep the leaf's base.
  const base = /class\s+Migration\s*\(([^)]*)\)/.exec(leaf.source)?.[1]?.trim() || "migrations.Migration";
  const imports = unique(["from django.db import migrations, models", ...(request.imports ?? []), ...(marker?.imports ?? [])]);
  if (target.markerStyle === "sentry" && base !== "migrations.Migration") {
    const baseImport = baseClassImport(leaf, base);
    if (baseImport) imports.push(baseImport);
  }
  const attributes: string[] = [];
  if (marker) attributes.push(marker.attribute);
  if (request.atomic === false) attributes.push("atomic = False");
  const lines = [
    ...request.comment.split("\n").map((l) => `# ${l}`),
    "",
    ...imports,
    "",
    "",
    `class Migration(${target.markerStyle === "sentry" ? base : "migrations.Migration"}):`,
    "",
    ...attributes.flatMap((a) => [`    ${a}`, ""]),
    "    dependencies = [",
    `        (${py(request.app)}, ${py(leaf.name)}),`,
    "    ]",
    "",
    "    operations = [",
    ...request.operations.map((op) => `        ${op.split("\n").join("\n        ")},`),
    "    ]",
    "",
  ];
  return { file: path.join(path.dirname(leaf.path), `${name}.py`), content: lines.join("\n") };
}

function baseClassImport(leaf: ParsedMigration, base: string): string | null {
  const root = base.split(".")[0] as string;
  const qualified = leaf.imports[root];
  if (!qualified) return null;
  const dot = qualified.lastIndexOf(".");
  if (dot < 0) return `import ${qualified}`;
  const last = qualified.slice(dot + 1);
  return `from ${qualified.slice(0, dot)} import ${last}${last === root ? "" : ` as ${root}`}`;
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

/**
 * Drops fixes in files with syntax errors, and fills `newFiles` of every fix that asked for new
 * migrations. A fix whose migration cannot be
 * placed (several leaves in the app, or not directly after the edited migration when it must be)
 * is dropped. A post-deploy migration is only written when the project has a stage-marker
 * convention to mark it with; otherwise the fix keeps its edits and its title says what is left.
 */
export function materializeNewMigrations(diagnostics: Diagnostic[], graph: MigrationGraph<ParsedMigration>, target: Target): void {
  for (const d of diagnostics) {
    // Offsets in a file with syntax errors may sit in a recovered tree: no rewrite there.
    if (d.fix && d.migration && (graph.nodes.get(d.migration)?.migration.syntaxErrors.length ?? 0) > 0) delete d.fix;
    const requests = d.fix?.newMigrations;
    if (!d.fix || !requests?.length) continue;
    const files: { file: string; content: string }[] = [];
    let placed = true;
    let unmarked = false;
    for (const request of requests) {
      if (request.stage === "post" && !postDeployMarkerLines(target.markerStyle)) {
        unmarked = true;
        continue;
      }
      const rendered = renderNewMigration(request, graph, target);
      if (!rendered) {
        placed = false;
        break;
      }
      files.push({ file: rendered.file, content: rendered.content });
    }
    if (!placed) {
      delete d.fix;
      continue;
    }
    d.fix = {
      ...d.fix,
      ...(unmarked ? { title: `${d.fix.title.replace(/, and drop .*$/, "")}; then drop it in a later migration marked post-deploy (the project uses no stage markers rollsafe can write)` } : {}),
      newFiles: [...(d.fix.newFiles ?? []), ...files],
    };
  }
}
