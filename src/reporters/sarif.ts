/**
 * The SARIF 2.1.0 reporter, for GitHub code scanning and other SARIF viewers.
 *
 * Rule metadata comes from each rule's docs; results point at relative, URI-encoded paths
 * under `%SRCROOT%` (the checkout), with 1-based regions whose columns count UTF-16 code units
 * (declared through `columnKind`).
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Diagnostic, Fix, LintResult, RuleMeta, Severity } from "../model/types.js";
import { regionOf } from "./diagnostic-region.js";
import { ROLLSAFE_HOMEPAGE, ruleHelpUri } from "./rule-links.js";
import { jsonArrayChunks, mapItems } from "./json-chunks.js";
import { sanitizeText } from "./sanitize-text.js";
import { listIn } from "../util/collections.js";
import { leavesBase } from "../util/paths.js";

/** The schema URI GitHub code scanning and the SARIF validator expect in `$schema`. */
export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

/** Options of {@link renderSarif}. */
export interface SarifOptions {
  /** `tool.driver.version`; read from rollsafe's package.json when absent. */
  toolVersion?: string;
}

/** The base id every artifact URI is relative to: the directory rollsafe ran in. */
const SRCROOT = "%SRCROOT%";

/** Key of rollsafe's own partial fingerprint; bump the suffix if its recipe ever changes. */
const FINGERPRINT_KEY = "rollsafe/v1";

/** Renders a lint result as a SARIF 2.1.0 log with one run. */
export function renderSarif(result: LintResult, options: SarifOptions = {}): string {
  return [...renderSarifChunks(result, options)].join("");
}

/** Stands in for the results in the log's skeleton; it cannot occur in a rendered string. */
const RESULTS_SLOT = "\u0000rollsafe-results\u0000";

/**
 * The same log as `renderSarif`, byte for byte, one result at a time: a large run's log
 * (100 MB at 20,000 migrations) is written out as it is rendered.
 */
export function* renderSarifChunks(result: LintResult, options: SarifOptions = {}): Generator<string> {
  const rules = ruleDescriptors(result);
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  const fingerprints = new Fingerprints();
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "rollsafe",
            version: options.toolVersion ?? rollsafeVersion(),
            informationUri: ROLLSAFE_HOMEPAGE,
            rules,
          },
        },
        columnKind: "utf16CodeUnits",
        results: RESULTS_SLOT,
      },
    ],
  };
  const skeleton = jsonSafeForHtml(JSON.stringify(log, null, 2));
  const slot = JSON.stringify(RESULTS_SLOT);
  const at = skeleton.indexOf(slot);
  yield skeleton.slice(0, at);
  // `results` is a member of the run, three levels deep.
  const results = mapItems(result.diagnostics, (d: Diagnostic) => sarifResult(d, index.get(d.code)!, fingerprints, result.cwd));
  for (const piece of jsonArrayChunks(results, 3, 1)) yield jsonSafeForHtml(piece);
  yield `${skeleton.slice(at + slot.length)}\n`;
}

interface ReportingDescriptor {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription?: { text: string };
  help?: { text: string; markdown: string };
  helpUri?: string;
  defaultConfiguration: { level: Severity };
}

/**
 * One descriptor per rule that ran, then a synthetic one for each code that has no rule
 * (parse errors, I/O and internal errors), so every result can carry a valid `ruleIndex`.
 */
function ruleDescriptors(result: LintResult): ReportingDescriptor[] {
  const descriptors = result.rules.map(describeRule);
  const known = new Set(descriptors.map((d) => d.id));
  for (const d of result.diagnostics) {
    if (known.has(d.code)) continue;
    known.add(d.code);
    descriptors.push({
      id: d.code,
      name: d.rule,
      shortDescription: { text: `rollsafe reported ${sanitizeText(d.rule).replace(/-/g, " ")}.` },
      defaultConfiguration: { level: d.severity },
    });
  }
  return descriptors;
}

function describeRule(rule: RuleMeta): ReportingDescriptor {
  const { docs } = rule;
  const why = sanitizeText(docs.why);
  const steps = docs.recipe.map((step, i) => `${i + 1}. ${sanitizeText(step)}`);
  return {
    id: rule.code,
    name: rule.name,
    shortDescription: { text: sanitizeText(docs.summary) },
    fullDescription: { text: sanitizeText(docs.what) },
    help: {
      text: [why, "Safe recipe:", ...steps].join("\n"),
      markdown: [why, "", "**Safe recipe:**", "", ...steps].join("\n"),
    },
    helpUri: ruleHelpUri(rule.name),
    defaultConfiguration: { level: rule.severity },
  };
}

