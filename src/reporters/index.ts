/**
 * The reporter registry. Formats other than text and json are loaded on demand, so a plain
 * run does not pay for them at start-up.
 */
import type { LintResult } from "../model/types.js";

export const FORMATS = ["text", "json", "github", "sarif", "gitlab", "junit", "markdown"] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  color?: boolean;
}

/** Renders a result in a format. */
export async function render(format: Format, result: LintResult, options: RenderOptions = {}): Promise<string> {
  return [...(await renderChunks(format, result, options))].join("");
}

/**
 * Renders a result as pieces whose concatenation is `render`'s text. Every report that grows with
 * the project comes one finding at a time; the Markdown one, cut to a comment's size, in one piece.
 */
export async function renderChunks(format: Format, result: LintResult, options: RenderOptions & { extra?: Record<string, unknown> } = {}): Promise<readonly string[] | Generator<string>> {
  switch (format) {
    case "text":
      return (await import("./text.js")).renderTextChunks(result, { color: options.color });
    case "json":
      return (await import("./json.js")).renderJsonChunks(result, options.extra);
    case "sarif":
      return (await import("./sarif.js")).renderSarifChunks(result);
    case "github":
      return (await import("./github.js")).renderGithubChunks(result);
    case "gitlab":
      return (await import("./gitlab.js")).renderGitlabChunks(result);
    case "junit":
      return (await import("./junit.js")).renderJunitChunks(result);
    case "markdown":
      return [(await import("./markdown.js")).renderMarkdown(result)];
  }
}
