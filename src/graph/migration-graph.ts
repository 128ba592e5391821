/**
 * The migration graph, built the way Django's `MigrationLoader.build_graph` builds it without a
 * database connection: nothing is applied, so every squashed migration replaces its targets
 * (`remove_replaced_nodes`), `__first__`/`__latest__` resolve to an app's root/leaf, and
 * `run_before` adds reverse dependencies.
 */
import type { DependencyRef, MigrationFile, SourceRange } from "../model/types.js";

export type GraphProblemKind = "missing-dependency" | "dependency-cycle";

/** A problem Django's loader would raise on (`NodeNotFoundError`, `CircularDependencyError`). */
export interface GraphProblem {
  kind: GraphProblemKind;
  migration: string;
  range: SourceRange;
  message: string;
  /** For a missing dependency: the app whose migration is missing. */
  missingApp?: string;
}

export interface GraphNode<M extends MigrationFile> {
  migration: M;
  /** Resolved parent ids (dependencies inside the scanned tree). */
  parents: Set<string>;
  children: Set<string>;
  /** Dependencies on apps outside the scanned tree. */
  external: DependencyRef[];
}

export interface MigrationGraph<M extends MigrationFile> {
  nodes: Map<string, GraphNode<M>>;
  /** Every node in dependency order (Django's forwards plan over all leaves). */
  plan: M[];
  /** Replaced migration id -> the squashed migration that replaces it. */
  replacedBy: Map<string, string>;
  /** Replaced migrations present on disk, left out of the graph. */
  replaced: M[];
  problems: GraphProblem[];
}

