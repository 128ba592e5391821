/**
 * The functions a RunPython runs: the named one and the module functions it calls, transitively,
 * as Python binds names (a later `def` replaces an earlier one). Several questions about one
 * migration share its index of functions.
 */
import { describe, expect, it } from "vitest";
import { functionsRunBy } from "../../src/engine/run-python-facts.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";

const source = `from django.db import migrations


def helper(apps):
    leaf(apps)


def leaf(apps):
    apps.get_model("shop", "Book").objects.update(pages=0)


def forwards(apps, schema_editor):
    helper(apps)
    forwards(apps, schema_editor)


def other(apps, schema_editor):
    pass


def other(apps, schema_editor):
    leaf(apps)


class Migration(migrations.Migration):
    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(other, migrations.RunPython.noop),
    ]
`;

describe("functionsRunBy", () => {
  const migration = parseMigrationSource(source, { path: "/p/shop/migrations/0002_fill.py", app: "shop", name: "0002_fill" });
  const names = (name: string) => functionsRunBy(migration, name).map((f) => `${f.name}@${f.range.line}`);

  it("follows calls transitively, once each (recursion included)", () => {
    expect(names("forwards")).toEqual(["forwards@12", "helper@4", "leaf@8"]);
    expect(names("helper")).toEqual(["helper@4", "leaf@8"]);
    expect(names("leaf")).toEqual(["leaf@8"]);
  });

  it("takes the last definition of a name, and nothing for an unknown one", () => {
    expect(names("other")).toEqual(["other@21", "leaf@8"]);
    expect(names("missing")).toEqual([]);
    // Asked again, the same answers.
    expect(names("forwards")).toEqual(["forwards@12", "helper@4", "leaf@8"]);
  });
});
