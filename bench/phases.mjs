/**
 * Where a cold run's time goes, from `rollsafe check --timings` (src/util/run-timings.ts): the
 * table it writes to stderr, read back, and the benchmark's section made of one such run per
 * corpus. The timed runs of the benchmark do not time themselves; this run is an extra one.
 */

/**
 * Reads the table `--timings` writes: the phases in order with their milliseconds (and details),
 * the total, the peak RSS, the slowest rules, and whether the result cache answered. Null when
 * there is none.
 *
 * @param {string} stderr
 */
export function parseTimings(stderr) {
  const lines = stderr.split("\n");
  const start = lines.findIndex((l) => /^Timings \(wall clock[^)]*\):$/.test(l));
  if (start < 0) return null;
  const phases = [];
  const rules = [];
  let total = null;
  let rulesTotal = null;
  let peakRssMb = null;
  let inRules = false;
  for (const line of lines.slice(start + 1)) {
    const heading = /^Slowest rules \(of (\d+), ([\d,.]+) ms in all\):$/.exec(line);
    if (heading) {
      inRules = true;
      rulesTotal = number(heading[2]);
      continue;
    }
    const peak = /^Peak memory \(RSS, every thread\): ([\d,]+) MB$/.exec(line);
    if (peak) {
      peakRssMb = number(peak[1]);
      continue;
    }
    const row = /^ {2}(\S.*?) {2,}([\d,.]+) ms(?: {2}(.*))?$/.exec(line);
    if (!row) {
      if (line.trim() !== "" && !line.startsWith("The ")) break;
      continue;
    }
    const [, label, ms, rest] = row;
    if (inRules) rules.push({ name: label, ms: number(ms), share: Number(/([\d.]+)%/.exec(rest ?? "")?.[1] ?? NaN) });
    else if (label === "total") total = number(ms);
    else phases.push({ label, ms: number(ms), detail: rest ?? "" });
  }
  return { phases, total, peakRssMb, rules, rulesTotal, answered: /nothing was analysed/.test(stderr) };
}

/** `1,234.5` -> 1234.5 */
function number(text) {
  return Number(String(text).replaceAll(",", ""));
}

/**
 * The section of RESULTS.md: one column per corpus, a row per phase (milliseconds and share of the
 * total), the parse phase against the limit, and the three slowest rules.
 *
 * @param {{ name: string, limitMs?: number, timings: ReturnType<typeof parseTimings> | null, error?: string }[]} corpora
 */
export function renderPhases(corpora) {
  const shown = corpora.filter((c) => c.timings && c.timings.total);
  if (shown.length === 0) return [];
  const lines = [
    "## Where the cold run's time goes",
    "",
    "One more cold run per corpus with `--timings` (not among the timed runs above; timing costs about 2%): the wall time of each phase and its share of the run. *read and parse* runs on the parse threads; the rest of the run is on the main thread. See docs/performance.md, *Where a run's time goes*, for what each phase counts.",
    "",
    `| phase | ${shown.map((c) => c.name).join(" | ")} |`,
    `| --- | ${shown.map(() => "---:").join(" | ")} |`,
  ];
  const labels = [];
  for (const c of shown) for (const p of c.timings.phases) if (!labels.includes(p.label)) labels.push(p.label);
  const cell = (ms, total) => (ms === undefined ? "–" : `${format(ms)} (${((100 * ms) / total).toFixed(0)}%)`);
  for (const label of labels) lines.push(`| ${label} | ${shown.map((c) => cell(c.timings.phases.find((p) => p.label === label)?.ms, c.timings.total)).join(" | ")} |`);
  lines.push(`| **total** | ${shown.map((c) => `**${format(c.timings.total)}**`).join(" | ")} |`);
  const parse = (c) => c.timings.phases.find((p) => p.label === "read and parse")?.ms;
  lines.push(`| read and parse ÷ the limit | ${shown.map((c) => (c.limitMs && parse(c) !== undefined ? `${(parse(c) / c.limitMs).toFixed(2)}×` : "–")).join(" | ")} |`);
  lines.push(`| slowest rules | ${shown.map((c) => c.timings.rules.slice(0, 3).map((r) => `${r.name} ${format(r.ms)}`).join("; ") || "–").join(" | ")} |`);
  for (const c of corpora.filter((x) => x.error)) lines.push("", `> **${c.name}:** the run with --timings failed: ${c.error}`);
  lines.push("");
  return lines;
}

function format(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
