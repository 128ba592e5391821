/**
 * A field class rollsafe cannot place (its module is outside the checked tree) that names a `to`
 * model without `on_delete`: a many-to-many relation, since every ForeignKey and OneToOneField
 * takes `on_delete` from Django 2.0 (BookWyrm 0176's `TagField(ManyToManyField)`). It adds a join
 * table, not a NOT NULL column.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("unplaced-relation");

async function rules(field: string): Promise<string[]> {
  const dir = project(`import bookwyrm.models.fields
import django.db.models.deletion
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField(model_name="book", name="tags_new", field=${field}),
    ]
`);
  const { result } = await analyze(["."], { cwd: dir });
  return result.diagnostics.map((d) => d.rule);
}

describe("a field class rollsafe cannot place", () => {
  it("with `to` and no `on_delete` is a many-to-many relation: no column, no NOT NULL finding", async () => {
    expect(await rules('bookwyrm.models.fields.TagField(related_name="tagged", to="library.author")')).toEqual([]);
  });

  it("with `on_delete` too, or without `to`, is read as a column as before", async () => {
    expect(await rules('bookwyrm.models.fields.UserKey(on_delete=django.db.models.deletion.CASCADE, to="library.author")')).toContain("adding-not-nullable-column");
    expect(await rules("bookwyrm.models.fields.PrivacyField(max_length=255)")).toContain("adding-not-nullable-column");
  });
});

describe("a package's field class rollsafe knows", () => {
  it("is read as the Django class it subclasses: VersatileImageField is an ImageField (Funkwhale music 0012)", async () => {
    const dir = project(`import versatileimagefield.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "cover", models.ImageField(null=True, upload_to="covers")),
        migrations.AlterField("book", "cover", versatileimagefield.fields.VersatileImageField(null=True, upload_to="covers")),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["changing-column-type"] });
    // The column stays varchar(100): no "may change the type" warning about a class rollsafe cannot read.
    expect(result.diagnostics).toEqual([]);
  });
});

describe("two field classes of the same name", () => {
  it("are named qualified in changing-column-type's message (BookWyrm 0178: CICharField to a project's CICharField)", async () => {
    const dir = project(`import bookwyrm.models.fields
import django.contrib.postgres.fields.citext
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "tag", django.contrib.postgres.fields.citext.CICharField(max_length=256, null=True)),
        migrations.AlterField("book", "tag", bookwyrm.models.fields.CICharField(max_length=256, null=True)),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["changing-column-type"] });
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "Changing `Book.tag` from `django.contrib.postgres.fields.citext.CICharField` to `bookwyrm.models.fields.CICharField` may change the type of `library_book.tag` (`citext` before), and rollsafe cannot read `bookwyrm.models.fields.CICharField`.",
    ]);
  });
});
