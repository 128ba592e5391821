/**
 * Discovery's directory walk: only the given roots and symlinked directories are resolved with
 * `realpath`; a plain subdirectory's real path is its parent's plus its name. Whichever way a
 * directory is reached (a root, a nested root, a symlink), it is walked once.
 */
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { discover } from "../../src/discover/find-apps.js";

function app(root: string, rel: string, migrations: string[]): void {
  const dir = path.join(root, rel, "migrations");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "__init__.py"), "");
  for (const name of migrations) writeFileSync(path.join(dir, `${name}.py`), "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    operations = []\n");
}

describe("discovery walk", () => {
  it("finds each app once, however often and however its directory is reached", async () => {
    const base = realpathSync(mkdtempSync(path.join(tmpdir(), "rollsafe-walk-")));
    const project = path.join(base, "project");
    app(project, "shop/orders", ["0001_initial", "0002_more"]);
    app(project, "library", ["0001_initial"]);
    // Translation catalogues: many plain directories, none of them an app.
    for (const lang of ["de", "fr", "pt_BR"]) mkdirSync(path.join(project, "library/locale", lang, "LC_MESSAGES"), { recursive: true });
    // An app outside the project, reached through a symlinked directory, and an alias of an app inside it.
    app(base, "vendor/billing", ["0001_initial"]);
    symlinkSync(path.join(base, "vendor"), path.join(project, "vendored"));
    symlinkSync(path.join(project, "shop"), path.join(project, "library/shop-alias"));

    const found = await discover([project, path.join(project, "shop"), path.join(project, "library/shop-alias/orders")]);
    expect(found.problems).toEqual([]);
    // The walk goes in name order, so `library/shop-alias` reaches the orders app before `shop`
    // does: that first path names it, and the other two ways in are not walked again.
    expect(found.apps.map((a) => path.relative(base, a.dir))).toEqual(["project/library", "project/library/shop-alias/orders", "project/vendored/billing"]);
    expect(found.files.map((f) => `${f.app.label}.${f.name}`)).toEqual(["library.0001_initial", "orders.0001_initial", "orders.0002_more", "billing.0001_initial"]);
    expect(new Set(found.files.map((f) => f.path)).size).toBe(found.files.length);
  });

  it("does not list translation catalogue trees, but walks packages named locale and paths given", async () => {
    const base = realpathSync(mkdtempSync(path.join(tmpdir(), "rollsafe-walk-")));
    app(base, "library", ["0001_initial"]);
    for (const lang of ["de", "pt_BR"]) {
      mkdirSync(path.join(base, "library/locale", lang, "LC_MESSAGES"), { recursive: true });
      writeFileSync(path.join(base, "library/locale", lang, "LC_MESSAGES/django.po"), "");
    }
    // Neither a catalogue directory nor a `locale` directory that is not a package holds an
    // importable app; a package named `locale` (an app, or apps inside it) is walked as usual.
    app(base, "library/locale/de/LC_MESSAGES/odd", ["0001_initial"]);
    app(base, "library/locale/regions", ["0001_initial"]);
    app(base, "locale", ["0001_initial"]);
    app(base, "locale/regions", ["0001_initial"]);
    app(base, "locale/de/LC_MESSAGES/odd", ["0001_initial"]);
    writeFileSync(path.join(base, "locale/__init__.py"), "");

    const found = await discover([base]);
    expect(found.problems).toEqual([]);
    expect(found.apps.map((a) => path.relative(base, a.dir))).toEqual(["library", "locale", "locale/regions"]);
    // A catalogue tree given by path is walked all the same.
    const given = await discover([path.join(base, "library/locale")]);
    expect(given.apps.map((a) => path.relative(base, a.dir))).toEqual(["library/locale/regions"]);
  });

  it("does not list template, static or upload trees that are not packages, nor symlinks to them", async () => {
    const base = realpathSync(mkdtempSync(path.join(tmpdir(), "rollsafe-walk-")));
    app(base, "library", ["0001_initial"]);
    for (const tree of ["templates", "static", "staticfiles", "media"]) {
      mkdirSync(path.join(base, "library", tree, "library/admin"), { recursive: true });
      // No app inside a directory that is not a package can be imported.
      app(base, `library/${tree}/odd`, ["0001_initial"]);
    }
    // Packages of those names are walked: an app called static, and apps inside a media package.
    app(base, "static", ["0001_initial"]);
    writeFileSync(path.join(base, "static/__init__.py"), "");
    app(base, "media/uploads", ["0001_initial"]);
    writeFileSync(path.join(base, "media/__init__.py"), "");
    // The rule goes by name: a symlink named `templates` is left out, one named otherwise is
    // walked (and reaches the app inside the static tree it points to).
    mkdirSync(path.join(base, "vendor"));
    symlinkSync(path.join(base, "library/templates"), path.join(base, "vendor/templates"));
    symlinkSync(path.join(base, "library/static"), path.join(base, "library/assets-link"));

    const found = await discover([base]);
    expect(found.problems).toEqual([]);
    expect(found.apps.map((a) => path.relative(base, a.dir))).toEqual(["library", "library/assets-link/odd", "media/uploads", "static"]);
    // Given by path, such a tree is walked all the same.
    const given = await discover([path.join(base, "library/templates")]);
    expect(given.apps.map((a) => path.relative(base, a.dir))).toEqual(["library/templates/odd"]);
  });
});