export interface GraphOptions {
  /** `AUTH_USER_MODEL` as `app_label.Model` (Django's default `auth.User`). */
  authUserModel?: string;
  /** Other swappable settings (`SOCIAL_AUTH_USER_MODEL` ...) -> `app_label.Model`. */
  swappable?: Record<string, string>;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the graph and its plan. Pure: problems are returned, never thrown. */
export function buildGraph<M extends MigrationFile>(migrations: M[], options: GraphOptions = {}): MigrationGraph<M> {
  const problems: GraphProblem[] = [];
  const all = new Map<string, M>();
  for (const m of migrations) if (m.hasMigrationClass) all.set(m.id, m);
  const apps = new Set(migrations.map((m) => m.app));

  // Squashes: with nothing applied, Django uses the squashed node and drops what it replaces.
  const replacedBy = new Map<string, string>();
  for (const m of all.values()) {
    for (const r of m.replaces) replacedBy.set(`${r.app}.${r.name}`, m.id);
  }
  // A squash replaced by a later squash: follow the chain.
  const finalReplacement = (id: string): string => {
    const seen = new Set<string>();
    let current = id;
    while (replacedBy.has(current) && !seen.has(current)) {
      seen.add(current);
      current = replacedBy.get(current) as string;
    }
    return current;
  };
  const replaced: M[] = [];
  const nodes = new Map<string, GraphNode<M>>();
  for (const m of all.values()) {
    if (replacedBy.has(m.id)) replaced.push(m);
    else nodes.set(m.id, { migration: m, parents: new Set(), children: new Set(), external: [] });
  }

  const appNodes = (app: string) => [...nodes.values()].filter((n) => n.migration.app === app);
  const roots = (app: string) =>
    appNodes(app)
      .filter((n) => ![...n.parents].some((p) => nodes.get(p)?.migration.app === app))
      .map((n) => n.migration.id)
      .sort(byId);
  const leaves = (app: string) =>
    appNodes(app)
      .filter((n) => ![...n.children].some((c) => nodes.get(c)?.migration.app === app))
      .map((n) => n.migration.id)
      .sort(byId);

  const swappableApp = (setting: string): string | null => {
    const value = setting === "AUTH_USER_MODEL" ? (options.authUserModel ?? "auth.User") : options.swappable?.[setting];
    return value ? (value.split(".")[0] ?? null) : null;
  };

  // First pass: concrete dependencies. `__first__`/`__latest__` need the graph, so they wait.
  const deferred: { node: GraphNode<M>; dep: DependencyRef; app: string }[] = [];
  const addEdge = (child: GraphNode<M>, parentId: string) => {
    if (parentId === child.migration.id) return;
    child.parents.add(parentId);
    nodes.get(parentId)?.children.add(child.migration.id);
  };
  const resolveConcrete = (node: GraphNode<M>, dep: DependencyRef, from: M) => {
    const app = dep.swappable ? swappableApp(dep.swappable) : dep.app;
    if (app === null || !apps.has(app)) {
      node.external.push(dep);
      return;
    }
    if (dep.name === "__first__" || dep.name === "__latest__") {
      deferred.push({ node, dep, app });
      return;
    }
    const id = finalReplacement(`${app}.${dep.name}`);
    if (id === from.id) {
      problems.push({ kind: "dependency-cycle", migration: from.id, range: dep.range, message: `circular dependency: \`${from.id}\` depends on itself` });
      return;
    }
    if (!nodes.has(id)) {
      problems.push({
        kind: "missing-dependency",
        migration: from.id,
        range: dep.range,
        message: `\`${from.id}\` depends on \`${app}.${dep.name}\`, which does not exist in app \`${app}\``,
        missingApp: app,
      });
      return;
    }
    addEdge(node, id);
  };
  for (const node of nodes.values()) {
    for (const dep of node.migration.dependencies) resolveConcrete(node, dep, node.migration);
  }
  // Dependencies of replaced migrations that point outside the squash become the squash's.
  for (const m of replaced) {
    const squash = nodes.get(finalReplacement(m.id));
    if (!squash) continue;
    for (const dep of m.dependencies) {
      const target = finalReplacement(`${dep.app}.${dep.name}`);
      if (target !== squash.migration.id) resolveConcrete(squash, dep, m);
    }
  }
  // run_before: the named migration depends on this one (`__first__`/`__latest__` as in
  // dependencies: Django's loader resolves both with `check_key`; galaxy_ng 0053 runs before
  // `("dab_rbac", "__first__")`).
  const deferredBefore: { node: GraphNode<M>; ref: DependencyRef }[] = [];
  for (const node of nodes.values()) {
    for (const ref of node.migration.runBefore) {
      if (ref.name === "__first__" || ref.name === "__latest__") {
        if (apps.has(ref.app)) deferredBefore.push({ node, ref });
        continue;
      }
      const target = nodes.get(finalReplacement(`${ref.app}.${ref.name}`));
      if (target) addEdge(target, node.migration.id);
      else if (apps.has(ref.app)) {
        problems.push({
          kind: "missing-dependency",
          migration: node.migration.id,
          range: ref.range,
          message: `\`${node.migration.id}\` must run before \`${ref.app}.${ref.name}\`, which does not exist`,
          missingApp: ref.app,
        });
      }
    }
  }
  // `__first__`: the app's root; `__latest__`: its leaf (Django's `check_key`).
  const anchor = (app: string, name: string) => (name === "__first__" ? roots(app) : leaves(app))[0];
  for (const { node, dep, app } of deferred) {
    const target = anchor(app, dep.name);
    if (target) addEdge(node, target);
    else node.external.push({ ...dep, app });
  }
  for (const { node, ref } of deferredBefore) {
    const target = nodes.get(anchor(ref.app, ref.name) ?? "");
    if (target) addEdge(target, node.migration.id);
  }

  // Cycles: iterative DFS with colours; each cycle is reported once, at its first member.
  const colour = new Map<string, 0 | 1 | 2>();
  const ids = [...nodes.keys()].sort(byId);
  const cyclic = new Set<string>();
  for (const start of ids) {
    if (colour.get(start)) continue;
    const stack: { id: string; parents: string[]; i: number }[] = [
      { id: start, parents: [...(nodes.get(start)?.parents ?? [])].sort(byId), i: 0 },
    ];
    colour.set(start, 1);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as (typeof stack)[number];
      if (frame.i >= frame.parents.length) {
        colour.set(frame.id, 2);
        stack.pop();
        continue;
      }
      const next = frame.parents[frame.i++] as string;
      const state = colour.get(next) ?? 0;
      if (state === 1) {
        const cycleStart = stack.findIndex((f) => f.id === next);
        const members = stack.slice(cycleStart).map((f) => f.id);
        if (!members.some((id) => cyclic.has(id))) {
          members.forEach((id) => cyclic.add(id));
          const first = nodes.get(next)?.migration as M;
          problems.push({
            kind: "dependency-cycle",
            migration: first.id,
            range: first.classRange ?? { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 },
            message: `circular dependency: ${[...members, next].join(" -> ")}`,
          });
        }
        continue;
      }
      if (state === 0) {
        colour.set(next, 1);
        stack.push({ id: next, parents: [...(nodes.get(next)?.parents ?? [])].sort(byId), i: 0 });
      }
    }
  }

