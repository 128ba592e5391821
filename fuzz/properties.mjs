/**
 * The properties every fuzz case must satisfy. Each check returns a list of problems (strings);
 * an empty list means the case passed.
 */

/** A stack trace line as V8 prints it. */
export const STACK_TRACE = /\n\s+at /;


/** Number of lines of a file as an editor counts them (a final newline opens no new line). */
export function lineCount(bytes) {
  let n = 1;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) n++;
  return n;
}

/** Checks the positions and paths of every diagnostic. */
export function checkDiagnosticShape(diagnostics) {
  const problems = [];
  for (const d of diagnostics) {
    const where = `${d.rule} at ${d.file}:${d.line}:${d.column}`;
    if (!(Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.column) && d.column >= 1)) problems.push(`bad start position: ${where}`);
    if (!(Number.isInteger(d.endLine) && d.endLine >= d.line)) problems.push(`end line before start: ${where} (endLine ${d.endLine})`);
    if (d.endLine === d.line && d.endColumn < d.column) problems.push(`end column before start: ${where} (endColumn ${d.endColumn})`);
    if (typeof d.file !== "string" || d.file.startsWith("/") || d.file.startsWith("..") || d.file.includes("\\")) problems.push(`path not relative to the working directory: ${JSON.stringify(d.file)}`);
    if (typeof d.message !== "string" || d.message.length === 0) problems.push(`empty message: ${where}`);
  }
  return problems;
}

/**
 * Checks what rollsafe concluded about the mutated file against the case's label and, for
 * unlabelled cases, against CPython's verdict.
 *
 * @param c the case (label, bytes)
 * @param targetFile the mutated file as reports show it (relative path)
 * @param diagnostics compact diagnostics of the whole run
 * @param cpython `{ ok, message }` from the CPython oracle, or null when there is none
 * @param original diagnostics of the same tree with the unmutated file (for `same-as-seed`)
 */
export function checkVerdict(c, targetFile, diagnostics, cpython, original) {
  const problems = [];
  const mine = diagnostics.filter((d) => d.file === targetFile);
  const internal = diagnostics.filter((d) => d.rule === "internal-error");
  for (const d of internal) problems.push(`internal-error: ${d.message}`);
  const parseErrors = mine.filter((d) => d.rule === "parse-error");
  const lines = lineCount(c.bytes);
  for (const d of parseErrors) {
    if (d.line > lines) problems.push(`parse-error located past the end of the file: line ${d.line} of ${lines}`);
  }
  const expectInvalid = c.label === "invalid" || (c.label === "any" && cpython && !cpython.ok && !cpython.deliberate);
  if (expectInvalid && parseErrors.length === 0) {
    problems.push(`unparsable file not reported as parse-error (${c.label === "invalid" ? "the generator says invalid" : `CPython: ${cpython.message}`}); got: ${mine.map((d) => d.rule).join(", ") || "nothing"}`);
  }
  if (c.label === "any" && cpython?.ok && parseErrors.length > 0) {
    problems.push(`parse-error on a file CPython compiles: ${parseErrors[0].message} at ${parseErrors[0].line}:${parseErrors[0].column}`);
  }
  if (c.label === "too-large" && !mine.some((d) => d.rule === "io-error" || d.rule === "parse-error")) {
    problems.push(`oversized file not reported; got: ${mine.map((d) => d.rule).join(", ") || "nothing"}`);
  }
  if (c.label === "same-as-seed" && original) {
    const key = (d) => `${d.rule} ${d.file}:${d.line}:${d.column}-${d.endLine}:${d.endColumn}`;
    const a = diagnostics.map(key).join("\n");
    const b = original.map(key).join("\n");
    if (a !== b) problems.push(`findings differ from the unmutated file:\n--- original\n${b}\n--- mutated\n${a}`);
  }
  return problems;
}

/** Checks one rendered report for structural validity. */
export function checkRendered(format, text, diagnosticCount) {
  const problems = [];
  if (format === "json" || format === "sarif" || format === "gitlab") {
    try {
      const doc = JSON.parse(text);
      if (format === "json" && (doc.version !== 1 || doc.diagnostics.length !== diagnosticCount)) problems.push("json: wrong version or diagnostic count");
      if (format === "sarif" && doc.runs?.[0]?.results?.length !== diagnosticCount) problems.push("sarif: result count differs from the diagnostics");
    } catch (error) {
      problems.push(`${format}: not valid JSON: ${error.message}`);
    }
  }
  if (format === "github") {
    const lines = text.split("\n").filter((l) => l !== "");
    if (lines.length !== diagnosticCount) problems.push(`github: ${lines.length} lines for ${diagnosticCount} diagnostics`);
    for (const line of lines) if (!/^::(error|warning) file=[^:]*::/.test(line)) problems.push(`github: malformed command line ${JSON.stringify(line.slice(0, 120))}`);
  }
  if (format === "junit") {
    if (!text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ') || !text.trimEnd().endsWith("</testsuites>")) problems.push("junit: not a testsuites document");
    const open = (text.match(/<testcase /g) ?? []).length;
    const close = (text.match(/<\/testcase>|<testcase [^>]*\/>/g) ?? []).length;
    if (open !== close) problems.push(`junit: ${open} <testcase> opened, ${close} closed`);
  }
  return problems;
}

/** Checks a real CLI run's exit status and streams. */
export function checkCliRun(run) {
  const problems = [];
  if (run.timedOut) problems.push("hang: the CLI did not finish within the time bound");
  else if (run.signal) problems.push(`killed by ${run.signal}`);
  else if (run.code !== 0 && run.code !== 1) problems.push(`exit code ${run.code} (expected 0 or 1)`);
  if (STACK_TRACE.test(run.stderr) || STACK_TRACE.test(run.stdout)) problems.push(`stack trace printed:\n${run.stderr.slice(0, 2000)}`);
  if (run.stderr !== "" && !run.timedOut) problems.push(`unexpected stderr: ${run.stderr.slice(0, 500)}`);
  return problems;
}
