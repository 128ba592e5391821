// The verification harness: proves each PostgreSQL rule's claims on a real PostgreSQL 15 server.
//
// For every bad and good fixture case of every rule whose `databases` include postgresql, it runs
// verify/run_case.py (Django 4.2 with Debian's /usr/bin/python3) against a fresh database in one
// private cluster, compares what happened with the rule's `claims`, and writes docs/verification.md.
//
// Usage: node verify/run.mjs [--selftest] [--only RULE] [--jobs N] [--out FILE] [--check]
//   --selftest  verify the harness itself on verify/selftest/ (claims from verify/selftest/rules.json)
//   --only      run the cases of one rule (its table is written only to --out, when given)
//   --check     do not write the report; exit 1 if the committed one differs from this run's
// Exit codes: 0 every case agrees, 1 a disagreement (or a stale report with --check), 2 setup error.

import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ClusterError, startCluster } from "./cluster.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const PYTHON = process.env.ROLLSAFE_PYTHON ?? "/usr/bin/python3";

/** pg_locks modes, weakest first; SHARE and above conflict with the ROW EXCLUSIVE of writes. */
const LOCK_MODES = [
  "AccessShareLock",
  "RowShareLock",
  "RowExclusiveLock",
  "ShareUpdateExclusiveLock",
  "ShareLock",
  "ShareRowExclusiveLock",
  "ExclusiveLock",
  "AccessExclusiveLock",
];
const BLOCKING_RANK = LOCK_MODES.indexOf("ShareLock");

/** A known problem that stops the run; printed as one line. */
class UsageError extends Error {}

