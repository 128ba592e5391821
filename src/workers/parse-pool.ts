/**
 * Parses files on worker threads and on the main thread. Work is handed out in small batches
 * as threads finish (files differ in size, so fixed shares would leave a thread idle). With
 * `jobs` threads, `jobs - 1` are workers and the main thread is the last one: it parses batches
 * between handling the workers' replies instead of sitting idle while they start (each worker
 * loads tree-sitter) and run. Files not read yet are read by the thread that parses them. The
 * main thread rebuilds each worker's model from the JSON it returns, with the source text the
 * worker sends along (for files it read) or decoded from the bytes the main thread has.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { MigrationFileRef } from "../discover/find-apps.js";
import type { OperationCatalog } from "../model/third-party-operations.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { decodePythonSource } from "../parse/source-text.js";
import { attachLoadedSqlFacts } from "../engine/sql-facts-for-operation.js";
import { loadMigrationFile, type LoadedFile } from "./read-migration.js";
import type { ParseOptions, ParseReply, ParseTask } from "./parse-worker.js";

/** Files per message: large enough to amortise posting, small enough to balance the threads. */
const BATCH = 24;

const WORKER_FILE = new URL("./parse-worker.js", import.meta.url);

/**
 * The worker as one CommonJS file, next to the bundle the CLI runs from (dist/bundle/): the
 * build makes it with V8's code cache (`parse-worker.cjs.v8`), which an ES module cannot use on
 * node 20. A worker then starts parsing about 20 ms sooner, with its functions compiled. Run
 * from dist/src (the library, the tests), there is none and the ES module is the worker.
 */
const WORKER_BUNDLE = new URL("./parse-worker.cjs", import.meta.url);

/**
 * What a worker runs to load {@link WORKER_BUNDLE}, as bin/rollsafe.cjs's `loadBundle` loads the
 * CLI's bundles: its code cache when at least as new as the bundle (V8 refuses one made by another
 * V8 or with other flags, and then compiles as usual), and the bundle read as Latin-1 when it is
 * ASCII. A copy, not a shared file: the launcher requiring one more module cost every warm run
 * about 1.3 ms (60.0-60.3 against 61.3-62.0 ms, medians of 15, single file in the 500-migration app).
 */
const LOAD_WORKER_BUNDLE = `"use strict";
const { Script } = require("node:vm");
const Module = require("node:module");
const { isAscii } = require("node:buffer");
const { readFileSync, statSync } = require("node:fs");
const path = require("node:path");
const file = require("node:worker_threads").workerData.bundle;
let cachedData;
try {
  if (statSync(file + ".v8").mtimeMs >= statSync(file).mtimeMs) cachedData = readFileSync(file + ".v8");
} catch {}
const bytes = readFileSync(file);
const source = isAscii(bytes) ? bytes.latin1Slice(0, bytes.length) : bytes.toString("utf8");
const module = { exports: {} };
new Script(Module.wrap(source), { filename: file, cachedData }).runInThisContext()(module.exports, Module.createRequire(file), module, file, path.dirname(file));
`;

/**
 * Parses `tasks` on `jobs` threads: up to `jobs - 1` workers and the main thread, each file's
 * model going to `onFile` as it comes. Resolves to the number of threads that parsed, or to null
 * when workers cannot be used here (running from TypeScript sources, or a worker failed to start
 * or died); the caller then parses everything itself.
 */
