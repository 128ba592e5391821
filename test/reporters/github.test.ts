import { describe, expect, it } from "vitest";

import { renderGithub, renderGithubChunks, renderGithubStepSummary } from "../../src/reporters/github.js";
import { renderMarkdown } from "../../src/reporters/markdown.js";
import { sanitizeText } from "../../src/reporters/sanitize-text.js";
import { HOSTILE_FILE, HOSTILE_TEXT, hostileResult, makeDiagnostic, makeResult, sampleResult } from "./fixtures.js";

interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
}

/**
 * Reads a log the way the Actions runner does (actions/runner `ActionCommand.TryParseV2`):
 * every line, split on any line break, whose text after leading whitespace starts with `::`
 * is a command; properties and data are unescaped as the runner unescapes them.
 */
function parseRunnerLog(log: string): { commands: WorkflowCommand[]; otherLines: string[] } {
  const commands: WorkflowCommand[] = [];
  const otherLines: string[] = [];
  for (const rawLine of log.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/)) {
    const line = rawLine.trimStart();
    if (!line.startsWith("::")) {
      if (rawLine !== "") otherLines.push(rawLine);
      continue;
    }
    const end = line.indexOf("::", 2);
    if (end < 0) {
      otherLines.push(rawLine);
      continue;
    }
    const info = line.slice(2, end);
    const space = info.indexOf(" ");
    const command = space < 0 ? info : info.slice(0, space);
    const properties: Record<string, string> = {};
    if (space >= 0) {
      for (const pair of info.slice(space + 1).split(",")) {
        const eq = pair.indexOf("=");
        if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
      }
    }
    commands.push({ command, properties, data: unescapeData(line.slice(end + 2)) });
  }
  return { commands, otherLines };
}

function unescapeData(text: string): string {
  return text.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}

function unescapeProperty(text: string): string {
  return text.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%3A/g, ":").replace(/%2C/g, ",").replace(/%25/g, "%");
}

describe("renderGithub", () => {
  it("matches the snapshot", async () => {
    await expect(renderGithub(sampleResult())).toMatchFileSnapshot("./__snapshots__/github.txt");
  });

  it("writes one annotation per diagnostic with its location, title and help", () => {
    const result = sampleResult();
    const { commands, otherLines } = parseRunnerLog(renderGithub(result));
    expect(otherLines).toEqual([]);
    expect(commands.map((c) => c.command)).toEqual(["error", "warning", "error"]);
    const [dropping] = commands;
    expect(dropping!.properties).toEqual({
      file: "library/migrations/0002_remove_book_title.py",
      line: "12",
      endLine: "12",
      col: "9",
      endColumn: "52",
      title: "RS101 dropping-column",
    });
    const d = result.diagnostics[0]!;
    expect(dropping!.data).toBe(`${d.message}\n\n${d.help.join("\n")}`);
  });

  it("leaves out columns on a multi-line annotation, which GitHub would reject", () => {
    const { commands } = parseRunnerLog(renderGithub(sampleResult()));
    expect(commands[1]!.properties).toEqual({
      file: "library/migrations/0003_book_isbn_index.py",
      line: "14",
      endLine: "17",
      title: "RS201 adding-index-non-concurrently",
    });
  });

  it("comes one command per piece, adding up to the whole output", () => {
    for (const result of [sampleResult(), hostileResult(), makeResult([])]) {
      const pieces = [...renderGithubChunks(result)];
      expect(pieces).toHaveLength(result.diagnostics.length);
      expect(pieces.join("")).toBe(renderGithub(result));
    }
  });

  it("prints nothing for a clean run", () => {
    expect(renderGithub(makeResult([]))).toBe("");
  });

  it("never lets migration text start a workflow command", () => {
    const result = hostileResult();
    const log = renderGithub(result);
    const { commands, otherLines } = parseRunnerLog(log);
    expect(otherLines).toEqual([]);
    expect(commands).toHaveLength(result.diagnostics.length);
    expect(commands.map((c) => c.command)).toEqual(["error", "warning", "error"]);
    expect(log.split("\n").filter(Boolean)).toHaveLength(result.diagnostics.length);
    for (const c of commands) {
      expect(Object.keys(c.properties).sort()).toEqual(["col", "endColumn", "endLine", "file", "line", "title"]);
    }
  });

  it("round-trips hostile text through GitHub's unescaping, minus control characters", () => {
    const result = hostileResult();
    const { commands } = parseRunnerLog(renderGithub(result));
    const first = commands[0]!;
    expect(first.properties.file).toBe(HOSTILE_FILE);
    const d = result.diagnostics[0]!;
    const expected = sanitizeText(`${d.message}\n\n${d.help.join("\n")}`).replace(/[\u2028\u2029]/g, "\n");
    expect(first.data).toBe(expected);
    // The forged commands survive only as inert text inside the one message.
    expect(first.data).toContain("::error::pwned");
    expect(first.data).toContain("%0A::set-output");
    expect(first.data).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it("escapes % before CR/LF so an encoded newline in the text stays literal", () => {
    const log = renderGithub(makeResult([makeDiagnostic({ message: "100%0A::error::x", help: [], file: "a,b:c%.py" })]));
    expect(log).toBe(
      "::error file=a%2Cb%3Ac%25.py,line=12,endLine=12,col=9,endColumn=52,title=RS101 dropping-column::100%250A::error::x\n",
    );
    expect(HOSTILE_TEXT).toContain("%0A");
  });
});

describe("renderGithubStepSummary", () => {
  it("is the Markdown report with the step-summary title", () => {
    const result = sampleResult();
    const summary = renderGithubStepSummary(result);
    expect(summary.startsWith("## rollsafe: migration safety\n")).toBe(true);
    expect(summary).toBe(renderMarkdown(result, { title: "rollsafe: migration safety", maxLength: 1_000_000 }));
  });
});
