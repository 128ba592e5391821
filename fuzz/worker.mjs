/**
 * The in-process half of the fuzzer: a child process that runs the built pipeline (`lint()` and
 * `render()` from `dist/src/index.js`, given as the first argument) on one case directory at a
 * time. It runs apart so the fuzzer keeps a watchdog that can kill it if a case hangs (a busy
 * loop cannot be interrupted from inside).
 */
import { pathToFileURL } from "node:url";

const { lint, render } = await import(pathToFileURL(process.argv[2]).href);

/** The fields the properties look at; the rest of a diagnostic stays in the worker. */
function compact(d) {
  return {
    rule: d.rule,
    severity: d.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    message: d.message,
  };
}

async function runOne(root, formats) {
  const result = await lint([root], { cwd: root });
  const renders = {};
  for (const format of formats) {
    try {
      renders[format] = { ok: true, text: await render(format, result, { color: format === "text" }) };
    } catch (error) {
      renders[format] = { ok: false, error: `${error?.message}\n${error?.stack ?? ""}` };
    }
  }
  return { diagnostics: result.diagnostics.map(compact), summary: result.summary, renders };
}

process.on("message", async ({ id, root, originalRoot, formats }) => {
  const started = performance.now();
  try {
    const outcome = await runOne(root, formats);
    const original = originalRoot ? await runOne(originalRoot, []) : null;
    process.send({
      id,
      ok: true,
      outcome,
      original,
      ms: performance.now() - started,
      rss: process.memoryUsage().rss,
    });
  } catch (error) {
    process.send({ id, ok: false, error: `${error?.message}\n${error?.stack ?? ""}`, ms: performance.now() - started, rss: process.memoryUsage().rss });
  }
});
process.send({ ready: true });
