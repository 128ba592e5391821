/**
 * A parse worker: receives batches of (index, file, bytes), parses each, and posts back the
 * model as JSON text (cheaper to post and to read back than a structured clone of the object
 * tree, and exactly what the parse cache stores).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { MigrationFileRef } from "../discover/find-apps.js";
import type { OperationCatalog } from "../model/third-party-operations.js";
import { modelJson } from "../cache/parse-cache.js";
import { parseMigrationBytes, readMigrationBytesSync, type FileFailure } from "./read-migration.js";

/** One file to parse: its bytes, or null for the worker to read the file itself. */
export interface ParseTask {
  index: number;
  ref: MigrationFileRef;
  bytes: Uint8Array | null;
}

/**
 * One parsed file: the model as JSON (without its source), the model itself when JSON cannot
 * carry it, or a failure. `bytes` are the file's bytes when the worker read them (the main thread
 * decodes the source text from them), transferred rather than copied.
 */
export type ParseReply =
  | { index: number; json: string; bytes?: Uint8Array }
  | { index: number; migration: unknown; bytes?: Uint8Array }
  | { index: number; failure: Omit<FileFailure, "ref"> };

const data = workerData as { operations?: OperationCatalog; maxFileSize?: number } | undefined;
const operations = data?.operations;

parentPort?.on("message", (tasks: ParseTask[]) => {
  const transfer: ArrayBuffer[] = [];
  const replies: ParseReply[] = tasks.map(({ index, ref, bytes: given }) => {
    try {
      let bytes = given;
      let read: Uint8Array | undefined;
      if (!bytes) {
        const result = readMigrationBytesSync(ref, data?.maxFileSize);
        if (!result.ok) {
          const { ref: _ref, ...failure } = result;
          return { index, failure };
        }
        // A buffer of its own (small reads share node's pool), so it can be transferred.
        bytes = read = new Uint8Array(result.bytes);
        transfer.push(read.buffer as ArrayBuffer);
      }
      const file = parseMigrationBytes(ref, bytes, operations);
      if (!file.ok) {
        const { ref: _ref, ...failure } = file;
        return { index, failure };
      }
      const json = modelJson(file.migration);
      const withBytes = read ? { bytes: read } : {};
      return json === null ? { index, migration: file.migration, ...withBytes } : { index, json, ...withBytes };
    } catch (error) {
      return { index, failure: { ok: false, rule: "parse-error", message: `cannot parse the file: ${(error as Error).message}`, line: 1, column: 1 } };
    }
  });
  parentPort?.postMessage(replies, transfer);
});
