/**
 * Differential test (issue 5, "State matches Django's"): the state `rollsafe state` reconstructs
 * statically must equal the state Django 4.2's own MigrationLoader/ProjectState computes from the
 * same migration files, on every table and column of every corpus app and of the edge-case app in
 * fixture-project/. Deliberate differences are listed in KNOWN-DIFFERENCES.md.
 *
 * Needs apt (the Debian corpus) and Django installed by scripts/install-django.sh.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { type CorpusPackage, loadCorpus, runRollsafe, STACK_TRACE_LINE } from "../corpus/corpus-support.js";
// @ts-ignore -- a plain ESM helper without type declarations; StateDocument describes its result.
import { dumpDjangoState as dumpDjangoStateUntyped } from "./django-state.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE_PROJECT = path.join(HERE, "fixture-project");

/** One column, in the shape both sides print. */
interface StateColumn {
  name: string;
  field: string;
  type: string;
  null: boolean;
  unique: boolean;
  dbIndex: boolean;
  primaryKey: boolean;
  hasDefault: boolean;
  hasDbDefault: boolean;
}

/** One table (model), in the shape both sides print. */
interface StateTable {
  app: string;
  model: string;
  table: string;
  managed: boolean;
  proxy: boolean;
  autoCreated: boolean;
  columns: StateColumn[];
  indexes: string[];
  constraints: string[];
}

interface StateDocument {
  version: number;
  apps?: string[];
  skipped?: { app: string; reason: string }[];
  tables: StateTable[];
}

/** One disagreement between the two states. */
interface Difference {
  table: string;
  column: string;
  attribute: string;
  django: unknown;
  rollsafe: unknown;
}

const TABLE_ATTRIBUTES = ["table", "managed", "proxy", "autoCreated", "indexes", "constraints"] as const;
const COLUMN_ATTRIBUTES = [
  "field",
  "type",
  "null",
  "unique",
  "dbIndex",
  "primaryKey",
  "hasDefault",
  "hasDbDefault",
] as const;

const dumpDjangoState = dumpDjangoStateUntyped as (options: {
  sitePackages: string[];
  apps: string[];
}) => Promise<StateDocument>;

/** Runs `rollsafe state PATHS --format json` and parses it. */
async function rollsafeState(paths: string[]): Promise<StateDocument> {
  const run = await runRollsafe(["state", ...paths, "--format", "json"]);
  if (run.code !== 0 || STACK_TRACE_LINE.test(run.stderr)) {
    throw new Error(`rollsafe state exited ${run.code}: ${run.stderr.trim().split("\n").slice(0, 5).join(" | ")}`);
  }
  return JSON.parse(run.stdout) as StateDocument;
}

/** Every difference between the two states, over the apps Django could load. */
function diffStates(django: StateDocument, rollsafe: StateDocument): Difference[] {
  const apps = new Set(django.apps ?? django.tables.map((table) => table.app));
  const key = (table: StateTable) => `${table.app}.${table.model}`;
  const ours = new Map(rollsafe.tables.filter((table) => apps.has(table.app)).map((table) => [key(table), table]));
  const theirs = new Map(django.tables.map((table) => [key(table), table]));
  const differences: Difference[] = [];
  const differ = (table: string, column: string, attribute: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push({ table, column, attribute, django: a, rollsafe: b });
  };

  for (const name of [...new Set([...theirs.keys(), ...ours.keys()])].sort()) {
    const expected = theirs.get(name);
    const actual = ours.get(name);
    if (!expected || !actual) {
      differ(name, "*", "present", Boolean(expected), Boolean(actual));
      continue;
    }
    for (const attribute of TABLE_ATTRIBUTES) {
      const a = expected[attribute];
      const b = actual[attribute];
      differ(name, "*", attribute, Array.isArray(a) ? [...a].sort() : a, Array.isArray(b) ? [...b].sort() : b);
    }
    const expectedColumns = new Map(expected.columns.map((column) => [column.name, column]));
    const actualColumns = new Map((actual.columns ?? []).map((column) => [column.name, column]));
    for (const column of [...new Set([...expectedColumns.keys(), ...actualColumns.keys()])]) {
      const a = expectedColumns.get(column);
      const b = actualColumns.get(column);
      if (!a || !b) {
        differ(name, column, "present", Boolean(a), Boolean(b));
        continue;
      }
      for (const attribute of COLUMN_ATTRIBUTES) differ(name, column, attribute, a[attribute], b[attribute]);
    }
    const sameColumns =
      expectedColumns.size === actualColumns.size && [...expectedColumns.keys()].every((c) => actualColumns.has(c));
    if (sameColumns) differ(name, "*", "columnOrder", [...expectedColumns.keys()], [...actualColumns.keys()]);
  }
  return differences;
}

/** A row of KNOWN-DIFFERENCES.md: which differences it excuses. */
interface KnownDifference {
  table: string;
  column: string;
  attribute: string;
  row: string;
}

/** Reads the rows of the table in KNOWN-DIFFERENCES.md (after its header and separator rows). */
async function knownDifferences(): Promise<KnownDifference[]> {
  const text = await readFile(path.join(HERE, "KNOWN-DIFFERENCES.md"), "utf8");
  const rows = text.split("\n").filter((line) => line.trimStart().startsWith("|"));
  return rows.slice(2).map((row) => {
    const cells = row
      .trim()
      .replace(/^\||\|$/g, "")
      .split("|")
      .map((cell) => cell.trim().replace(/^`|`$/g, ""));
    const [table = "", column = "", attribute = ""] = cells;
    return { table, column, attribute, row: row.trim() };
  });
}

