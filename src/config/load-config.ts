/**
 * The configuration: `[tool.rollsafe]` in `pyproject.toml`, or the same keys at the top level of
 * `rollsafe.toml`. Found by walking up from the first checked path (or the working directory),
 * or named with `--config`. Every key is checked: an unknown key, a wrong type or an unknown
 * rule is a `ConfigError` naming the file and the key. `docs/configuration.md` documents them.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { DeployStage, Severity } from "../model/types.js";
import type { Database } from "../engine/rule-types.js";
import { isBuiltinOperationName, builtinParams, type OperationEntry } from "../model/third-party-operations.js";
import { ConfigError } from "./config-error.js";
import { childPath } from "../util/paths.js";

/** A rule setting: a rule's name (resolved from a code or a name), or `ALL`. */
export type RuleRef = string;

/** The checked configuration. Every field is optional: absent means "not configured". */
export interface RollsafeConfig {
  /** The file it was read from. */
  file: string;
  /** `tool.rollsafe` for pyproject.toml, empty for rollsafe.toml: the prefix of key names in errors. */
  keyPrefix: string;
  database?: Database;
  postgresVersion?: number;
  django?: [number, number];
  select?: RuleRef[];
  ignore?: RuleRef[];
  severity?: Record<string, Severity | "off">;
  exclude?: string[];
  excludeApps?: string[];
  startAfter?: Record<string, string>;
  defaultStage?: Exclude<DeployStage, "always">;
  requireSuppressionReason?: boolean;
  timeoutsSetByRunner?: boolean;
  partitionedTables?: string[];
  hotTables?: string[];
  largeTables?: string[];
  authUserModel?: string;
  failOn?: FailOn;
  operations?: Map<string, OperationEntry>;
  /**
   * Migration packages Django loads from elsewhere than `<app>/migrations` (`MIGRATION_MODULES`):
   * absolute directory -> app label.
   */
  migrationModules?: Map<string, string>;
}

/** When the exit code is 1: a finding at or above this level exists (`never`: only 2 on failures). */
export type FailOn = "error" | "warning" | "never";

export const DATABASES: readonly Database[] = ["postgresql", "mysql", "sqlite"];
const FAIL_ON: readonly FailOn[] = ["error", "warning", "never"];
/** A table name (`schema.table` allowed) or an `app_label.ModelName`. */
const TABLE_REF = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
const EFFECTS = ["same", "safe", "state-only", "database-only", "unsafe"] as const;

/** Finds a rule by code or name; returns its name. Injected so this module does not load the rules. */
export type RuleResolver = (codeOrName: string) => string | undefined;

/**
 * Walks up from `start` (a file or directory) to the filesystem root and returns the first
 * `rollsafe.toml`, or `pyproject.toml` that has a `[tool.rollsafe]` table. `rollsafe.toml` wins
 * within a directory.
 */
