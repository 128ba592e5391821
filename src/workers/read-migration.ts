/**
 * Reading one migration file, split in two steps so the parse cache can sit between them:
 * `readMigrationBytes` (open + fstat + read, the I/O errors) and `parseMigrationBytes` (decode + parse).
 * This module is also what a parse worker runs, so it imports neither the rules nor the engine.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { MigrationFileRef } from "../discover/find-apps.js";
import type { OperationCatalog } from "../model/third-party-operations.js";
import { parseMigrationSource, type ParsedMigration } from "../parse/parse-migration.js";
import { decodePythonSource, UndecodableSource } from "../parse/source-text.js";

/** Files larger than this are reported instead of parsed (bytes). */
export const DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024;

/** A file that could not be read or decoded: becomes an `io-error` or `parse-error` diagnostic. */
export interface FileFailure {
  ok: false;
  ref: MigrationFileRef;
  rule: "parse-error" | "io-error" | "internal-error";
  message: string;
  line: number;
  column: number;
}

/** The result of reading one file. */
export type LoadedFile = { ok: true; ref: MigrationFileRef; migration: ParsedMigration } | FileFailure;

/**
 * Stats and reads one file; never throws. Synchronous I/O on purpose: migrations are small, and
 * `fs.promises.readFile` costs four thread-pool round trips per file (open, fstat, read, close),
 * several times the read itself, which a warm single-file run over a 500-migration app feels.
 */
export async function readMigrationBytes(ref: MigrationFileRef, maxFileSize = DEFAULT_MAX_FILE_SIZE): Promise<{ ok: true; bytes: Buffer } | FileFailure> {
  return readMigrationBytesSync(ref, maxFileSize);
}

/**
 * `readMigrationBytes` without the promise, for loops that hand out work as they read it. One
 * open, one fstat and the reads: a separate `stat` before `readFileSync` (which opens and fstats
 * again) cost about 15 µs per file. `O_NONBLOCK` keeps a FIFO named like a migration from
 * blocking the open; `fstat` then says it is not a regular file.
 */
export function readMigrationBytesSync(ref: MigrationFileRef, maxFileSize = DEFAULT_MAX_FILE_SIZE): { ok: true; bytes: Buffer } | FileFailure {
  const read = readSourceBytesSync(ref.path, maxFileSize, "a migration");
  return read.ok ? read : { ok: false, ref, rule: "io-error", message: read.message, line: 1, column: 1 };
}

/** `readMigrationBytesSync` of any Python file (`what` it is, for the size limit's message). */
export function readSourceBytesSync(file: string, maxFileSize: number, what: string): { ok: true; bytes: Buffer } | { ok: false; message: string } {
  let fd: number | null = null;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, message: "not a regular file" };
    if (stat.size > maxFileSize) {
      return { ok: false, message: `file is ${(stat.size / 1048576).toFixed(1)} MiB, over the ${(maxFileSize / 1048576).toFixed(0)} MiB limit for ${what}; not checked` };
    }
    return { ok: true, bytes: readAll(fd, stat.size) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "EACCES" || code === "EPERM"
        ? "cannot read the file: permission denied"
        : code === "ELOOP"
          ? "cannot read the file: symlink loop"
          : code === "ENOENT"
            ? "cannot read the file: it does not exist (a dangling symlink?)"
            : `cannot read the file: ${(error as Error).message}`;
    return { ok: false, message };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Reads an open file: `size` bytes as fstat gave them (as `readFileSync` does), or, when fstat
 * says 0 (some special files), chunks until the end.
 */
function readAll(fd: number, size: number): Buffer {
  if (size === 0) {
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.allocUnsafe(8192);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(chunk.subarray(0, n));
    }
  }
  const buffer = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const n = readSync(fd, buffer, length, size - length, null);
    if (n === 0) return buffer.subarray(0, length);
    length += n;
  }
  return buffer;
}

/** Decodes and parses a file's bytes; never throws on bad input. */
export function parseMigrationBytes(ref: MigrationFileRef, bytes: Uint8Array, operations?: OperationCatalog): LoadedFile {
  let source: string;
  try {
    source = decodePythonSource(bytes);
  } catch (error) {
    if (error instanceof UndecodableSource) {
      return { ok: false, ref, rule: "parse-error", message: `cannot read as Python source: ${error.message}`, line: error.line, column: error.column };
    }
    throw error;
  }
  try {
    const migration = parseMigrationSource(source, { path: ref.path, app: ref.app.label, name: ref.name }, { operations });
    return { ok: true, ref, migration };
  } catch (error) {
    // One file rollsafe fails to read is reported, and the run goes on with the others.
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RangeError && /call stack/i.test(message)) {
      return { ok: false, ref, rule: "parse-error", message: "cannot read: its code nests too deeply to be read (CPython's compiler stops too, with a RecursionError, a few thousand levels deep)", line: 1, column: 1 };
    }
    return { ok: false, ref, rule: "internal-error", message: `rollsafe failed to read this file: ${message}`, line: 1, column: 1 };
  }
}

/** Parses a file from the bytes already read, or reads it first (`bytes` null); never throws on bad input. */
export function loadMigrationFile(ref: MigrationFileRef, bytes: Uint8Array | null, maxFileSize?: number, operations?: OperationCatalog): LoadedFile {
  if (bytes) return parseMigrationBytes(ref, bytes, operations);
  const read = readMigrationBytesSync(ref, maxFileSize);
  return read.ok ? parseMigrationBytes(ref, read.bytes, operations) : read;
}
