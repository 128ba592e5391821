/**
 * `displayPath` answers a normalised path under the working directory without `path.relative`;
 * every other path goes through it. Both give what `path.relative` gives. `leavesBase` tells a
 * path outside its base from one inside whose first name starts with two dots.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { displayPath } from "../../src/engine/lint.js";
import { leavesBase, resolveFrom } from "../../src/util/paths.js";

/** Relative to cwd with `/` by path.relative, or absolute when outside it (`..`, `../…`, another root). */
function reference(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  if (rel === "" || rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return file.split(path.sep).join("/");
  return rel.split(path.sep).join("/");
}

const CWDS = ["/work/project", "/work/project/", "/", "/work/./project", "/work/other/../project", "relative/dir", "."];
const FILES = [
  "/work/project/shop/migrations/0001_initial.py",
  "/work/project",
  "/work/project/",
  "/work/projectile/x.py",
  "/work/project/../secret.py",
  "/work/project/./shop/0001.py",
  "/work/project//shop/0001.py",
  "/work/project/shop/",
  "/elsewhere/app/migrations/0002_x.py",
  "/work/project/..hidden/0001.py",
  "/work/project/shop/.../0001.py",
  "shop/migrations/0001_initial.py",
  path.resolve("shop/migrations/0003.py"),
];

describe("displayPath", () => {
  it("gives what path.relative gives, for paths under the working directory and any other", () => {
    for (const cwd of CWDS) {
      for (const file of FILES) expect(displayPath(cwd, file), `${cwd} ${file}`).toBe(reference(cwd, file));
    }
  });

  it("shows a directory named like `..hidden` inside the working directory as relative", () => {
    expect(displayPath("/work/project", "/work/project/..hidden/0001.py")).toBe("..hidden/0001.py");
    expect(displayPath("/work/project/shop", "/work/project/..hidden/0001.py")).toBe("/work/project/..hidden/0001.py");
  });

  it("gives the same answer again from what it worked out", () => {
    expect(displayPath("/work/project", "/work/project/a/b.py")).toBe("a/b.py");
    expect(displayPath("/work/project", "/work/project/a/b.py")).toBe("a/b.py");
    expect(displayPath("/work/project/a", "/work/project/a/b.py")).toBe("b.py");
  });
});

describe("leavesBase", () => {
  it("is true for `..`, `../…` and another root, and false for a name that starts with two dots", () => {
    expect(leavesBase("..")).toBe(true);
    expect(leavesBase(`..${path.sep}x.py`)).toBe(true);
    expect(leavesBase(path.resolve("/elsewhere"))).toBe(true);
    expect(leavesBase("..hidden/x.py")).toBe(false);
    expect(leavesBase("shop/migrations/0001.py")).toBe(false);
    expect(leavesBase("")).toBe(false);
  });
});

describe("resolveFrom", () => {
  it("is path.resolve, whether or not the paths need normalising", () => {
    const cwds = ["/", "/work/project", "/work/project/", "/work//project", "/work/./project", "/work/a/../project", "/work/.hidden", "/work/..x"];
    const paths = ["", ".", "..", "./shop", "shop", "shop/", "shop//migrations", "shop/./migrations", "shop/../other", "../shop", "/abs/shop", "/abs/../shop", ".hidden/shop", "..x/shop", "shop/..y", "shop/.../z", "a b/ä"];
    for (const cwd of cwds) for (const p of paths) expect(resolveFrom(cwd, p), `${cwd} + ${p}`).toBe(path.resolve(cwd, p));
  });
});
