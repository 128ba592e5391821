/**
 * Static detection of the project's Django version, for advice that only suggests what that
 * version has (`db_default` from 5.0, `AddConstraintNotValid` from 4.0, ...).
 *
 * Declared constraints come first, and a constraint pins to its LOWEST allowed version: the
 * advice must be valid for every Django the project allows. Lock files (the version actually
 * installed) are used only when nothing declares a constraint. Sources, in order, in the first
 * directory (walking up from the checked path to the project root) that has any of them:
 * `pyproject.toml` (PEP 621 `project.dependencies`, Poetry `tool.poetry.dependencies`),
 * `setup.cfg` (`options.install_requires`), `requirements*.txt`, `requirements/*.txt`, then
 * `poetry.lock`, `uv.lock`, `Pipfile.lock`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { childPath } from "../util/paths.js";

/** A detected version and where it came from. */
export interface DjangoVersionSource {
  version: [number, number];
  /** Absolute path of the file. */
  file: string;
  /** The requirement as written, e.g. `Django>=4.2,<5`. */
  requirement: string;
}

type Version = [number, number];

function parseVersion(text: string): Version | null {
  const match = /^\s*v?(\d+)(?:\.(\d+|\*))?/.exec(text);
  if (!match) return null;
  const minor = match[2] === undefined || match[2] === "*" ? 0 : Number(match[2]);
  return [Number(match[1]), minor];
}

function maxVersion(a: Version | null, b: Version | null): Version | null {
  if (!a) return b;
  if (!b) return a;
  return a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? a : b;
}

function minVersion(a: Version | null, b: Version | null): Version | null {
  if (!a) return b;
  if (!b) return a;
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? a : b;
}

/**
 * The lowest version a PEP 440 specifier set allows (`>=4.2,<5`, `==4.2.7`, `~=5.0`), as
 * [major, minor]; null when it has no lower bound (`<5`, `!=4.0`, empty).
 */
export function lowestPep440(specifiers: string): Version | null {
  let lowest: Version | null = null;
  for (const raw of specifiers.split(",")) {
    const match = /^\s*(===|==|~=|>=|>|<=|<|!=)\s*([^\s]+)\s*$/.exec(raw);
    if (!match) continue;
    const [, op, text] = match;
    if (op === "==" || op === "===" || op === "~=" || op === ">=" || op === ">") {
      lowest = maxVersion(lowest, parseVersion(text as string));
    }
  }
  return lowest;
}

/** The lowest version a Poetry constraint allows (`^4.2`, `~4.2`, `4.2.*`, `>=4.2,<5.0`, `4.2`). */
export function lowestPoetry(constraint: string): Version | null {
  let lowest: Version | null = null;
  // `||` alternatives: the lowest of their lower bounds.
  const alternatives = constraint.split("||").map((alt) => {
    let bound: Version | null = null;
    for (const part of alt.split(/,|\s+(?=[<>=!~^\d])/)) {
      const text = part.trim();
      if (!text || text === "*") continue;
      const match = /^(\^|~=|~|==|=|>=|>|<=|<|!=)?\s*(.+)$/.exec(text);
      if (!match) continue;
      const op = match[1] ?? "==";
      if (op === "<" || op === "<=" || op === "!=") continue;
      bound = maxVersion(bound, parseVersion(match[2] as string));
    }
    return bound;
  });
  for (const alt of alternatives) {
    if (!alt) return null;
    lowest = minVersion(lowest, alt);
  }
  return lowest;
}

/** A PEP 508 requirement line for Django: its specifiers, or null when it is about another package. */
export function djangoSpecifiers(requirement: string): string | null {
  // Drop comments, environment markers, per-requirement pip options (`--hash=...`) and `\` continuations.
  const line = requirement.replace(/(^|\s)#.*$/, "").split(";")[0]?.replace(/\s--?[a-z][\w-]*(=\S*)?.*$/i, "").replace(/\\\s*$/, "").trim() ?? "";
  const match = /^django(?:\s*\[[^\]]*\])?\s*(\(?)([^()]*)\)?\s*$/i.exec(line);
  if (!match) return null;
  const rest = (match[2] ?? "").trim();
  // `django-filter`, `djangorestframework`: another package.
  if (rest !== "" && !/^(===|==|~=|>=|>|<=|<|!=)/.test(rest)) return null;
  return rest;
}

function readText(file: string): string | null {
  try {
    // Most files looked for are absent: no exception for those (it costs more than the stat).
    return statSync(file, { throwIfNoEntry: false })?.isFile() ? readFileSync(file, "utf8") : null;
  } catch {
    return null;
  }
}

function fromRequirementLines(file: string, lines: string[]): DjangoVersionSource | null {
  for (const line of lines) {
    const specs = djangoSpecifiers(line);
    if (specs === null) continue;
    const version = lowestPep440(specs);
    if (version) return { version, file, requirement: `${line.trim().split(/[\s;=~<>!(\[]/)[0]}${specs}` };
  }
  return null;
}

