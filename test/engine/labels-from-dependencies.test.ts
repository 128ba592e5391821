/**
 * An app whose apps.py gives no static label, while its migrations name it by another one
 * (kolibri's `kolibri/core/auth` is `kolibriauth`, Misago's `threads` is `misago_threads`): read
 * under the label its migrations use, with a note, instead of every migration being a leaf of an
 * app named after the directory (a false multiple-leaf-migrations error).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("labels-from-dependencies");
const create = 'migrations.CreateModel(name="Facility", fields=[("id", models.AutoField(primary_key=True, serialize=False))])';
const add = (name: string) => `migrations.AddField("facility", "${name}", models.BooleanField(null=True))`;

describe("an app label from its migrations' dependencies", () => {
  it("is read when the migrations never use the directory's name", async () => {
    const dir = projects("auth", {
      "0001_initial": migrationSource("auth", null, [create]),
      "0002_registered": migrationSource("kolibriauth", "0001_initial", [add("registered")]),
      "0003_guest": migrationSource("kolibriauth", "0002_registered", [add("guest")]),
    });
    const result = await lint([dir], { cwd: dir });
    expect(result.diagnostics.map((d) => d.rule)).toEqual([]);
    expect(result.notes).toEqual([expect.stringContaining("read as `kolibriauth`, the label its migrations' dependencies give it")]);
  });

  it("is not read when they use the directory's name, or name another app", async () => {
    const own = projects("auth", {
      "0001_initial": migrationSource("auth", null, [create]),
      "0002_registered": migrationSource("auth", "0001_initial", [add("registered")]),
    });
    expect((await lint([own], { cwd: own })).notes ?? []).toEqual([]);
    // A dependency on another app whose name does not end with the directory's: not a label of this one.
    const other = projects("blog", {
      "0001_initial": migrationSource("blog", null, [create]),
      "0002_registered": migrationSource("stores", "0001_initial", [add("registered")]),
    });
    const result = await lint([other], { cwd: other });
    expect(result.notes ?? []).toEqual([]);
    expect(result.diagnostics.map((d) => d.rule)).toContain("multiple-leaf-migrations");
  });

  it("is read from other apps' dependencies when the app's own migrations name no label (Misago conf 0001)", async () => {
    const dir = projects("conf", { "0001_initial": migrationSource("conf", null, [create]) });
    const threads = path.join(dir, "threads", "migrations");
    mkdirSync(threads, { recursive: true });
    writeFileSync(path.join(dir, "threads", "__init__.py"), "");
    writeFileSync(path.join(threads, "__init__.py"), "");
    writeFileSync(path.join(threads, "0001_initial.py"), migrationSource("misago_conf", "0001_initial", ['migrations.CreateModel(name="Thread", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("facility", models.ForeignKey(on_delete=models.CASCADE, to="misago_conf.facility"))])']));
    const result = await lint([dir], { cwd: dir, ruleNames: ["pointing-relation-at-missing-model", "missing-dependency"] });
    expect(result.notes).toEqual([expect.stringContaining("The app in conf read as `misago_conf`, the label other apps' migrations depend on it by")]);
    expect(result.diagnostics).toEqual([]);
    // Not for a label that merely ends with the directory's name, nor one naming a migration the app lacks.
    writeFileSync(path.join(threads, "0001_initial.py"), migrationSource("misago_conf", "0002_other", []));
    expect((await lint([dir], { cwd: dir })).notes ?? []).toEqual([]);
    writeFileSync(path.join(threads, "0001_initial.py"), migrationSource("myconf", "0001_initial", []));
    expect((await lint([dir], { cwd: dir })).notes ?? []).toEqual([]);
  });
});
