/**
 * The order rollsafe replays migrations in is the order `migrate` applies them: Django's
 * MigrationLoader over the same files, with the plan `migrate` and `showmigrations --plan` make
 * (each leaf node's `forwards_plan`, in key order, skipping what is already planned). On parallel
 * branches the order decides the state each migration sees (Label Studio projects 0004 altered a
 * field under the name a sibling branch renamed). Random graphs of a fixed seed: branches, merges
 * and cross-app dependencies. Needs Debian's Django (scripts/install-django.sh).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { buildGraph } from "../../src/graph/migration-graph.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
// @ts-ignore -- a plain ESM helper without type declarations.
import { DEFAULT_PYTHON } from "./django-state.mjs";

const run = promisify(execFile);
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-plan-order-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Django's plan for the apps under `dir`, one `app.name` a line. */
const DJANGO_PLAN = `
import sys
import django
from django.conf import settings

sys.path.insert(0, sys.argv[1])
settings.configure(INSTALLED_APPS=sys.argv[2:], DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
django.setup()
from django.db.migrations.loader import MigrationLoader

graph = MigrationLoader(None, ignore_no_migrations=True).graph
plan, seen = [], set()
for target in graph.leaf_nodes():
    for key in graph.forwards_plan(target):
        if key not in seen:
            seen.add(key)
            plan.append("%s.%s" % key)
print("\\n".join(plan))
`;

type Graph = Record<string, { name: string; dependencies: [string, string][] }[]>;

/** A small deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A migration graph without cycles: migrations are made in one global order and depend only on
 * earlier ones; each app's first is its `0001_initial`, every later one depends on one or two
 * earlier migrations of its app (two: a merge; several on one parent: branches), and sometimes
 * on one of another app.
 */
function randomGraph(seed: number): Graph {
  const next = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  const apps = ["alpha", "beta", "gamma", "delta"].slice(0, 2 + Math.floor(next() * 3));
  const graph: Graph = Object.fromEntries(apps.map((app) => [app, []]));
  const made: [string, string][] = [];
  const total = 6 + Math.floor(next() * 14);
  for (let i = 0; i < total; i++) {
    const app = pick(apps);
    const own = graph[app] as Graph[string];
    const number = String(own.length + 1).padStart(4, "0");
    const name = own.length === 0 ? "0001_initial" : `${number}_${String.fromCharCode(97 + Math.floor(next() * 26))}${i}`;
    const dependencies: [string, string][] = [];
    if (own.length > 0) {
      dependencies.push([app, pick(own).name]);
      if (own.length > 1 && next() < 0.35) dependencies.push([app, pick(own).name]);
    }
    const others = made.filter(([a]) => a !== app);
    if (others.length > 0 && next() < 0.4) dependencies.push(pick(others));
    own.push({ name, dependencies: dependencies.filter((d, k) => dependencies.findIndex((e) => e[0] === d[0] && e[1] === d[1]) === k) });
    made.push([app, name]);
  }
  return graph;
}

function write(graph: Graph, dir: string): void {
  for (const [app, migrations] of Object.entries(graph)) {
    mkdirSync(path.join(dir, app, "migrations"), { recursive: true });
    writeFileSync(path.join(dir, app, "__init__.py"), "");
    writeFileSync(path.join(dir, app, "migrations", "__init__.py"), "");
    for (const m of migrations) {
      const deps = m.dependencies.map(([a, n]) => `("${a}", "${n}")`).join(", ");
      writeFileSync(path.join(dir, app, "migrations", `${m.name}.py`), `from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [${deps}]\n    operations = []\n`);
    }
  }
}

function rollsafePlan(graph: Graph, dir: string): string[] {
  const parsed = Object.entries(graph).flatMap(([app, migrations]) =>
    migrations.map((m) => {
      const file = path.join(dir, app, "migrations", `${m.name}.py`);
      return parseMigrationSource(readFileSync(file, "utf8"), { path: file, app, name: m.name });
    }),
  );
  return buildGraph(parsed).plan.map((m) => m.id);
}

async function djangoPlan(graph: Graph, dir: string): Promise<string[]> {
  const { stdout } = await run(DEFAULT_PYTHON, ["-c", DJANGO_PLAN, dir, ...Object.keys(graph).filter((app) => (graph[app] ?? []).length > 0)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", PYTHONNOUSERSITE: "1", PYTHONDONTWRITEBYTECODE: "1" },
  });
  return stdout.trim().split("\n").filter(Boolean);
}

describe("the replay order", () => {
  it("is migrate's on parallel branches of one app (Label Studio projects 0004)", async () => {
    const graph: Graph = {
      proj: [
        { name: "0001_initial", dependencies: [] },
        { name: "0002_auto_rename", dependencies: [["proj", "0001_initial"]] },
        { name: "0002_project_color", dependencies: [["proj", "0001_initial"]] },
        { name: "0003_alter_old_name", dependencies: [["proj", "0002_project_color"]] },
        { name: "0004_merge", dependencies: [["proj", "0003_alter_old_name"], ["proj", "0002_auto_rename"]] },
      ],
    };
    const dir = path.join(root, "label-studio");
    write(graph, dir);
    const expected = await djangoPlan(graph, dir);
    // The larger parent's branch first: Django pops the parents it pushed in sorted order.
    expect(expected).toEqual(["proj.0001_initial", "proj.0002_project_color", "proj.0003_alter_old_name", "proj.0002_auto_rename", "proj.0004_merge"]);
    expect(rollsafePlan(graph, dir)).toEqual(expected);
  });

  it("is migrate's on random graphs with branches, merges and cross-app dependencies", async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const graph = randomGraph(seed);
      const dir = path.join(root, `seed${seed}`);
      write(graph, dir);
      expect(rollsafePlan(graph, dir), `seed ${seed}`).toEqual(await djangoPlan(graph, dir));
    }
  });
});