  // The plan, in the order `migrate` applies it: MigrationExecutor.migration_plan over the leaf
  // nodes (no child in their own app) in key order, each target's forwards plan being
  // MigrationGraph.iterative_dfs, which pushes a node's parents sorted and pops them from a stack:
  // a post-order walk that visits the largest parent first. The order decides the state each
  // migration of parallel branches sees (a rename on one branch, an AlterField of the old name on
  // the other). Cycle edges are skipped; every other node is reached from a leaf, the loop over
  // all ids only guards against cycles.
  const plan: M[] = [];
  const done = new Set<string>();
  const leafIds = ids.filter((id) => {
    const app = nodes.get(id)?.migration.app;
    return ![...(nodes.get(id)?.children ?? [])].some((c) => nodes.get(c)?.migration.app === app);
  });
  for (const start of [...leafIds, ...ids]) {
    if (done.has(start)) continue;
    const stack: { id: string; parents: string[]; i: number }[] = [];
    const inStack = new Set<string>();
    const push = (id: string) => {
      stack.push({ id, parents: [...(nodes.get(id)?.parents ?? [])].sort(byId).reverse(), i: 0 });
      inStack.add(id);
    };
    push(start);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as (typeof stack)[number];
      if (frame.i < frame.parents.length) {
        const next = frame.parents[frame.i++] as string;
        if (!done.has(next) && !inStack.has(next)) push(next);
        continue;
      }
      stack.pop();
      inStack.delete(frame.id);
      if (!done.has(frame.id)) {
        done.add(frame.id);
        plan.push(nodes.get(frame.id)?.migration as M);
      }
    }
  }
  return { nodes, plan, replacedBy, replaced, problems };
}

/** Leaf migrations of an app (no child in the same app), sorted. */
export function appLeaves<M extends MigrationFile>(graph: MigrationGraph<M>, app: string): string[] {
  // A graph does not change once built: every app's leaves come from one pass over it (fixes
  // ask once per new migration, which made a scan per call quadratic on large projects).
  let byApp = leavesCache.get(graph);
  if (!byApp) {
    byApp = new Map();
    for (const node of graph.nodes.values()) {
      const own = node.migration.app;
      if ([...node.children].some((c) => graph.nodes.get(c)?.migration.app === own)) continue;
      const list = byApp.get(own) ?? [];
      list.push(node.migration.id);
      byApp.set(own, list);
    }
    for (const list of byApp.values()) list.sort(byId);
    leavesCache.set(graph, byApp);
  }
  return [...(byApp.get(app) ?? [])];
}

const leavesCache = new WeakMap<object, Map<string, string[]>>();

/** Every migration that depends on one of `from`, directly or not (`from` itself only through a cycle). */
export function descendants<M extends MigrationFile>(graph: MigrationGraph<M>, from: readonly string[]): Set<string> {
  const found = new Set<string>();
  const queue = [...from];
  for (let next = 0; next < queue.length; next++) {
    for (const child of graph.nodes.get(queue[next] as string)?.children ?? []) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  return found;
}
