/**
 * The JUnit XML reporter, for CI systems that show test reports (GitLab, Jenkins, Azure...).
 * One `<testsuite>` per file and one failing `<testcase>` per finding; a clean run yields one
 * passing test case so the report is never empty.
 */

import type { Diagnostic, LintResult } from "../model/types.js";
import { regionOf } from "./diagnostic-region.js";
import { sanitizeText } from "./sanitize-text.js";
import { listIn } from "../util/collections.js";

/** Renders a lint result as a JUnit XML document. */
export function renderJunit(result: LintResult): string {
  return [...renderJunitChunks(result)].join("");
}

/** The same document as `renderJunit`, one test suite (a file's findings) at a time. */
export function* renderJunitChunks(result: LintResult): Generator<string> {
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of result.diagnostics) listIn(byFile, d.file).push(d);
  const lines = (list: string[]) => list.map((line) => `${line}\n`).join("");

  const total = Math.max(1, result.diagnostics.length);
  yield lines([
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rollsafe" tests="${total}" failures="${result.diagnostics.length}" errors="0">`,
  ]);
  if (byFile.size === 0) {
    yield lines([
      '  <testsuite name="rollsafe" tests="1" failures="0" errors="0" skipped="0">',
      `    <testcase name="${attr(`${result.summary.migrations} migrations checked, no findings`)}" classname="rollsafe"/>`,
      "  </testsuite>",
    ]);
  }
  for (const [file, diagnostics] of byFile) {
    yield lines([`  <testsuite name="${attr(file)}" tests="${diagnostics.length}" failures="${diagnostics.length}" errors="0" skipped="0">`]);
    for (const d of diagnostics) yield lines(testcase(d));
    yield lines(["  </testsuite>"]);
  }
  yield lines(["</testsuites>"]);
}

function testcase(d: Diagnostic): string[] {
  const { line, column } = regionOf(d);
  const heading = `${d.file}:${line}:${column}: ${d.severity} ${d.code} ${d.rule}: ${d.message}`;
  const body = d.help.length > 0 ? `${heading}\n\n${d.help.join("\n")}` : heading;
  return [
    `    <testcase name="${attr(`${d.code} ${d.rule} at line ${line}, column ${column}`)}" classname="${attr(d.file)}" file="${attr(d.file)}" line="${line}">`,
    `      <failure message="${attr(d.message)}" type="${attr(`${d.code} ${d.rule}`)}">${text(body)}</failure>`,
    "    </testcase>",
  ];
}

/**
 * Characters XML 1.0 forbids (§2.2 Char): C0 controls other than TAB, LF, CR; lone surrogate
 * halves; U+FFFE and U+FFFF. No escape can carry them, so they are removed.
 */
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function xmlChars(value: string): string {
  return sanitizeText(value).replace(NOT_XML_CHAR, "");
}

function text(value: string): string {
  return xmlChars(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An attribute value; newlines and tabs as character references, since parsers turn literal ones into spaces. */
function attr(value: string): string {
  return text(value)
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\n/g, "&#10;")
    .replace(/\t/g, "&#9;");
}