export async function parseOnWorkers(
  tasks: { index: number; ref: MigrationFileRef; bytes: Buffer | null }[],
  options: {
    jobs: number;
    operations?: OperationCatalog;
    maxFileSize?: number;
    /** Called with each file as its model comes back, and with the model's JSON when `keepJson`. */
    onFile?: (file: LoadedFile, index: number, json?: string) => void;
    /** Hand each model's JSON to `onFile`, for the parse cache (without a cache it is dropped at once). */
    keepJson?: boolean;
  },
): Promise<number | null> {
  const bundle = existsSync(fileURLToPath(WORKER_BUNDLE)) ? fileURLToPath(WORKER_BUNDLE) : null;
  if (!bundle && !existsSync(fileURLToPath(WORKER_FILE))) return null;
  const count = Math.max(1, Math.min(options.jobs - 1, Math.ceil(tasks.length / BATCH) - 1));
  let next = 0;
  let failed = false;
  /** The files handed to a worker (with their bytes when the main thread read them), until their model comes back. */
  const posted = new Map<number, { ref: MigrationFileRef; bytes: Buffer | null }>();

  /** The next batch of files; none once a thread has failed. */
  const take = () => {
    if (failed) return [];
    const batch = tasks.slice(next, next + BATCH);
    next = Math.min(tasks.length, next + BATCH);
    return batch;
  };

  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      // The SQL of the RunSQLs is read here only for the parse cache. Without one it is left to
      // the replay, which reads only what a rule asks for (a single-file run asks for one file's).
      const workerData: ParseOptions = { operations: options.operations, maxFileSize: options.maxFileSize, sqlFacts: options.keepJson === true };
      const worker = bundle ? new Worker(LOAD_WORKER_BUNDLE, { eval: true, workerData: { ...workerData, bundle } }) : new Worker(WORKER_FILE, { workerData });
      let finished = false;
      // Batches posted and not answered yet. Two are kept queued, so that a worker never waits
      // for the main thread to come back from its own batch before it gets the next one.
      let inFlight = 0;
      const send = () => {
        // Files not read yet are read by the worker, in parallel with the main thread.
        const batch: ParseTask[] = take();
        if (batch.length === 0) {
          if (inFlight > 0) return;
          finished = true;
          void worker.terminate();
          resolve();
          return;
        }
        for (const task of batch) posted.set(task.index, { ref: task.ref, bytes: task.bytes as Buffer | null });
        inFlight++;
        worker.postMessage(batch);
      };
      worker.on("message", (replies: ParseReply[]) => {
        inFlight--;
        for (const reply of replies) {
          const task = posted.get(reply.index) as { ref: MigrationFileRef; bytes: Buffer | null };
          posted.delete(reply.index);
          const rebuilt = rebuild(task, reply);
          options.onFile?.(rebuilt.file, reply.index, options.keepJson ? rebuilt.json : undefined);
        }
        send();
      });
      worker.once("error", reject);
      worker.once("exit", () => {
        if (!finished) reject(new Error("a parse worker stopped early"));
      });
      send();
      send();
    });

  // The main thread's share: a batch at a time, yielding between batches so that the workers'
  // replies are taken and answered promptly.
  const runMain = async () => {
    while (next < tasks.length && !failed) {
      for (const task of take()) {
        const file = loadMigrationFile(task.ref, task.bytes, options.maxFileSize, options.operations);
        if (file.ok && options.keepJson) attachLoadedSqlFacts(file.migration);
        options.onFile?.(file, task.index);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  // A thread that fails stops the handing out; every other worker answers the batches it holds
  // and is then let go idle, as at the end of a run. A worker is never terminated in the middle
  // of a batch: tree-sitter calls back into JavaScript for the text while it parses, and a
  // worker terminated there aborted the whole process (exit 134, no report).
  const fail = (error: unknown) => {
    failed = true;
    throw error;
  };
  const settled = await Promise.allSettled([...Array.from({ length: count }, () => runWorker().catch(fail)), runMain().catch(fail)]);
  if (settled.some((s) => s.status === "rejected")) return null;
  return count + 1;
}

function rebuild(task: { ref: MigrationFileRef; bytes: Buffer | null }, reply: ParseReply): { file: LoadedFile; json?: string } {
  const { ref } = task;
  if ("failure" in reply) return { file: { ...reply.failure, ref } as LoadedFile };
  if ("migration" in reply) return { file: { ok: true, ref, migration: reply.migration as ParsedMigration } };
  const model = JSON.parse(reply.json) as Omit<ParsedMigration, "source">;
  // The worker decoded these bytes successfully, so decoding them again cannot throw.
  const migration = Object.assign(model, { source: reply.source ?? decodePythonSource(task.bytes as Buffer) }) as ParsedMigration;
  return { file: { ok: true, ref, migration }, json: reply.json };
}
