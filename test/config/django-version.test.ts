import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { detectDjangoVersion, detectDjangoVersionIn, djangoSpecifiers, lowestPep440, lowestPoetry } from "../../src/config/django-version.js";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "rollsafe-django-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("constraints pin to their lowest allowed version", () => {
  it.each([
    ["==4.2.7", [4, 2]],
    [">=4.2,<5", [4, 2]],
    ["~=5.0", [5, 0]],
    ["<5,>=4.1", [4, 1]],
    [">4.2", [4, 2]],
    ["==4.2.*", [4, 2]],
    ["<5", null],
    ["!=4.0", null],
    ["", null],
  ])("PEP 440 %s", (spec, expected) => {
    expect(lowestPep440(spec)).toEqual(expected);
  });

  it.each([
    ["^4.2", [4, 2]],
    ["~4.2.3", [4, 2]],
    ["4.2.*", [4, 2]],
    [">=4.2,<5.0", [4, 2]],
    [">=4.2 <5.0", [4, 2]],
    ["5.0", [5, 0]],
    ["^4.2 || ^5.0", [4, 2]],
    ["*", null],
  ])("Poetry %s", (spec, expected) => {
    expect(lowestPoetry(spec)).toEqual(expected);
  });

  it("reads only Django's own requirement lines", () => {
    expect(djangoSpecifiers("Django==4.2.7")).toBe("==4.2.7");
    expect(djangoSpecifiers("django[argon2]>=4.2 ; python_version >= '3.10'")).toBe(">=4.2");
    expect(djangoSpecifiers("django (>=4.2)")).toBe(">=4.2");
    expect(djangoSpecifiers("django-filter==23.1")).toBeNull();
    expect(djangoSpecifiers("djangorestframework>=3.14")).toBeNull();
  });
});

describe("each file kind", () => {
  it.each([
    ["requirements.txt", { "requirements.txt": "psycopg2\nDjango==4.2.7 --hash=sha256:abc\n" }, [4, 2], "requirements.txt"],
    ["requirements/*.txt (the lowest of the files)", { "requirements/base.txt": "django>=4.2,<5\n", "requirements/next.txt": "django~=5.0\n" }, [4, 2], "requirements/base.txt"],
    ["PEP 621 pyproject.toml", { "pyproject.toml": '[project]\nname = "x"\ndependencies = ["django-environ", "Django~=5.0"]\n' }, [5, 0], "pyproject.toml"],
    ["Poetry pyproject.toml", { "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\ndjango = "^4.2"\n' }, [4, 2], "pyproject.toml"],
    ["Poetry table form", { "pyproject.toml": '[tool.poetry.dependencies]\nDjango = { version = ">=5.1,<6", extras = ["argon2"] }\n' }, [5, 1], "pyproject.toml"],
    ["setup.cfg", { "setup.cfg": "[metadata]\nname = x\n\n[options]\ninstall_requires =\n    requests\n    Django>=3.2\n" }, [3, 2], "setup.cfg"],
    ["poetry.lock", { "poetry.lock": '[[package]]\nname = "asgiref"\nversion = "3.8.1"\n\n[[package]]\nname = "django"\nversion = "4.2.11"\n' }, [4, 2], "poetry.lock"],
    ["uv.lock", { "uv.lock": 'version = 1\n\n[[package]]\nname = "django"\nversion = "5.1.4"\nsource = { registry = "https://pypi.org/simple" }\n' }, [5, 1], "uv.lock"],
    ["Pipfile.lock", { "Pipfile.lock": JSON.stringify({ _meta: {}, default: { django: { version: "==4.1.13" } } }) }, [4, 1], "Pipfile.lock"],
  ])("%s", (_name, files, version, file) => {
    const dir = project(files as Record<string, string>);
    const found = detectDjangoVersionIn(dir);
    expect(found?.version).toEqual(version);
    expect(path.relative(dir, found?.file ?? "")).toBe(file);
  });

  it("declared constraints win over lock files", () => {
    const dir = project({ "pyproject.toml": '[project]\ndependencies = ["Django>=4.2"]\n', "uv.lock": '[[package]]\nname = "django"\nversion = "5.2.1"\n' });
    expect(detectDjangoVersionIn(dir)?.version).toEqual([4, 2]);
  });

  it("walks up from the checked path, and finds nothing in a bare project", () => {
    const dir = project({ "requirements.txt": "Django==5.0.3\n", "shop/migrations/__init__.py": "", ".git/HEAD": "" });
    expect(detectDjangoVersion(path.join(dir, "shop/migrations"), null)?.version).toEqual([5, 0]);
    const bare = project({ "shop/migrations/__init__.py": "", ".git/HEAD": "" });
    expect(detectDjangoVersion(path.join(bare, "shop"), null)).toBeNull();
  });

  it("stops at a `.git` file (a worktree or a submodule) and skips a dependency file's name held by a directory", () => {
    const outer = project({ "requirements.txt": "Django==3.2\n" });
    const dir = path.join(outer, "repo");
    mkdirSync(path.join(dir, "shop/migrations"), { recursive: true });
    writeFileSync(path.join(dir, ".git"), "gitdir: ../.git/worktrees/repo\n");
    expect(detectDjangoVersion(path.join(dir, "shop"), null)).toBeNull();
    mkdirSync(path.join(dir, "shop/pyproject.toml"));
    writeFileSync(path.join(dir, "shop/requirements.in"), "django>=4.1\n");
    expect(detectDjangoVersion(path.join(dir, "shop/migrations"), null)).toMatchObject({ version: [4, 1], file: path.join(dir, "shop/requirements.in") });
  });

  it("finds nothing in a directory it cannot list", () => {
    expect(detectDjangoVersionIn(path.join(tmpdir(), "rollsafe-no-such-directory"))).toBeNull();
  });
});