function excuses(known: KnownDifference, difference: Difference): boolean {
  return (
    (known.table === "*" || known.table === difference.table) &&
    (known.column === "*" || known.column === difference.column) &&
    known.attribute === difference.attribute
  );
}

/**
 * Corpus apps that neither Debian's Django 3.2 nor 4.2 can load (their migrations are still
 * checked by the corpus test; only the state comparison leaves them out).
 */
const NOT_LOADABLE: Record<string, string> = {
  // python3-django-tastypie 0.13.3: models without `on_delete`, required since Django 2.0.
  tastypie: "OneToOneField.__init__() missing 1 required positional argument: 'on_delete'",
  // python3-django-push-notifications 1.6.0: imports django.utils.six (gone in Django 3.0) and
  // apns2, which Debian does not package.
  push_notifications: "cannot import name 'six' from 'django.utils'; no module named 'apns2'",
};

let known: KnownDifference[];
/** Rows of KNOWN-DIFFERENCES.md that excused at least one difference. */
const used = new Set<string>();

/** Compares the two states, allowing (and recording the use of) the documented differences. */
function expectSameState(django: StateDocument, rollsafe: StateDocument) {
  const differences = diffStates(django, rollsafe);
  for (const difference of differences) {
    for (const entry of known) if (excuses(entry, difference)) used.add(entry.row);
  }
  const unexplained = differences.filter((difference) => !known.some((entry) => excuses(entry, difference)));
  // One readable line per difference: `app.model column attribute: Django X, rollsafe Y`.
  expect(
    unexplained.map(
      (d) =>
        `${d.table} ${d.column} ${d.attribute}: Django ${JSON.stringify(d.django)}, rollsafe ${JSON.stringify(d.rollsafe)}`,
    ),
  ).toEqual([]);
}

beforeAll(async () => {
  known = await knownDifferences();
});

describe("rollsafe state agrees with Django's MigrationLoader", () => {
  describe("on the Debian corpus", () => {
    let corpus: CorpusPackage[];
    let django: StateDocument;

    beforeAll(async () => {
      corpus = await loadCorpus();
      django = await dumpDjangoState({
        sitePackages: corpus.map((pkg) => pkg.sitePackages),
        apps: corpus.flatMap((pkg) => pkg.apps.map((app) => app.module)).filter((module) => !(module in NOT_LOADABLE)),
      });
    });

    it("Django loads every corpus app but those no Django in Debian can load", () => {
      const modules = new Set(corpus.flatMap((pkg) => pkg.apps.map((app) => app.module)));
      expect(Object.keys(NOT_LOADABLE).filter((module) => !modules.has(module))).toEqual([]);
      expect(django.skipped ?? []).toEqual([]);
      expect(django.tables.length).toBeGreaterThan(50);
    });

    it("has the same tables and columns", async () => {
      expectSameState(django, await rollsafeState(corpus.map((pkg) => pkg.sitePackages)));
    });
  });

  describe("on the edge-case app (renames, proxies, unmanaged, long names, M2M)", () => {
    let djangoPackage: CorpusPackage;
    let django: StateDocument;

    beforeAll(async () => {
      const corpus = await loadCorpus();
      const found = corpus.find((pkg) => pkg.name === "python3-django");
      if (!found) throw new Error("the corpus has no python3-django package");
      djangoPackage = found;
      django = await dumpDjangoState({
        sitePackages: [djangoPackage.sitePackages, FIXTURE_PROJECT],
        apps: ["django.contrib.contenttypes", "django.contrib.auth", "stateprobe"],
      });
    });

    it("Django loads the fixture", () => {
      expect(django.skipped ?? []).toEqual([]);
      expect(django.tables.filter((table) => table.app === "stateprobe").length).toBeGreaterThanOrEqual(9);
    });

    it("the comparison itself sees a changed, a missing and a reordered column", () => {
      const changed: StateDocument = structuredClone(django);
      const writer = changed.tables.find((table) => table.table === "stateprobe_writer");
      if (!writer) throw new Error("the fixture has no stateprobe_writer table");
      writer.columns.find((column) => column.name === "bio")!.null = true;
      writer.columns = writer.columns.filter((column) => column.name !== "slug");
      expect(diffStates(django, django)).toEqual([]);
      expect(diffStates(django, changed).map((d) => `${d.table} ${d.column} ${d.attribute}`)).toEqual([
        "stateprobe.writer bio null",
        "stateprobe.writer slug present",
      ]);
      const reordered: StateDocument = structuredClone(django);
      reordered.tables.find((table) => table.table === "stateprobe_writer")!.columns.reverse();
      expect(diffStates(django, reordered).map((d) => `${d.table} ${d.column} ${d.attribute}`)).toEqual([
        "stateprobe.writer * columnOrder",
      ]);
    });

    it("has the same tables and columns", async () => {
      expectSameState(django, await rollsafeState([djangoPackage.sitePackages, FIXTURE_PROJECT]));
    });
  });

  it("every entry of KNOWN-DIFFERENCES.md still matches a real difference", () => {
    expect(known.filter((entry) => !used.has(entry.row)).map((entry) => entry.row)).toEqual([]);
  });
});
