/**
 * Where a run's time went (`rollsafe check --timings`): the wall time of each phase, and the
 * time of each rule, written to stderr after the report. It is there for a user whose run is
 * slow to see why (the project, a rule, the machine) and for the benchmark's phase table; it
 * never changes what a run finds. Time a rule spends on work the engine shares between rules
 * (a table's locks, a RunSQL's statements) counts for the first rule that asks.
 */

import type { LoadCounts as FileCounts } from "../workers/load-migrations.js";

/** The phases of a run, in the order they happen and are printed. */
const PHASES = ["options", "discover", "load", "prepare", "replay", "rules", "finish", "report"] as const;
type Phase = (typeof PHASES)[number];

const LABELS: Record<Phase, string> = {
  options: "settings and result cache",
  discover: "find apps and migration files",
  load: "read and parse",
  prepare: "graph and project modules",
  replay: "replay: model state",
  rules: "replay: rules",
  finish: "sort findings, release plan",
  report: "write the report and the result cache",
};

/** How the files of a run were loaded (`read and parse`'s details): `loadMigrations`' counts, with every file and those that could not be read or decoded. */
interface LoadCounts extends FileCounts {
  files: number;
  failed: number;
}

/** The rules printed, slowest first. */
const RULES_SHOWN = 10;

export class RunTimings {
  private readonly phases = new Map<Phase, number>();
  private readonly rules = new Map<string, number>();
  private load: LoadCounts | null = null;
  private analyses = 0;
  /** How the report was made when no analysis ran (the result cache answered). */
  private answeredBy: string | null = null;

  /**
   * @param startedAt when the command started (`performance.now()`, which counts from the
   *   process's start): what came before is node's start-up and loading rollsafe.
   */
  constructor(
    private readonly startedAt: number,
    private readonly now: () => number = () => performance.now(),
    /** The process's peak resident memory so far, in KiB. */
    private readonly peakRssKb: () => number = () => process.resourceUsage().maxRSS,
  ) {}

  /**
   * Adds the time since `since` (a `clock()` reading) to a phase, less `counted` (time inside it
   * that another phase has counted); returns the time now.
   */
  lap(phase: Phase, since: number, counted = 0): number {
    const at = this.now();
    this.add(phase, at - since - counted);
    return at;
  }

  /** The time counted so far for a phase. */
  spent(phase: Phase): number {
    return this.phases.get(phase) ?? 0;
  }

  /** Adds `ms` to a phase. */
  add(phase: Phase, ms: number): void {
    this.phases.set(phase, (this.phases.get(phase) ?? 0) + ms);
  }

  /** Adds one call's time to a rule, and to the rules' phase. */
  rule(name: string, ms: number): void {
    this.rules.set(name, (this.rules.get(name) ?? 0) + ms);
    this.add("rules", ms);
  }

  /** Counts one analysis (`--fix` may run several) and how its files were loaded. */
  loaded(counts: LoadCounts): void {
    this.analyses++;
    const before = this.load;
    this.load = before
      ? { files: before.files + counts.files, parsed: before.parsed + counts.parsed, cached: before.cached + counts.cached, failed: before.failed + counts.failed, threads: Math.max(before.threads, counts.threads) }
      : counts;
  }

  /** Notes that no analysis ran: the report came from the result cache. */
  answered(how: string): void {
    this.answeredBy = how;
  }

  /** `clock()` reading now. */
  clock(): number {
    return this.now();
  }

  /** The table written to stderr, lines ending in a newline. */
  render(): string {
    const total = this.now();
    const rows: [string, number, string][] = [["node start-up, loading rollsafe", this.startedAt, ""]];
    for (const phase of PHASES) {
      const value = this.phases.get(phase);
      if (value === undefined) continue;
      rows.push([LABELS[phase], value, phase === "load" && this.load ? loadDetails(this.load) : ""]);
    }
    const counted = rows.reduce((sum, [, value]) => sum + value, 0);
    // Time between the phases: mostly the garbage collector's and the event loop's.
    if (total - counted >= 0.5) rows.push(["other", total - counted, ""]);
    const width = Math.max(...rows.map(([label]) => label.length), "total".length);
    const numbers = Math.max(...rows.map(([, value]) => ms(value).length), ms(total).length);
    const line = (label: string, value: number, detail: string) => `  ${label.padEnd(width)}  ${ms(value).padStart(numbers)}${detail ? `  ${detail}` : ""}\n`;
    const runs = this.analyses > 1 ? `, ${this.analyses} analyses` : "";
    let out = `Timings (wall clock${runs}):\n`;
    for (const [label, value, detail] of rows) out += line(label, value, detail);
    out += line("total", total, "");
    out += `Peak memory (RSS, every thread): ${Math.round(this.peakRssKb() / 1024).toLocaleString("en-US")} MB\n`;
    if (this.answeredBy) out += `The ${this.answeredBy}: nothing was analysed. Add --no-cache to time an analysis.\n`;
    const rules = [...this.rules].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const ruleTotal = this.phases.get("rules") ?? 0;
    // Rules that took no time to speak of (a run over no migration) make no table.
    if (rules.length > 0 && ruleTotal >= 0.05) {
      const shown = rules.slice(0, RULES_SHOWN);
      const nameWidth = Math.max(...shown.map(([name]) => name.length));
      const ruleNumbers = Math.max(...shown.map(([, value]) => ms(value).length));
      out += `Slowest rules (of ${rules.length}, ${ms(ruleTotal)} in all):\n`;
      for (const [name, value] of shown) out += `  ${name.padEnd(nameWidth)}  ${ms(value).padStart(ruleNumbers)}  ${((100 * value) / ruleTotal).toFixed(1).padStart(5)}%\n`;
    }
    return out;
  }
}

/** `1,234 ms`, with a tenth under 10 ms (`0.4 ms`): a rule's share of a small run is often under one. */
function ms(value: number): string {
  return value < 9.95 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString("en-US")} ms`;
}

function loadDetails(counts: LoadCounts): string {
  const parts = [`${counts.files.toLocaleString("en-US")} file${counts.files === 1 ? "" : "s"}`];
  if (counts.parsed > 0) parts.push(`${counts.parsed.toLocaleString("en-US")} parsed${counts.threads > 1 ? ` on ${counts.threads} threads` : ""}`);
  if (counts.cached > 0) parts.push(`${counts.cached.toLocaleString("en-US")} from the parse cache`);
  if (counts.failed > 0) parts.push(`${counts.failed.toLocaleString("en-US")} unreadable`);
  return `(${parts.join(", ")})`;
}