export function findConfigFile(start: string): string | null {
  let dir = path.resolve(start);
  try {
    if (!statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  for (;;) {
    const own = childPath(dir, "rollsafe.toml");
    if (isFile(own)) return own;
    const pyproject = childPath(dir, "pyproject.toml");
    if (isFile(pyproject) && /^\s*\[\s*tool\s*\.\s*rollsafe\s*[\].]/m.test(safeRead(pyproject))) return pyproject;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Reads and checks a configuration file. `shown` is the path as error messages print it. */
export function loadConfigFile(file: string, resolveRule: RuleResolver, shown = file): RollsafeConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${shown}: cannot read the configuration file (${code === "ENOENT" ? "it does not exist" : (code ?? (error as Error).message)})`, { file });
  }
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split("\n")[0]?.replace(/^Invalid TOML document:\s*/, "") ?? "invalid TOML";
      throw new ConfigError(`${shown}:${error.line}:${error.column}: invalid TOML: ${first}`, { file });
    }
    throw error;
  }
  const isPyproject = path.basename(file) === "pyproject.toml";
  if (isPyproject) {
    const tool = data.tool as Record<string, unknown> | undefined;
    const table = tool?.rollsafe;
    if (table === undefined) return { file, keyPrefix: "tool.rollsafe" };
    if (!isTable(table)) throw new ConfigError(`${shown}: \`tool.rollsafe\` must be a table`, { file, key: "tool.rollsafe" });
    return checkConfig(table, { file, shown, prefix: "tool.rollsafe", resolveRule });
  }
  return checkConfig(data, { file, shown, prefix: "", resolveRule });
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

interface CheckContext {
  file: string;
  shown: string;
  prefix: string;
  resolveRule: RuleResolver;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (isTable(value)) return "a table";
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (value instanceof Date) return "a date";
  return String(value);
}

/** Checks the keys of one `[tool.rollsafe]` table. */
export function checkConfig(table: Record<string, unknown>, ctx: CheckContext): RollsafeConfig {
  const config: RollsafeConfig = { file: ctx.file, keyPrefix: ctx.prefix };
  const keyName = (...parts: string[]) => [...(ctx.prefix ? ctx.prefix.split(".") : []), ...parts].map(quoteKey).join(".");
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(`${ctx.shown}: \`${key}\` ${problem}`, { file: ctx.file, key });
  };
  const str = (key: string, value: unknown): string => (typeof value === "string" ? value : fail(key, `must be a string, not ${describe(value)}`));
  const bool = (key: string, value: unknown): boolean => (typeof value === "boolean" ? value : fail(key, `must be true or false, not ${describe(value)}`));
  const strList = (key: string, value: unknown): string[] => {
    if (!Array.isArray(value)) return fail(key, `must be an array of strings, not ${describe(value)}`);
    return value.map((item) => (typeof item === "string" ? item : fail(key, `must be an array of strings; found ${describe(item)}`)));
  };
  const oneOf = <T extends string>(key: string, value: unknown, allowed: readonly T[]): T => {
    const text = str(key, value);
    return (allowed as readonly string[]).includes(text) ? (text as T) : fail(key, `must be one of ${allowed.join(", ")}, not ${describe(text)}`);
  };
  const rule = (key: string, value: string, allowAll: boolean): string => {
    if (allowAll && value.toUpperCase() === "ALL") return "ALL";
    return ctx.resolveRule(value) ?? fail(key, `names an unknown rule ${describe(value)} (\`rollsafe rules\` lists them)`);
  };

  for (const [rawKey, value] of Object.entries(table)) {
    const key = keyName(rawKey);
    switch (rawKey) {
      case "database":
        config.database = oneOf(key, value, DATABASES);
        break;
      case "postgres-version":
        config.postgresVersion = parsePostgresVersion(value) ?? fail(key, `must be a PostgreSQL major version such as 15 (10 or later), not ${describe(value)}`);
        break;
      case "django-version":
        if (typeof value === "number") fail(key, `must be a string such as "4.2" (a number loses digits: 5.10 reads as 5.1)`);
        config.django = parseDjangoVersion(str(key, value)) ?? fail(key, `must be a Django version such as "4.2", not ${describe(value)}`);
        break;
      case "select":
        config.select = strList(key, value).map((v) => rule(key, v, true));
        break;
      case "ignore":
        config.ignore = strList(key, value).map((v) => rule(key, v, false));
        break;
      case "severity": {
        if (!isTable(value)) fail(key, `must be a table of rule = "error" | "warning" | "off", not ${describe(value)}`);
        config.severity = {};
        for (const [name, level] of Object.entries(value as Record<string, unknown>)) {
          const sub = keyName(rawKey, name);
          config.severity[rule(sub, name, false)] = oneOf(sub, level, ["error", "warning", "off"] as const);
        }
        break;
      }
      case "exclude":
        config.exclude = strList(key, value);
        for (const glob of config.exclude) if (glob.trim() === "") fail(key, "must not contain an empty pattern");
        break;
      case "exclude-apps":
        config.excludeApps = strList(key, value);
        for (const app of config.excludeApps) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(app)) fail(key, `must list app labels; ${describe(app)} is not one`);
        break;
      case "start-after": {
        if (!isTable(value)) fail(key, `must be a table of app_label = "migration_name", not ${describe(value)}`);
        config.startAfter = {};
        for (const [app, name] of Object.entries(value as Record<string, unknown>)) {
          const sub = keyName(rawKey, app);
          const migration = str(sub, name).replace(/\.py$/, "");
          if (!/^[A-Za-z0-9_]+$/.test(migration)) fail(sub, `must be a migration name such as "0042_add_index", not ${describe(name)}`);
          config.startAfter[app] = migration;
        }
        break;
      }
      case "default-stage":
        config.defaultStage = oneOf(key, value, ["pre", "post"] as const);
        break;
      case "require-suppression-reason":
        config.requireSuppressionReason = bool(key, value);
        break;
      case "timeouts-set-by-runner":
        config.timeoutsSetByRunner = bool(key, value);
        break;
      case "partitioned-tables":
      case "hot-tables":
      case "large-tables": {
        const tables = strList(key, value);
        for (const table of tables) {
          if (!TABLE_REF.test(table)) fail(key, `must list table names or "app_label.ModelName" entries; ${describe(table)} is neither`);
        }
        if (rawKey === "partitioned-tables") config.partitionedTables = tables;
        else if (rawKey === "hot-tables") config.hotTables = tables;
        else config.largeTables = tables;
        break;
      }
      case "auth-user-model": {
        const model = str(key, value);
        if (!/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/.test(model)) fail(key, `must be "app_label.ModelName", like Django's AUTH_USER_MODEL, not ${describe(model)}`);
        config.authUserModel = model;
        break;
      }
      case "fail-on":
        config.failOn = oneOf(key, value, FAIL_ON);
        break;
      case "migration-modules": {
        if (!isTable(value)) fail(key, `must be a table of app_label = "package.module" (as in MIGRATION_MODULES) or "directory", not ${describe(value)}`);
        config.migrationModules = new Map();
        for (const [label, where] of Object.entries(value as Record<string, unknown>)) {
          const sub = keyName(rawKey, label);
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label)) fail(sub, "must be keyed by an app label");
          const text = str(sub, where).trim();
          // A dotted module as MIGRATION_MODULES names it, or a directory relative to this file.
          const relative = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(text) ? text.split(".").join(path.sep) : text;
          if (relative === "") fail(sub, "must name a package or a directory");
          const dir = path.resolve(path.dirname(ctx.file), relative);
          if (!isDirectory(dir)) fail(sub, `names ${describe(text)}, but there is no directory \`${path.relative(path.dirname(ctx.file), dir) || "."}\` beside ${path.basename(ctx.file)}`);
          config.migrationModules.set(dir, label);
        }
        break;
      }
      case "operations": {
        if (!isTable(value)) fail(key, `must be a table of "module.ClassName" = { effect = ..., same-as = ... }, not ${describe(value)}`);
        config.operations = new Map();
        for (const [name, spec] of Object.entries(value as Record<string, unknown>)) {
          const sub = keyName(rawKey, name);
          if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) fail(sub, "must be a dotted class path such as \"myapp.operations.SafeRemoveField\" (or a bare class name)");
          config.operations.set(name, checkOperation(sub, spec, fail));
        }
        break;
      }
      default:
        // `[tool.rollsafe]` copied from pyproject.toml's example into rollsafe.toml (ephios sweep).
        if (rawKey === "tool" && ctx.prefix === "" && isTable(value) && isTable((value as Record<string, unknown>).rollsafe)) {
          fail(key, "is not a rollsafe setting: in rollsafe.toml the settings are at the top level, without pyproject.toml's `[tool.rollsafe]` header (see docs/configuration.md)");
        }
        fail(key, `is not a rollsafe setting (see docs/configuration.md)`);
    }
  }
  if (config.select && config.ignore) {
    const both = config.select.find((r) => config.ignore?.includes(r));
    if (both) fail(keyName("ignore"), `and \`${keyName("select")}\` both name \`${both}\``);
  }
  return config;
}

