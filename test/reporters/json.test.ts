/**
 * The JSON report is written a finding at a time (`renderJsonChunks`); the pieces must add up
 * to exactly `JSON.stringify(document, null, 2)`, the shape tools parse.
 */
import { describe, expect, it } from "vitest";

import { diagnosticJson, renderJson, renderJsonChunks } from "../../src/reporters/json.js";
import { jsonChunks } from "../../src/reporters/json-chunks.js";
import { renderText, renderTextChunks } from "../../src/reporters/text.js";
import type { LintResult } from "../../src/model/types.js";
import { hostileResult, makeDiagnostic, makeResult, sampleResult } from "./fixtures.js";

/** The document built whole, the way the report was written before it was streamed. */
function whole(result: LintResult, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ version: 1, diagnostics: result.diagnostics.map(diagnosticJson), summary: result.summary, ...extra }, null, 2)}\n`;
}

const results: [string, LintResult][] = [
  ["sample", sampleResult()],
  ["clean", makeResult([])],
  ["hostile", hostileResult()],
  ["one finding with related places and a fix", makeResult([makeDiagnostic({ related: [{ file: "a.py", line: 1, column: 2, message: "m\n\"x\"" }], fix: { title: "t", applicability: "safe", edits: [] } as never })])],
];

describe("renderJsonChunks", () => {
  for (const [name, result] of results) {
    it(`adds up to the whole document: ${name}`, () => {
      expect([...renderJsonChunks(result)].join("")).toBe(whole(result));
      const plan = { releases: [{ steps: [{ text: "a\nb", nested: { deep: [1, [2, {}], []] } }] }], empty: {} };
      expect(renderJson(result, { plan })).toBe(whole(result, { plan }));
      // Keys JSON.stringify leaves out are left out here too.
      expect(renderJson(result, { plan: undefined, other: null })).toBe(whole(result, { plan: undefined, other: null }));
    });
  }

  it("lays out odd values inside the extra members as JSON.stringify does", () => {
    const result = sampleResult();
    const odd = {
      list: [undefined, () => 1, Symbol("s"), null, 0, "", [], {}, [[[[{ deep: "x\ny" }]]]]],
      skipped: undefined,
      fn: () => 1,
      when: new Date(0),
      map: new Map([["a", 1]]),
      nested: { a: { b: { c: { d: [1, { e: "\u2028\"q\"" }] } } } },
    };
    expect(renderJson(result, { plan: odd, other: [1, [2]], text: "t" })).toBe(whole(result, { plan: odd, other: [1, [2]], text: "t" }));
  });

  it("compact pieces add up to JSON.stringify(value), opened as many levels down as asked", () => {
    const values: unknown[] = [
      { plan: { steps: [{ a: 1, b: [undefined, () => 1, "x\ny"] }, { c: { d: {} } }], none: undefined }, when: new Date(0), map: new Map([["a", 1]]) },
      [],
      {},
      [[[]], [{}], null, "s", 1.5, true],
      "text",
      null,
    ];
    for (const value of values) {
      for (const levels of [0, 1, 2, 5]) expect([...jsonChunks(value, 0, levels, true)].join("")).toBe(JSON.stringify(value));
    }
    const big = { plan: { steps: Array.from({ length: 100 }, (_, i) => ({ i, text: "t".repeat(50) })) } };
    const pieces = [...jsonChunks(big, 0, 3, true)];
    expect(pieces.length).toBeGreaterThan(100);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(100);
  });

  it("writes the release plan a step at a time", () => {
    const steps = Array.from({ length: 2000 }, (_, i) => ({ migration: `app.${String(i).padStart(4, "0")}_x`, operations: ["AddField a.b", "RunPython"], findings: [{ code: "RS105", line: i }] }));
    const plan = { requiresDowntime: false, preDeploy: steps, postDeploy: [], notes: ["n"] };
    const result = sampleResult();
    const pieces = [...renderJsonChunks(result, { plan })];
    expect(pieces.join("")).toBe(whole(result, { plan }));
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2000);
  });

  it("yields one piece per finding, so a large report is never one string", () => {
    const many = makeResult(Array.from({ length: 500 }, (_, i) => makeDiagnostic({ line: i + 1 })));
    const pieces = [...renderJsonChunks(many)];
    expect(pieces.length).toBeGreaterThan(500);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2000);
    expect(JSON.parse(pieces.join(""))).toMatchObject({ version: 1, summary: { errors: 500 } });
  });
});

describe("renderTextChunks", () => {
  it("adds up to the text report, with and without colour", () => {
    for (const [, result] of results) {
      for (const color of [false, true]) {
        const pieces = [...renderTextChunks(result, { color })];
        expect(pieces.join("")).toBe(renderText(result, { color }));
        expect(pieces).toHaveLength(result.diagnostics.length + 1);
      }
    }
  });
});
