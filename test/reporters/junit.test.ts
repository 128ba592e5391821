import { describe, expect, it } from "vitest";

import { renderJunit, renderJunitChunks } from "../../src/reporters/junit.js";
import { sanitizeText } from "../../src/reporters/sanitize-text.js";
import { HOSTILE_FILE, hostileResult, makeDiagnostic, makeResult, sampleResult } from "./fixtures.js";
import { childElements, parseStrictXml, textOf } from "./strict-xml.js";

describe("renderJunit", () => {
  it("matches the snapshot", async () => {
    await expect(renderJunit(sampleResult())).toMatchFileSnapshot("./__snapshots__/junit.xml");
  });

  it("is written one test case at a time, adding up to the whole document", () => {
    const many = makeResult(Array.from({ length: 200 }, (_, i) => makeDiagnostic({ line: i + 1, file: `app/migrations/${String(i % 7).padStart(4, "0")}_x.py` })));
    const pieces = [...renderJunitChunks(many)];
    expect(pieces.length).toBeGreaterThan(200);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(3000);
    expect(parseStrictXml(pieces.join("")).attributes).toMatchObject({ tests: "200", failures: "200" });
    expect(childElements(parseStrictXml(pieces.join("")), "testsuite")).toHaveLength(7);
    for (const result of [sampleResult(), hostileResult(), makeResult([]), many]) expect([...renderJunitChunks(result)].join("")).toBe(renderJunit(result));
  });

  it("has one suite per file and one failing case per diagnostic", () => {
    const result = sampleResult();
    const root = parseStrictXml(renderJunit(result));
    expect(root.name).toBe("testsuites");
    expect(root.attributes).toMatchObject({ tests: "3", failures: "3" });
    const suites = childElements(root, "testsuite");
    expect(suites.map((s) => s.attributes.name)).toEqual([
      "library/migrations/0002_remove_book_title.py",
      "library/migrations/0003_book_isbn_index.py",
      "shop/migrations/0004_broken.py",
    ]);
    const cases = suites.flatMap((s) => childElements(s, "testcase"));
    expect(cases).toHaveLength(3);
    const failure = childElements(cases[0]!, "failure")[0]!;
    expect(failure.attributes).toEqual({ message: result.diagnostics[0]!.message, type: "RS101 dropping-column" });
    expect(textOf(failure)).toContain("1. Remove `title` from the model");
  });

  it("writes one passing case for a clean run", () => {
    const root = parseStrictXml(renderJunit(makeResult([])));
    expect(root.attributes).toMatchObject({ tests: "1", failures: "0" });
    const cases = childElements(root, "testsuite").flatMap((s) => childElements(s, "testcase"));
    expect(cases).toHaveLength(1);
    expect(cases[0]!.children).toEqual([]);
  });

  it("keeps its structure whatever the migration text holds", () => {
    const result = hostileResult();
    const xml = renderJunit(result);
    const root = parseStrictXml(xml);
    const suites = childElements(root, "testsuite");
    expect(suites.map((s) => s.attributes.name)).toEqual([HOSTILE_FILE, "plain/0001.py"]);
    const cases = suites.flatMap((s) => childElements(s, "testcase"));
    expect(cases).toHaveLength(result.diagnostics.length);
    expect(xml.match(/<testcase /g)).toHaveLength(result.diagnostics.length);
    result.diagnostics.forEach((d, i) => {
      const failures = childElements(cases[i]!, "failure");
      expect(failures).toHaveLength(1);
      // The text comes back intact, minus what XML cannot carry at all.
      const clean = sanitizeText(d.message).replace(/[\ufffe\uffff]/g, "");
      expect(failures[0]!.attributes.message).toBe(clean);
      expect(textOf(failures[0]!)).toContain(clean);
      expect(cases[i]!.attributes.classname).toBe(d.file);
    });
  });

  it("rejects broken XML (the checker is strict)", () => {
    const good = renderJunit(sampleResult());
    expect(() => parseStrictXml(good.replace("</testcase>", ""))).toThrow();
    expect(() => parseStrictXml(good.replace("Removing field", "Removing <b> field"))).toThrow();
    expect(() => parseStrictXml(good.replace("Removing field", "Removing & field"))).toThrow();
    expect(() => parseStrictXml(good.replace("Removing field", "Removing \u0001 field"))).toThrow();
    expect(() => parseStrictXml(good.replace('type="RS101', 'type="R"S101'))).toThrow();
  });
});
