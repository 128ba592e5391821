import { execFileSync } from "node:child_process";
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { beforeAll, describe, expect, it } from "vitest";

import { encodePathAsUri, renderSarif, renderSarifChunks, rollsafeVersion } from "../../src/reporters/sarif.js";
import { sanitizeText } from "../../src/reporters/sanitize-text.js";
import { HOSTILE_FILE, hostileResult, makeDiagnostic, makeResult, sampleResult } from "./fixtures.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MULTITOOL_DIR = path.join(ROOT, "node_modules/@microsoft/sarif-multitool-linux");
const MULTITOOL = path.join(MULTITOOL_DIR, "Sarif.Multitool");
const SCHEMA = path.join(MULTITOOL_DIR, "sarif-2.1.0.json");

type Json = any;

beforeAll(() => {
  // npm may skip the package's `postinstall: chmod u+x Sarif.Multitool` (install scripts not
  // approved), which leaves the binary without its execute bit.
  try {
    accessSync(MULTITOOL, constants.X_OK);
  } catch {
    chmodSync(MULTITOOL, statSync(MULTITOOL).mode | 0o100);
  }
});

/**
 * Runs the SARIF Multitool's `validate` (JSON schema plus its SARIF1xxx/2xxx rules) on each
 * log and returns its error and warning lines. It exits 0 even when it finds problems, so the
 * output is what counts. Invariant globalization lets it run on machines without libicu.
 */
function validate(logs: Record<string, string>): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "rollsafe-sarif-"));
  const files = Object.entries(logs).map(([name, text]) => {
    const file = path.join(dir, `${name}.sarif`);
    writeFileSync(file, text);
    return file;
  });
  const output = execFileSync(MULTITOOL, ["validate", "--json-schema", SCHEMA, ...files], {
    encoding: "utf8",
    env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: "1", DOTNET_CLI_TELEMETRY_OPTOUT: "1" },
  });
  expect(output).toContain(`Done. ${files.length} files scanned.`);
  return output.split("\n").filter((line) => /: (error|warning) /.test(line));
}

/** What the schema's enums and references demand but the Multitool does not check when deserialisation fails. */
function checkStructure(log: Json): void {
  expect(log.version).toBe("2.1.0");
  expect(log.runs).toHaveLength(1);
  const run = log.runs[0];
  const rules: Json[] = run.tool.driver.rules;
  expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  for (const rule of rules) expect(["none", "note", "warning", "error"]).toContain(rule.defaultConfiguration.level);
  for (const result of run.results as Json[]) {
    expect(["none", "note", "warning", "error"]).toContain(result.level);
    expect(rules[result.ruleIndex].id).toBe(result.ruleId);
    for (const location of [...result.locations, ...(result.relatedLocations ?? [])]) {
      const { uri, uriBaseId } = location.physicalLocation.artifactLocation;
      expect(uriBaseId).toBe("%SRCROOT%");
      expect(uri).toMatch(/^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]+$/);
      expect(uri).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
      const region = location.physicalLocation.region;
      for (const key of ["startLine", "startColumn", "endLine", "endColumn"]) {
        if (key in region) expect(Number.isInteger(region[key]) && region[key] >= 1).toBe(true);
      }
    }
  }
}

