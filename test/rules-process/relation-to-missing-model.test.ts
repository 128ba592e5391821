/**
 * pointing-relation-at-missing-model across apps: Django's plan takes the apps' leaves in label
 * order, so a foreign key to a model of an app sorting later, without a dependency on it, meets
 * an empty state on a fresh database (Django 4.2: `ValueError: Related model 'stores.shelf'
 * cannot be resolved`; the harness applies the other app first, so these are tests, not fixture
 * cases). Apps the run does not read are never judged.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("relation-missing-model");

const STORES = `from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(name="Shelf", fields=[("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=20))]),
    ]
`;

async function findings(dependencies: string, operations: string, withStores = true): Promise<string[]> {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [${dependencies}]

    operations = [
${operations}
    ]
`);
  if (withStores) {
    mkdirSync(path.join(dir, "stores/migrations"), { recursive: true });
    writeFileSync(path.join(dir, "stores/__init__.py"), "");
    writeFileSync(path.join(dir, "stores/migrations/__init__.py"), "");
    writeFileSync(path.join(dir, "stores/migrations/0001_initial.py"), STORES);
  }
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["pointing-relation-at-missing-model"] });
  return result.diagnostics.map((d) => `${d.line} ${d.message}`);
}

const SHELF_FK = `        migrations.AddField("book", "shelf", models.ForeignKey("stores.Shelf", models.SET_NULL, null=True)),`;

describe("a relation to a model of another app", () => {
  it("without a dependency on the app that creates it", async () => {
    expect(await findings('("library", "0001_initial")', SHELF_FK)).toEqual([
      "8 `Book.shelf` points at `stores.shelf`, which nothing before this operation in Django's plan creates: `migrate` on a fresh database fails at `library.0002_fk`.",
    ]);
  });

  it("not when either app's history has a gap (netbox ipam 0087 read without 0086): the missing migration may create it", async () => {
    // A dependency of the migration's own app that does not exist.
    expect(await findings('("library", "0001_initial"), ("library", "0001b_missing")', SHELF_FK)).toEqual([]);
    // A dependency on a migration of the target's app that does not exist.
    expect(await findings('("library", "0001_initial"), ("stores", "0002_missing")', SHELF_FK)).toEqual([]);
  });

  it("with the dependency, or to an app the run does not read, or to the model itself", async () => {
    expect(await findings('("library", "0001_initial"), ("stores", "0001_initial")', SHELF_FK)).toEqual([]);
    expect(await findings('("library", "0001_initial")', SHELF_FK, false)).toEqual([]);
    const selfAndUser = `        migrations.CreateModel(
            name="Review",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("parent", models.ForeignKey("self", models.CASCADE, null=True)),
                ("reply_to", models.ForeignKey("library.Review", models.CASCADE, null=True, related_name="+")),
                ("user", models.ForeignKey("auth.User", models.CASCADE)),
            ],
        ),`;
    expect(await findings('("library", "0001_initial")', selfAndUser)).toEqual([]);
  });

  it("not an AlterField with no database side: Django's alter_field returns before it looks at the target (zds tutorialv2 0022)", async () => {
    const operations = [
      SHELF_FK,
      `        migrations.AlterField("book", "shelf", models.ForeignKey("stores.Shelf", models.SET_NULL, null=True, verbose_name="Shelf")),`,
      `        migrations.AlterField("book", "shelf", models.ForeignKey("stores.Shelf", models.SET_NULL)),`,
    ].join("\n");
    expect((await findings('("library", "0001_initial")', operations)).map((f) => f.split(" ")[0])).toEqual(["8", "10"]);
  });

  it("a many-to-many field to a model created further down the same migration", async () => {
    const outOfOrder = `        migrations.CreateModel(name="Series", fields=[("id", models.BigAutoField(primary_key=True)), ("books", models.ManyToManyField("library.Volume"))]),
        migrations.CreateModel(name="Volume", fields=[("id", models.BigAutoField(primary_key=True))]),`;
    expect(await findings('("library", "0001_initial")', outOfOrder, false)).toEqual([
      "8 `Series.books` points at `library.volume`, which nothing before this operation in Django's plan creates: `migrate` on a fresh database fails at `library.0002_fk`.",
    ]);
  });
});

describe("an app label in mixed case (Debian's OmniDB: `OmniDB_app`)", () => {
  it("finds the app's own models: Django's labels are case-sensitive, model names are not", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = []
`);
    mkdirSync(path.join(dir, "OmniDB_app/migrations"), { recursive: true });
    writeFileSync(path.join(dir, "OmniDB_app/__init__.py"), "");
    writeFileSync(path.join(dir, "OmniDB_app/migrations/__init__.py"), "");
    writeFileSync(
      path.join(dir, "OmniDB_app/migrations/0001_initial.py"),
      `from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(name="Technology", fields=[("id", models.AutoField(primary_key=True))]),
        migrations.CreateModel(name="Connection", fields=[("id", models.AutoField(primary_key=True)), ("technology", models.ForeignKey("OmniDB_app.Technology", models.CASCADE))]),
    ]
`,
    );
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["pointing-relation-at-missing-model"] });
    expect(result.diagnostics).toEqual([]);
  });
});