function sarifResult(d: Diagnostic, ruleIndex: number, fingerprints: Fingerprints, cwd: string): object {
  const region = regionOf(d);
  const text = d.help.length > 0 ? `${d.message}\n\n${d.help.join("\n")}` : d.message;
  return {
    ruleId: d.code,
    ruleIndex,
    level: d.severity,
    message: { text: sanitizeText(text) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: artifactLocation(d.file),
          region: {
            startLine: region.line,
            startColumn: region.column,
            endLine: region.endLine,
            endColumn: region.endColumn,
          },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprints.next(d) },
    ...(d.related && d.related.length > 0
      ? {
          relatedLocations: d.related.map((related, i) => ({
            id: i + 1,
            physicalLocation: {
              artifactLocation: artifactLocation(related.file),
              region: { startLine: Math.max(1, related.line), startColumn: Math.max(1, related.column) },
            },
            message: { text: sanitizeText(related.message) },
          })),
        }
      : {}),
    ...(d.fix ? { fixes: [sarifFix(d.fix, cwd)] } : {}),
    ...(d.migration ? { properties: { migration: d.migration } } : {}),
  };
}

/**
 * A fix as SARIF artifact changes. Edit offsets index the decoded source, i.e. UTF-16 code
 * units, which is what `charOffset` counts under `columnKind: utf16CodeUnits`; a new file is
 * an insertion at offset 0.
 */
function sarifFix(fix: Fix, cwd: string): object {
  const changes = new Map<string, object[]>();
  const add = (file: string, replacement: object) => listIn(changes, relativeToCwd(file, cwd)).push(replacement);
  for (const edit of fix.edits) {
    add(edit.file, {
      deletedRegion: { charOffset: edit.startOffset, charLength: Math.max(0, edit.endOffset - edit.startOffset) },
      insertedContent: { text: edit.text },
    });
  }
  for (const created of fix.newFiles ?? []) {
    add(created.file, { deletedRegion: { charOffset: 0, charLength: 0 }, insertedContent: { text: created.content } });
  }
  return {
    description: { text: sanitizeText(fix.title) },
    artifactChanges: [...changes].map(([file, replacements]) => ({ artifactLocation: artifactLocation(file), replacements })),
    properties: { applicability: fix.applicability },
  };
}

function artifactLocation(file: string): { uri: string; uriBaseId: string } {
  return { uri: encodePathAsUri(file), uriBaseId: SRCROOT };
}

/**
 * A relative path as a URI reference (RFC 3986): each segment percent-encoded, so spaces,
 * non-ASCII letters, `#`, `?`, `%` and a `:` in the first segment (which would read as a
 * scheme) cannot change what the URI means.
 */
export function encodePathAsUri(file: string): string {
  return file.split("/").map(encodeURIComponent).join("/");
}

function relativeToCwd(file: string, cwd: string): string {
  const relative = path.isAbsolute(file) ? path.relative(cwd, file) : file;
  // Outside the working directory: the absolute path, as every other report shows it, never `../`.
  if (leavesBase(relative)) return file.split(path.sep).join("/");
  return relative.split(path.sep).join("/");
}

/**
 * Stable result identities for code scanning: a hash of rule, file and message (not the line,
 * so a finding keeps its identity when lines above it move), plus an ordinal that tells apart
 * identical findings in one file.
 */
class Fingerprints {
  private readonly seen = new Map<string, number>();

  next(d: Diagnostic): string {
    const hash = createHash("sha256").update(`${d.code}\0${d.file}\0${d.message}`).digest("hex").slice(0, 32);
    const ordinal = (this.seen.get(hash) ?? 0) + 1;
    this.seen.set(hash, ordinal);
    return `${hash}:${ordinal}`;
  }
}

/**
 * JSON that stays inert when a viewer pastes it into HTML or a script: `<`, `>`, `&` and the
 * JavaScript line terminators U+2028/U+2029 are written as `\u` escapes. They only occur
 * inside strings, so the JSON value is unchanged.
 */
function jsonSafeForHtml(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

let cachedVersion: string | undefined;

/** rollsafe's version, from the nearest package.json named `rollsafe` above this module (works from src/ and dist/). */
export function rollsafeVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "rollsafe" && typeof pkg.version === "string") return (cachedVersion = pkg.version);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return (cachedVersion = "0.0.0");
    dir = parent;
  }
}