describe("renderSarif", () => {
  it("matches the snapshot", async () => {
    await expect(renderSarif(sampleResult(), { toolVersion: "0.0.0-test" })).toMatchFileSnapshot("./__snapshots__/sarif.json");
  });

  it("validates with the SARIF Multitool: findings, hostile text, a clean run and broken ranges", () => {
    const brokenRanges = makeResult([
      makeDiagnostic({ line: 0, column: 0, endLine: 0, endColumn: 0 }),
      makeDiagnostic({ line: 9, column: 20, endLine: 9, endColumn: 4 }),
      makeDiagnostic({ line: 9, column: 20, endLine: 3, endColumn: 1 }),
    ]);
    const logs = {
      sample: renderSarif(sampleResult()),
      hostile: renderSarif(hostileResult()),
      clean: renderSarif(makeResult([])),
      ranges: renderSarif(brokenRanges),
    };
    expect(validate(logs)).toEqual([]);
    for (const text of Object.values(logs)) checkStructure(JSON.parse(text));
  }, 120_000);

  it("the validator does report broken logs (the check above can fail)", () => {
    const badUri = JSON.parse(renderSarif(sampleResult()));
    badUri.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = "a b#c.py";
    // A log that breaks the schema is reported by the schema check alone: the Multitool then
    // cannot deserialise it, so it skips its SARIF rules for that file.
    const noMessage = JSON.parse(renderSarif(sampleResult()));
    delete noMessage.runs[0].results[1].message;
    const problems = validate({ badUri: JSON.stringify(badUri), noMessage: JSON.stringify(noMessage) });
    expect(problems.some((line) => line.includes("badUri.sarif") && line.includes("error SARIF1002"))).toBe(true);
    expect(problems.some((line) => line.includes("noMessage.sarif") && line.includes("error JSON1002"))).toBe(true);
  }, 120_000);

  it("is laid out exactly as JSON.stringify(log, null, 2), written one result at a time", () => {
    const htmlSafe = (json: string) => json.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const many = makeResult(Array.from({ length: 300 }, (_, i) => makeDiagnostic({ line: i + 1, message: `m <${i}> & \u2028` })));
    for (const result of [sampleResult(), hostileResult(), makeResult([]), many]) {
      const pieces = [...renderSarifChunks(result, { toolVersion: "0.0.0-test" })];
      const text = pieces.join("");
      expect(text).toBe(renderSarif(result, { toolVersion: "0.0.0-test" }));
      expect(text).toBe(`${htmlSafe(JSON.stringify(JSON.parse(text), null, 2))}\n`);
    }
    const pieces = [...renderSarifChunks(many)];
    expect(pieces.length).toBeGreaterThan(300);
    // The skeleton before the results carries the rule descriptors; no result piece is large.
    expect(Math.max(...pieces.slice(1, -1).map((p) => p.length))).toBeLessThan(3000);
  });

  it("describes every rule from its docs, with a synthetic entry for codes without one", () => {
    const log = JSON.parse(renderSarif(sampleResult()));
    const [dropping, , parseError] = log.runs[0].tool.driver.rules;
    expect(dropping).toMatchObject({
      id: "RS101",
      name: "dropping-column",
      shortDescription: { text: "Flags dropping column." },
      fullDescription: { text: "Looks at every operation of this kind in a migration." },
      helpUri: "https://github.com/rollsafe/rollsafe/blob/main/docs/rules/dropping-column.md",
      defaultConfiguration: { level: "error" },
    });
    expect(dropping.help.markdown).toContain("1. Ship the code change first.\n2. Run the migration in a later release.");
    expect(parseError).toMatchObject({ id: "RS001", name: "parse-error", defaultConfiguration: { level: "error" } });
    expect(log.runs[0].results[2]).toMatchObject({ ruleId: "RS001", ruleIndex: 2 });
  });

  it("keeps hostile text as data: same text after parsing, no markup characters in the raw JSON", () => {
    const result = hostileResult();
    const raw = renderSarif(result);
    expect(raw).not.toMatch(/[<>&\u2028\u2029]/);
    const log = JSON.parse(raw);
    const d = result.diagnostics[0]!;
    expect(log.runs[0].results[0].message.text).toBe(sanitizeText(`${d.message}\n\n${d.help.join("\n")}`));
    expect(log.runs[0].results[0].message.text).toContain("</script>");
    expect(log.runs[0].results[0].message.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ud800-\udfff]/u);
  });

  it("encodes each path segment so the URI decodes back to the file", () => {
    const uri = encodePathAsUri(HOSTILE_FILE);
    expect(uri).toBe("shop%20app/migrations/0002_d%C3%A9j%C3%A0%20vu%20%231%20100%25%2Cline%3D1%3A%3Ax.py");
    expect(uri.split("/").map(decodeURIComponent).join("/")).toBe(HOSTILE_FILE);
    expect(encodePathAsUri("c:/x.py")).toBe("c%3A/x.py");
  });

  it("fingerprints ignore the line and tell identical findings apart", () => {
    const fingerprints = (result: ReturnType<typeof makeResult>) =>
      JSON.parse(renderSarif(result)).runs[0].results.map((r: Json) => r.partialFingerprints["rollsafe/v1"]);
    const before = fingerprints(makeResult([makeDiagnostic({ line: 12 }), makeDiagnostic({ line: 30 })]));
    const after = fingerprints(makeResult([makeDiagnostic({ line: 15, endLine: 15 }), makeDiagnostic({ line: 33, endLine: 33 })]));
    expect(after).toEqual(before);
    expect(new Set(before).size).toBe(2);
    const other = fingerprints(makeResult([makeDiagnostic({ message: "another message" })]));
    expect(other[0]).not.toBe(before[0]);
  });

  it("turns fixes into artifact changes with character offsets", () => {
    const log = JSON.parse(renderSarif(sampleResult()));
    expect(log.runs[0].results[1].fixes).toEqual([
      {
        description: { text: "Use AddIndexConcurrently in a non-atomic migration" },
        artifactChanges: [
          {
            artifactLocation: { uri: "library/migrations/0003_book_isbn_index.py", uriBaseId: "%SRCROOT%" },
            replacements: [{ deletedRegion: { charOffset: 310, charLength: 18 }, insertedContent: { text: "AddIndexConcurrently" } }],
          },
        ],
        properties: { applicability: "safe" },
      },
    ]);
  });

  it("reads the tool version from rollsafe's package.json", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(rollsafeVersion()).toBe(pkg.version);
    expect(JSON.parse(renderSarif(makeResult([]))).runs[0].tool.driver.version).toBe(pkg.version);
  });
});
