#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `postinstall`
// script). dist/bundle/ (esbuild) starts faster; it is used only while it is at least as new as
// dist/src/cli.js, so a build with a bare `tsc` never runs a stale bundle.
import { statSync } from "node:fs";

const fail = (error) => {
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  process.stderr.write(`rollsafe: internal error: ${message}\n`);
  process.exitCode = 2;
};

const mtime = (relative) => statSync(new URL(relative, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? null;
const bundled = mtime("../dist/bundle/cli.js");
const compiled = mtime("../dist/src/cli.js");
const entry = bundled !== null && (compiled === null || bundled >= compiled) ? "../dist/bundle/cli.js" : "../dist/src/cli.js";

import(entry).then(
  ({ main }) =>
    main(process.argv).then((code) => {
      process.exitCode = code;
    }, fail),
  (error) => {
    if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/src/cli.js")) {
      process.stderr.write("rollsafe: not built yet: run `npm ci` (or `npm run build`) first\n");
      process.exitCode = 2;
      return;
    }
    fail(error);
  },
);
