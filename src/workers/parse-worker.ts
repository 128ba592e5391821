/**
 * A parse worker: receives batches of (index, file, bytes), parses each, and posts back the
 * model as JSON text (cheaper to post and to read back than a structured clone of the object
 * tree, and exactly what the parse cache stores).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { MigrationFileRef } from "../discover/find-apps.js";
import type { OperationCatalog } from "../model/third-party-operations.js";
import { modelJson } from "../cache/parse-cache.js";
import { attachLoadedSqlFacts } from "../engine/sql-facts-for-operation.js";
import { loadMigrationFile, type FileFailure } from "./read-migration.js";

/** One file to parse: its bytes, or null for the worker to read the file itself. */
export interface ParseTask {
  index: number;
  ref: MigrationFileRef;
  bytes: Uint8Array | null;
}

/**
 * One parsed file: the model as JSON (without its source), the model itself when JSON cannot
 * carry it, or a failure. `source` is the decoded text when the worker read the file itself (the
 * main thread has no bytes to decode it from).
 */
export type ParseReply =
  | { index: number; json: string; source?: string }
  | { index: number; migration: unknown }
  | { index: number; failure: Omit<FileFailure, "ref"> };

/** What every batch of a worker is parsed with (its `workerData`). */
export interface ParseOptions {
  operations?: OperationCatalog;
  maxFileSize?: number;
  /** Read the SQL of each RunSQL here (for the parse cache), else leave it to the replay. */
  sqlFacts?: boolean;
}

/** Parses one batch into the replies the main thread reads (see `ParseReply`). */
export function parseBatch(tasks: ParseTask[], options: ParseOptions = {}): ParseReply[] {
  return tasks.map(({ index, ref, bytes: given }) => {
    try {
      const file = loadMigrationFile(ref, given, options.maxFileSize, options.operations);
      if (file.ok && options.sqlFacts) attachLoadedSqlFacts(file.migration);
      if (!file.ok) {
        const { ref: _ref, ...failure } = file;
        return { index, failure };
      }
      const json = modelJson(file.migration);
      if (json === null) return { index, migration: file.migration };
      return given ? { index, json } : { index, json, source: file.migration.source };
    } catch (error) {
      return { index, failure: { ok: false, rule: "parse-error", message: `cannot parse the file: ${(error as Error).message}`, line: 1, column: 1 } };
    }
  });
}

const options = workerData as ParseOptions | undefined;
parentPort?.on("message", (tasks: ParseTask[]) => parentPort?.postMessage(parseBatch(tasks, options)));
