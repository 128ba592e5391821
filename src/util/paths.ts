import path from "node:path";

/**
 * Whether a path that `path.relative` gave leads outside the directory it is relative to: `..`,
 * `../…`, or another root (Windows). A name that only starts with two dots (`..hidden/x.py`) is
 * inside.
 */
export function leavesBase(rel: string): boolean {
  return rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}