function fromPyproject(file: string): DjangoVersionSource | null {
  const text = readText(file);
  if (text === null) return null;
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const project = data.project as { dependencies?: unknown } | undefined;
  if (Array.isArray(project?.dependencies)) {
    const found = fromRequirementLines(file, project.dependencies.filter((d): d is string => typeof d === "string"));
    if (found) return found;
  }
  const poetry = (data.tool as { poetry?: { dependencies?: Record<string, unknown> } } | undefined)?.poetry?.dependencies;
  if (poetry) {
    for (const [name, value] of Object.entries(poetry)) {
      if (name.toLowerCase() !== "django") continue;
      const constraint = typeof value === "string" ? value : typeof (value as { version?: unknown })?.version === "string" ? (value as { version: string }).version : null;
      if (constraint === null) continue;
      const version = lowestPoetry(constraint);
      if (version) return { version, file, requirement: `django = "${constraint}"` };
    }
  }
  return null;
}

function fromSetupCfg(file: string): DjangoVersionSource | null {
  const text = readText(file);
  if (text === null) return null;
  const lines = text.split(/\r?\n/);
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const header = /^\s*\[([^\]]+)\]/.exec(line);
    if (header) {
      section = (header[1] as string).trim();
      continue;
    }
    const key = /^install_requires\s*[=:]\s*(.*)$/.exec(line);
    if (section !== "options" || !key) continue;
    const values = [key[1] as string];
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1] as string)) values.push((lines[++i] as string).trim());
    return fromRequirementLines(file, values.flatMap((v) => v.split(";").length > 1 ? [v] : v.split(/\s*,\s*(?=[A-Za-z])/)));
  }
  return null;
}

function fromRequirementsFiles(dir: string, names: readonly string[]): DjangoVersionSource | null {
  const files = names.filter((n) => /^requirements.*\.(txt|in)$/i.test(n)).map((n) => childPath(dir, n));
  const subdirectory = childPath(dir, "requirements");
  if (names.includes("requirements")) files.push(...listing(subdirectory).filter((n) => /\.(txt|in)$/i.test(n)).map((n) => childPath(subdirectory, n)));
  // Several files (base, prod, dev): advice must hold for the lowest version any of them allows.
  let best: DjangoVersionSource | null = null;
  for (const file of files) {
    const text = readText(file);
    if (text === null) continue;
    const found = fromRequirementLines(file, text.split(/\r?\n/));
    if (found && (!best || minVersion(best.version, found.version) === found.version)) best = found;
  }
  return best;
}

function fromLockPackages(file: string): DjangoVersionSource | null {
  const text = readText(file);
  if (text === null) return null;
  let data: { package?: { name?: unknown; version?: unknown }[] };
  try {
    data = parseToml(text) as typeof data;
  } catch {
    return null;
  }
  for (const pkg of data.package ?? []) {
    if (typeof pkg.name === "string" && pkg.name.toLowerCase() === "django" && typeof pkg.version === "string") {
      const version = parseVersion(pkg.version);
      if (version) return { version, file, requirement: `django ${pkg.version}` };
    }
  }
  return null;
}

function fromPipfileLock(file: string): DjangoVersionSource | null {
  const text = readText(file);
  if (text === null) return null;
  try {
    const data = JSON.parse(text) as { default?: Record<string, { version?: string }> };
    for (const [name, entry] of Object.entries(data.default ?? {})) {
      if (name.toLowerCase() !== "django" || typeof entry.version !== "string") continue;
      const version = lowestPep440(entry.version);
      if (version) return { version, file, requirement: `django ${entry.version}` };
    }
  } catch {
    return null;
  }
  return null;
}

/** A directory's entry names, sorted; none when it cannot be read. */
function listing(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * Looks for Django in one directory's dependency files. The directory is listed once and only
 * the files it holds are read: walking up from a deep path, most directories hold none of them
 * (a stat of each of the six names at each level was most of a warm run's settings time).
 */
export function detectDjangoVersionIn(dir: string, names: readonly string[] = listing(dir)): DjangoVersionSource | null {
  const has = (name: string) => names.includes(name);
  const file = (name: string) => childPath(dir, name);
  return (
    (has("pyproject.toml") ? fromPyproject(file("pyproject.toml")) : null) ??
    (has("setup.cfg") ? fromSetupCfg(file("setup.cfg")) : null) ??
    fromRequirementsFiles(dir, names) ??
    (has("poetry.lock") ? fromLockPackages(file("poetry.lock")) : null) ??
    (has("uv.lock") ? fromLockPackages(file("uv.lock")) : null) ??
    (has("Pipfile.lock") ? fromPipfileLock(file("Pipfile.lock")) : null)
  );
}

/**
 * Walks up from `startDir` and returns the first Django requirement found. The walk stops after
 * `rootDir` (the configuration's directory) when given, else at a repository root (`.git`).
 */
export function detectDjangoVersion(startDir: string, rootDir: string | null): DjangoVersionSource | null {
  let dir = path.resolve(startDir);
  const root = rootDir ? path.resolve(rootDir) : null;
  for (;;) {
    const names = listing(dir);
    const found = detectDjangoVersionIn(dir, names);
    if (found) return found;
    if (dir === root || (!root && names.includes(".git"))) return null;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    // Past the configuration's directory means the start was outside it: stop at the top.
    dir = parent;
  }
}