function parseArgs(argv) {
  const options = { selftest: false, only: null, jobs: null, out: null, check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--selftest") options.selftest = true;
    else if (arg === "--check") options.check = true;
    else if (arg === "--only") options.only = value();
    else if (arg === "--out") options.out = value();
    else if (arg === "--jobs") {
      options.jobs = Number(value());
      if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new UsageError("--jobs needs a positive integer");
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return options;
}

/** The rules to verify: RuleMeta objects from dist/rules/index.js, or the self-test claims map. */
async function loadRules(selftest) {
  if (selftest) {
    const map = JSON.parse(readFileSync(join(HERE, "selftest", "rules.json"), "utf8"));
    return { rules: map.rules, fixtures: join(HERE, "selftest", "rules"), source: "verify/selftest/rules.json" };
  }
  const index = join(ROOT, "dist", "rules", "index.js");
  if (!existsSync(index)) {
    throw new UsageError("dist/rules/index.js not found: build first with `npx tsc -p tsconfig.json`");
  }
  const module = await import(pathToFileURL(index).href);
  if (!Array.isArray(module.rules)) throw new UsageError("dist/rules/index.js does not export `rules`");
  const rules = module.rules.map((rule) => rule.meta ?? rule);
  return { rules, fixtures: join(ROOT, "fixtures", "rules"), source: "rules/index.ts" };
}

function subdirectories(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith(".") && statSync(join(dir, name)).isDirectory())
    .sort();
}

/** Every case of every PostgreSQL rule, plus a problem row for each missing bad/good set. */
function collectCases(rules, fixtures, only) {
  const cases = [];
  const problems = [];
  const claimless = [];
  const otherEngine = [];
  for (const rule of rules) {
    if (!rule.databases?.includes("postgresql")) continue;
    if (only && rule.name !== only) continue;
    // Diagnostics about the files themselves (parse errors, cycles...) say nothing about a database.
    if (!rule.claims?.length) {
      claimless.push(rule.name);
      continue;
    }
    for (const kind of ["bad", "good"]) {
      const names = subdirectories(join(fixtures, rule.name, kind));
      if (names.length === 0) problems.push({ rule: rule.name, kind, problem: `no ${kind} fixture case` });
      for (const name of names) {
        const dir = join(fixtures, rule.name, kind, name);
        // A case written for MySQL or SQLite (its rollsafe.toml sets `database`) says nothing about PostgreSQL.
        const engine = targetDatabase(dir);
        if (engine && engine !== "postgresql") otherEngine.push(`${rule.name}/${kind}/${name} (${engine})`);
        else cases.push({ rule: rule.name, kind, name, dir });
      }
    }
  }
  if (only && cases.length === 0 && problems.length === 0 && claimless.length === 0) {
    throw new UsageError(`no PostgreSQL rule named ${only}`);
  }
  return { cases, problems, claimless, otherEngine };
}

/** The `database` a case's rollsafe.toml sets, or null. */
function targetDatabase(dir) {
  const file = join(dir, "rollsafe.toml");
  if (!existsSync(file)) return null;
  return /^\s*database\s*=\s*["'](\w+)["']/m.exec(readFileSync(file, "utf8"))?.[1] ?? null;
}

/** Runs run_case.py for one case; resolves to its JSON observation (or an `error`). */
function observeCase(cluster, testCase, db, extraArgs = []) {
  return new Promise((resolve) => {
    const child = spawn(
      PYTHON,
      [
        join(HERE, "run_case.py"),
        "--case", testCase.dir,
        "--kind", testCase.kind,
        "--db", db,
        "--host", cluster.host,
        "--port", String(cluster.port),
        "--user", cluster.user,
        ...extraArgs,
      ],
      {
        env: { ...process.env, ROLLSAFE_PG_PASSWORD: cluster.password, PYTHONDONTWRITEBYTECODE: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("error", (error) => {
      running.delete(child);
      resolve({ error: `cannot run ${PYTHON}: ${error.message}` });
    });
    child.on("close", () => {
      running.delete(child);
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        const reason = stderr.trim().split("\n").pop() || "no output";
        resolve({ error: `run_case.py gave no observation: ${reason}` });
      }
    });
  });
}

/** Child processes still running, ended by pid if the run is interrupted. */
const running = new Set();

const pretty = (mode) => mode.replace(/Lock$/, "").replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();
const rank = (mode) => LOCK_MODES.indexOf(mode);

/**
 * Reduces an observation to the facts the claims talk about. A lock counts as blocking only when
 * it is SHARE or stronger AND the migration scanned or rewrote that table while holding it: every
 * ALTER TABLE takes ACCESS EXCLUSIVE for a catalog-only change (ADD COLUMN NULL, DROP COLUMN),
 * which is instant whatever the table size; what blocks a deploy is such a lock held across work
 * proportional to the table (a validation scan, an index build, a rewrite).
 */
function facts(observation) {
  const locks = observation.locks ?? {};
  const scanned = new Set(observation.scanned ?? []);
  const rewritten = new Set(observation.rewritten ?? []);
  const blockingTables = Object.entries(locks)
    .filter(([table, mode]) => rank(mode) >= BLOCKING_RANK && (scanned.has(table) || rewritten.has(table)))
    .map(([table]) => table)
    .sort();
  return {
    oldFails: observation.old_after?.ok === false,
    newFails: observation.new_after?.ok === false || observation.new_before?.ok === false,
    blockingTables,
    rewritten: [...rewritten].sort(),
  };
}

/**
 * The tables a case's rollsafe.toml lists in `partitioned-tables`, read with rollsafe's own
 * configuration loader (dist/), as the rules read them; [] without a configuration file.
 */
async function configuredPartitionedTables(dir) {
  const file = join(dir, "rollsafe.toml");
  if (!existsSync(file)) return [];
  const { loadConfigFile } = await import(pathToFileURL(join(ROOT, "dist", "src", "config", "load-config.js")).href);
  return loadConfigFile(file, (name) => name).partitionedTables ?? [];
}

/** Compares one observation with the claims; returns {status, reasons}. */
/**
 * Features newer than the harness's Django 4.2 (Debian bookworm-backports), recognised in the
 * error Django gives when loading such a migration.
 */
const NEWER_DJANGO = [
  [/unexpected keyword argument 'db_default'/, "`db_default` needs Django 5.0"],
  [/GeneratedField/, "`GeneratedField` needs Django 5.0"],
  [/CompositePrimaryKey/, "`CompositePrimaryKey` needs Django 5.2"],
  [/AlterConstraint/, "`AlterConstraint` needs Django 5.2"],
];

/**
 * The Django release a case's own configuration names (`django-version = "5.0"`), when it is newer
 * than the harness's 4.2: the case shows that release's behaviour (renaming-model-rebuilds-foreign-keys:
 * Django 5.0 leaves the foreign keys alone), which Django 4.2 cannot.
 */
function newerDjangoOf(testCase) {
  let text;
  try {
    text = readFileSync(join(testCase.dir, "rollsafe.toml"), "utf8");
  } catch {
    return null;
  }
  const match = /^\s*django-version\s*=\s*"(\d+)\.(\d+)"/m.exec(text);
  return match && Number(match[1]) >= 5 ? `${match[1]}.${match[2]}` : null;
}

function judge(testCase, observation, rulesByName) {
  const newer = newerDjangoOf(testCase);
  if (newer) return { status: "unsupported", reasons: [`the case is about Django ${newer} (its rollsafe.toml); the harness runs Django 4.2`] };
  if (observation.error) {
    const newer = NEWER_DJANGO.find(([pattern]) => pattern.test(observation.error));
    if (newer) return { status: "unsupported", reasons: [`${newer[1]}; the harness runs Django 4.2`] };
    return { status: "error", reasons: [observation.error] };
  }
  if (observation.migration_error) {
    // A refused statement is the claim of rules like adding-unique-constraint-without-partition-key;
    // for any other case it is a broken case. The other claims cannot be seen past the failure.
    const claims = testCase.kind === "bad" ? expectedClaims(observation.expect ?? [], rulesByName) : [];
    if (!claims.includes("migration-fails")) return { status: "error", reasons: [`the migration failed: ${observation.migration_error}`] };
    const others = claims.filter((claim) => claim !== "migration-fails");
    const failed = `the migration failed: ${observation.migration_error}`;
    return others.length ? { status: "unobservable", reasons: [failed, `${others.join(", ")} not observed: the migration fails first`] } : { status: "agree", reasons: [failed] };
  }
  const seen = facts(observation);
  const observed = {
    "old-code-breaks": seen.oldFails,
    "new-code-breaks": seen.newFails,
    "blocking-lock": seen.blockingTables.length > 0,
    rewrite: seen.rewritten.length > 0,
    "migration-fails": false,
  };
  if (testCase.kind === "good") {
    const reasons = Object.entries(observed)
      .filter(([, happened]) => happened)
      .map(([claim]) => `${claim} observed on a good case`);
    return reasons.length ? { status: "fail", reasons } : { status: "agree", reasons: [] };
  }
  const expect = observation.expect ?? [];
  const reasons = [];
  if (!expect.includes(testCase.rule)) reasons.push(`no \`# expect: ${testCase.rule}\` marker in the case`);
  const unknown = expect.filter((name) => !rulesByName.has(name));
  if (unknown.length) reasons.push(`unknown rule in \`# expect:\`: ${unknown.join(", ")}`);
  if (reasons.length) return { status: "error", reasons };

  const excused = [];
  const configured = testCase.configuredPartitioned ?? [];
  for (const claim of expectedClaims(expect, rulesByName)) {
    if (observed[claim]) continue;
    if (claim === "migration-fails" && configured.length > 0) {
      // The configuration says a table is partitioned; the harness's copy of it is a plain table.
      excused.push(`migration-fails not observed: the case's configuration lists ${JSON.stringify(configured)} in \`partitioned-tables\`, and the harness's table is a plain one`);
      continue;
    }
    const claimants = expect.map((name) => rulesByName.get(name)).filter((rule) => rule.claims?.includes(claim));
    if (claimants.every((rule) => rule.unobservable)) {
      excused.push(`${claim} not observed: ${claimants.map((rule) => rule.unobservable).join(" / ")}`);
    } else {
      reasons.push(`${claim} claimed but not observed`);
    }
  }
  if (reasons.length) return { status: "fail", reasons };
  if (excused.length) return { status: "unobservable", reasons: excused };
  return { status: "agree", reasons: [] };
}

/**
 * Self-test rules marked `"selftestExpect": "disagree"` carry deliberately wrong claims: they
 * prove the harness reports a disagreement, so there the expected verdict is "fail".
 */
function selfTestVerdict(rule, verdict) {
  if (rule?.selftestExpect !== "disagree" || verdict.status === "error") return verdict;
  if (verdict.status === "fail") {
    return { status: "agree", reasons: [`disagreement detected as intended (${verdict.reasons.join("; ")})`] };
  }
  return { status: "fail", reasons: ["the wrong claims were not detected"] };
}

function expectedClaims(ruleNames, rulesByName) {
  const claims = new Set();
  for (const name of ruleNames) for (const claim of rulesByName.get(name)?.claims ?? []) claims.add(claim);
  return ["old-code-breaks", "new-code-breaks", "blocking-lock", "rewrite", "migration-fails"].filter((claim) => claims.has(claim));
}

// ---------------------------------------------------------------------------------------------
// The report

const cell = (text) => String(text).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const code = (text) => "`" + String(text).replace(/`/g, "'") + "`";

function describeQueries(result) {
  if (!result) return "—";
  if (result.ok) return "OK";
  const failing = result.queries.filter((query) => !query.ok);
  const first = failing[0];
  const message = first.error.replace(/^\w+Error: /, "").slice(0, 110);
  return `fails: ${first.query.toUpperCase()} ${first.model}: ${code(message)}` + (failing.length > 1 ? ` (+${failing.length - 1})` : "");
}

function describeLocks(observation) {
  const locks = Object.entries(observation.locks ?? {}).sort((a, b) => rank(b[1]) - rank(a[1]) || a[0].localeCompare(b[0]));
  if (locks.length === 0) return observation.locks ? "none" : "—";
  const scanned = new Set(observation.scanned ?? []);
  return locks
    .map(([table, mode]) => `${pretty(mode)} ${code(table)}${scanned.has(table) ? " (scanned)" : ""}`)
    .join("; ");
}

function describeExpected(testCase, observation, rulesByName) {
  if (testCase.kind === "good") return "safe";
  const claims = expectedClaims(observation.expect ?? [testCase.rule], rulesByName);
  return claims.length ? claims.join(", ") : "no database claim";
}

function describeAgreement(verdict) {
  const label = {
    agree: "yes",
    fail: "**NO**",
    error: "**ERROR**",
    unobservable: "yes (unobservable)",
    unsupported: "not run",
  }[verdict.status];
  return verdict.reasons.length ? `${label}: ${verdict.reasons.join("; ")}` : label;
}

function renderReport(results, problems, meta) {
  const lines = [];
  lines.push("# Verification on PostgreSQL");
  lines.push("");
  lines.push(
    "<!-- Generated by `npm run verify` (verify/run.mjs); do not edit by hand. -->",
    "",
    `Every fixture case of every rule that applies to PostgreSQL was run on a real server (${meta.server}) with ${meta.django}; the claims come from ${code(meta.source)}.`,
    "",
    "For each case, `verify/run_case.py`:",
    "",
    "1. migrates a fresh database to the state just before the migration under test with Django's own executor (the migration under test is the one with `# expect:` markers in bad cases, the leaf migration of each app in good cases);",
    "2. renders the **old** code's models from the historical migration state, inserts a few rows through the ORM, and checks the old code's queries work: an INSERT and a `SELECT` of every field of every model;",
    "3. applies the migration and records, for every table that existed before it, the strongest lock it took (`pg_locks`), whether it scanned the table (`pg_stat_xact_user_tables`) and whether it rewrote it (a changed `pg_class.relfilenode`);",
    "4. runs the old code's INSERT and SELECT again;",
    "5. runs the **new** code's INSERT and SELECT (models rendered from the state after the migration), which is what catches state-only removals of NOT NULL columns. Where a field's type differs from its column's (`format_type` against the field's `db_type`: a change made in the state only), the new code also INSERTs the widest value the field accepts (`max_length` characters, the top of its integer range, every digit of its `max_digits`).",
    "",
    "Deploy stages. A migration marked post-deploy (`safe = Safe.after_deploy()`, `stage = Stage.POST_DEPLOY`, `is_post_deployment = True`) runs after the new release serves all traffic. For it, the old release is already retired, so step 4 is skipped, and the new code's queries also run on the schema *before* the migration (step 2), where the new release runs until the migration is applied. Stub modules for `django_safemigrate`, `syzygy` and Sentry's `CheckedMigration` (`verify/stubs/`) let such fixtures import; Sentry's `SafeRemoveField` and `SafeDeleteModel` are stubbed with their effect (`DeletionAction.MOVE_TO_PENDING` removes from Django's state only, `DELETE` drops from the database) but without Sentry's own refusals, so the harness sees what the unsafe cases would do.",
    "",
    "How locks are seen. An atomic migration is applied inside an outer transaction on the harness's own connection, and `pg_locks` of that backend is read before the commit: every lock the migration took is still held there, so none can be missed. A migration with `atomic = False` commits after each statement, so it runs in a thread whose every statement is held at a gate until observer connections have taken ROW EXCLUSIVE (the lock of an application's INSERT) on every pre-existing table with NOWAIT. A statement that needs SHARE or stronger then queues behind the observer and `pg_locks` shows the mode it asked for; a concurrent index build waits for the observer's transaction and shows the SHARE UPDATE EXCLUSIVE it holds. The observer then lets it go. Scans of non-atomic migrations come from `pg_stat_user_tables` deltas read after every statement (the migration's backend is asked to flush its statistics as soon as it is idle), and a scan counts only for the statement that made it: since each statement commits on its own, a table is \"(scanned)\" there only when the same statement held SHARE or stronger on it.",
    "",
    "How claims are judged:",
    "",
    "- `old-code-breaks`: an old-code query fails after the migration; `new-code-breaks`: a new-code query fails (after the migration, or before it for a post-deploy migration), or Django cannot even render the new models.",
    "- `blocking-lock`: SHARE or stronger (SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS EXCLUSIVE: the modes that conflict with the ROW EXCLUSIVE lock of every INSERT, UPDATE and DELETE) held on a pre-existing table **that the migration scanned or rewrote** while holding it. Every `ALTER TABLE` takes ACCESS EXCLUSIVE, but a catalog-only change (adding a NULL column, dropping a column, dropping NOT NULL) is instant at any table size; such a lock is listed below without \"(scanned)\" and is not counted as blocking.",
    "- `rewrite`: the table's `relfilenode` changed.",
    "- `migration-fails`: PostgreSQL refuses a statement of the migration, so `migrate` raises (the error is quoted); the other claims of the case cannot be observed past it. A case whose `rollsafe.toml` lists `partitioned-tables` cannot show it: the harness creates that table as the migrations say, unpartitioned.",
    "- A bad case must show every claim of every rule named in its `# expect:` markers, unless the rule's `unobservable` text says why it cannot be seen on a small table. A good case must show none of them, and its migration must run.",
    "- A case that needs a newer Django (`db_default`, `GeneratedField`: Django 5.0) cannot be loaded by the harness's Django 4.2, and one whose `rollsafe.toml` sets `django-version` to 5.0 or later shows that release's behaviour: it is listed as not runnable, and a rule whose cases of one kind are all not runnable is listed below, without failing the run.",
    "",
    `Result: ${meta.summary}.`,
    "",
    "| Rule | Case | Expected | Old code after | New code | Locks on existing tables | Rewrite | Agreement |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  let previousRule = null;
  for (const { testCase, observation, verdict } of results) {
    const anchor = testCase.rule !== previousRule ? `<a id="${testCase.rule}"></a>` : "";
    previousRule = testCase.rule;
    // A migration that fails on empty tables too is quoted in the agreement column.
    const note = observation.migration_error_with_rows && !observation.migration_error
      ? ` (the migration fails on a table with rows: ${code(observation.migration_error_with_rows.replace(/^\w+Error: /, "").slice(0, 100))}; observed on empty tables)`
      : "";
    const rewritten = observation.rewritten ? (observation.rewritten.length ? `yes (${observation.rewritten.map(code).join(", ")})` : "no") : "—";
    lines.push(
      "| " +
        [
          `${anchor}${code(testCase.rule)}`,
          `${testCase.kind}/${testCase.name}`,
          describeExpected(testCase, observation, meta.rulesByName),
          observation.stage === "post" && !observation.old_after ? "retired (post-deploy)" : describeQueries(observation.old_after),
          observation.new_before
            ? `before: ${describeQueries(observation.new_before)}; after: ${describeQueries(observation.new_after)}`
            : describeQueries(observation.new_after),
          describeLocks(observation) + note,
          rewritten,
          describeAgreement(verdict),
        ]
          .map(cell)
          .join(" | ") +
        " |",
    );
  }
  if (meta.claimless.length) {
    lines.push(
      "",
      "Rules without a database claim are not run here: diagnostics about the migration files themselves, opt-in style checks, and hazards a small table cannot show (a refused statement, a rollback, lock queueing on a busy table; each rule's severityReason says how it was checked): " +
        meta.claimless.map(code).join(", ") +
        ".",
    );
  }
  if (meta.otherEngine?.length) {
    lines.push(
      "",
      "Cases written for another database (their `rollsafe.toml` sets `database`) are not run here; the MySQL facts they rely on are checked by hand with `verify/mysql_facts.py`, the SQLite ones by the tests: " +
        meta.otherEngine.map(code).join(", ") +
        ".",
    );
  }
  if (problems.length) {
    lines.push("", "## Rules without a verified case", "");
    for (const problem of problems) lines.push(`- ${code(problem.rule)}: ${problem.problem}`);
  }
  if (meta.notRunnable?.length) {
    lines.push(
      "",
      "## Rules not runnable on this Django",
      "",
      "Their fixtures use features newer than the harness's Django (from Debian); these pairs are listed, not counted as failures. They are verified once the harness runs a Django that has the feature.",
      "",
    );
    for (const pair of meta.notRunnable) lines.push(`- ${code(pair.rule)}: ${pair.problem}`);
  }
  lines.push("");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------

async function runAll(options) {
  const { rules, fixtures, source } = await loadRules(options.selftest);
  const rulesByName = new Map(rules.map((rule) => [rule.name, rule]));
  const { cases, problems, claimless, otherEngine } = collectCases(rules, fixtures, options.only);
  if (!options.selftest) for (const testCase of cases) testCase.configuredPartitioned = await configuredPartitionedTables(testCase.dir);
  const jobs = options.jobs ?? Math.max(2, Math.min(8, cpus().length));

  const cluster = await startCluster();
  const stopOnSignal = (signal) => {
    for (const child of running) child.kill("SIGTERM");
    cluster.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  const results = new Array(cases.length);
  try {
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const index = next++;
        const testCase = cases[index];
        let observation = await observeCase(cluster, testCase, `rollsafe_case_${index}`);
        if (observation.migration_error) {
          // E.g. AddField NOT NULL without a default: it cannot run on a table with rows at all.
          // That is a finding in itself; the claims are then observed on empty tables.
          const failedWithRows = observation.migration_error;
          observation = await observeCase(cluster, testCase, `rollsafe_case_${index}`, ["--no-rows"]);
          observation.migration_error_with_rows = failedWithRows;
        }
        const verdict = selfTestVerdict(rulesByName.get(testCase.rule), judge(testCase, observation, rulesByName));
        results[index] = { testCase, observation, verdict };
        const mark = { agree: "ok  ", unobservable: "ok  ", unsupported: "skip", fail: "FAIL", error: "ERR " }[verdict.status];
        const why = verdict.status === "agree" ? "" : `  ${verdict.reasons.join("; ")}`;
        process.stderr.write(`${mark} ${testCase.rule} ${testCase.kind}/${testCase.name}${why}\n`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, cases.length) }, worker));
  } finally {
    process.removeListener("SIGINT", stopOnSignal);
    process.removeListener("SIGTERM", stopOnSignal);
    await cluster.stop();
  }

  const bad = results.filter((r) => r.verdict.status === "fail" || r.verdict.status === "error");
  const notRunnable = [];
  // Each rule needs at least one bad and one good case that actually ran and agreed.
  for (const rule of new Set(cases.map((c) => c.rule))) {
    for (const kind of ["bad", "good"]) {
      const verified = results.some(
        (r) => r.testCase.rule === rule && r.testCase.kind === kind && ["agree", "unobservable"].includes(r.verdict.status),
      );
      const present = results.filter((r) => r.testCase.rule === rule && r.testCase.kind === kind);
      if (present.length === 0 || verified) continue;
      // Every case of this kind needs a newer Django than the harness has: reported, not a failure.
      if (present.every((r) => r.verdict.status === "unsupported")) {
        notRunnable.push({ rule, kind, problem: `no ${kind} case runnable on Django 4.2 (${present[0].verdict.reasons[0].split(";")[0]})` });
      } else {
        problems.push({ rule, kind, problem: `no ${kind} case verified` });
      }
    }
  }
  const first = results.find((r) => r.observation.postgres)?.observation;
  // Major versions only, so that a Debian point release does not make the committed report stale.
  const server = first ? `PostgreSQL ${Math.floor(first.postgres / 10000)}` : "PostgreSQL";
  const django = first ? `Django ${first.django.split(".").slice(0, 2).join(".")}` : "Django";
  const summary =
    `${results.length} cases of ${new Set(cases.map((c) => c.rule)).size} rules, ` +
    `${results.filter((r) => ["agree", "unobservable"].includes(r.verdict.status)).length} agree, ${bad.length} disagree or fail` +
    (results.some((r) => r.verdict.status === "unsupported")
      ? `, ${results.filter((r) => r.verdict.status === "unsupported").length} not runnable on Django 4.2`
      : "") +
    (problems.length ? `, ${problems.length} rule/kind pairs without a verified case` : "") +
    (notRunnable.length ? `, ${notRunnable.length} rule/kind pairs not runnable on Django 4.2` : "");
  const report = renderReport(results, problems, { server, django, source, summary, rulesByName, claimless, notRunnable, otherEngine });
  return { report, summary, failed: bad.length > 0 || problems.length > 0 };
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
    const { report, summary, failed } = await runAll(options);
    const out = options.out ?? (options.selftest ? join(HERE, "selftest", "verification.md") : join(ROOT, "docs", "verification.md"));
    let stale = false;
    if (options.check) {
      stale = !existsSync(out) || readFileSync(out, "utf8") !== report;
      if (stale) console.error(`verify: ${relative(process.cwd(), out)} is stale; run \`npm run verify\` and commit it`);
    } else if (!options.only || options.out) {
      writeFileSync(out, report);
      console.error(`verify: wrote ${relative(process.cwd(), out)}`);
    }
    console.error(`verify: ${summary}`);
    process.exitCode = failed || stale ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ClusterError) {
      console.error(`verify: ${error.message}`);
    } else {
      console.error(`verify: internal error: ${error?.stack ?? error}`);
    }
    process.exitCode = 2;
  }
}

await main();