function quoteKey(part: string): string {
  return /^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part);
}

function checkOperation(key: string, spec: unknown, fail: (key: string, problem: string) => never): OperationEntry {
  if (!isTable(spec)) return fail(key, `must be a table such as { effect = "state-only", same-as = "RemoveField" }, not ${describe(spec)}`);
  let effect: (typeof EFFECTS)[number] | undefined;
  let sameAs: string | null = null;
  let params: string[] | undefined;
  let note: string | undefined;
  for (const [field, value] of Object.entries(spec)) {
    const sub = `${key}.${field}`;
    switch (field) {
      case "effect":
        if (typeof value !== "string" || !(EFFECTS as readonly string[]).includes(value)) fail(sub, `must be one of ${EFFECTS.join(", ")}, not ${describe(value)}`);
        effect = value as (typeof EFFECTS)[number];
        break;
      case "same-as":
        if (typeof value !== "string" || !isBuiltinOperationName(value)) fail(sub, `must name a built-in operation such as "AddIndexConcurrently" or "RemoveField", not ${describe(value)}`);
        sameAs = value as string;
        break;
      case "params":
        if (!Array.isArray(value) || value.some((p) => typeof p !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) fail(sub, "must be an array of parameter names");
        params = value as string[];
        break;
      case "note":
        if (typeof value !== "string") fail(sub, `must be a string, not ${describe(value)}`);
        note = value as string;
        break;
      default:
        fail(sub, "is not an operation setting (effect, same-as, params, note)");
    }
  }
  const resolved = effect ?? (sameAs ? "same" : undefined);
  if (!resolved) return fail(`${key}.effect`, `is missing: say what the operation does (${EFFECTS.join(", ")})`);
  if ((resolved === "same" || resolved === "state-only" || resolved === "database-only") && !sameAs) {
    return fail(`${key}.same-as`, `is missing: effect "${resolved}" needs the built-in operation it behaves like`);
  }
  const entry: OperationEntry = {
    source: "config",
    sameAs: resolved === "unsafe" ? null : sameAs,
    state: resolved === "database-only" || (resolved === "safe" && !sameAs) ? "none" : "same",
    database: resolved === "state-only" ? "none" : resolved === "safe" ? "safe" : "same",
    note: note ?? DEFAULT_NOTES[resolved],
  };
  if (params) entry.params = params;
  else if (sameAs) entry.params = builtinParams(sameAs);
  if (resolved === "unsafe") entry.unsafe = true;
  return entry;
}

const DEFAULT_NOTES: Record<(typeof EFFECTS)[number], string> = {
  same: "behaves like the built-in operation (declared in the configuration)",
  safe: "is declared safe in the configuration",
  "state-only": "changes Django's state only (declared in the configuration)",
  "database-only": "changes the database only (declared in the configuration)",
  unsafe: "is declared unsafe in the configuration",
};

/** `15`, `"15"`, `"15.4"` -> 15; PostgreSQL 10 and later number majors with one component. */
export function parsePostgresVersion(value: unknown): number | null {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : null;
  if (text === null) return null;
  const match = /^(\d+)(?:\.\d+)?$/.exec(text);
  if (!match) return null;
  const major = Number(match[1]);
  return major >= 10 && major <= 99 ? major : null;
}

/** `"4.2"`, `"5.0.3"` -> [4, 2]; null for anything else. */
export function parseDjangoVersion(text: string): [number, number] | null {
  const match = /^\s*(\d+)\.(\d+)(?:\.\d+)?\s*$/.exec(text);
  if (!match) return null;
  const version: [number, number] = [Number(match[1]), Number(match[2])];
  return version[0] >= 1 && version[0] <= 9 ? version : null;
}
