import { describe, expect, it } from "vitest";

import { renderGitlab, renderGitlabChunks, type CodeQualityIssue } from "../../src/reporters/gitlab.js";
import { hostileResult, makeDiagnostic, makeResult, sampleResult } from "./fixtures.js";

const issues = (text: string) => JSON.parse(text) as CodeQualityIssue[];

describe("renderGitlab", () => {
  it("matches the snapshot", async () => {
    await expect(renderGitlab(sampleResult())).toMatchFileSnapshot("./__snapshots__/gitlab.json");
  });

  it("is JSON.stringify(issues, null, 2), written one issue at a time", () => {
    const many = makeResult(Array.from({ length: 200 }, (_, i) => makeDiagnostic({ line: i + 1 })));
    for (const result of [sampleResult(), hostileResult(), makeResult([]), many]) {
      const pieces = [...renderGitlabChunks(result)];
      const text = pieces.join("");
      expect(text).toBe(`${JSON.stringify(issues(text), null, 2)}\n`);
      expect(text).toBe(renderGitlab(result));
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(3000);
    }
  });

  it("has every field GitLab requires, with its severities", () => {
    const [error, warning] = issues(renderGitlab(sampleResult()));
    expect(error).toMatchObject({
      check_name: "RS101",
      severity: "critical",
      location: { path: "library/migrations/0002_remove_book_title.py", lines: { begin: 12, end: 12 } },
    });
    expect(error!.description).toMatch(/^RS101 dropping-column: Removing field `title`/);
    expect(error!.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(warning).toMatchObject({ severity: "minor", location: { lines: { begin: 14, end: 17 } } });
  });

  it("is an empty array for a clean run", () => {
    expect(issues(renderGitlab(makeResult([])))).toEqual([]);
  });

  it("keeps fingerprints when lines move and tells identical findings apart", () => {
    const fingerprints = (lines: number[]) =>
      issues(renderGitlab(makeResult(lines.map((line) => makeDiagnostic({ line, endLine: line }))))).map((i) => i.fingerprint);
    expect(fingerprints([12, 30])).toEqual(fingerprints([20, 41]));
    expect(new Set(fingerprints([12, 30])).size).toBe(2);
  });

  it("keeps descriptions on one line and free of control characters", () => {
    for (const issue of issues(renderGitlab(hostileResult()))) {
      expect(issue.description).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(issue.description).toContain("</script>");
    }
  });
});
