/**
 * A foreign key to a contrib model the run does not include (settings.AUTH_USER_MODEL left as
 * auth.User, ContentType) names its real table and constraint in advice, not a placeholder.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("contrib");

describe("foreign keys to Django's contrib models", () => {
  it("reference auth_user and django_content_type", async () => {
    const dir = project(
      [
        "import django.db.models.deletion",
        "from django.conf import settings",
        "from django.db import migrations, models",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL), ("contenttypes", "0002_remove_content_type_name"), ("library", "0001_initial")]',
        "    operations = [",
        '        migrations.AddField("book", "owner", models.ForeignKey(null=True, default=1, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),',
        '        migrations.AddField("book", "kind", models.ForeignKey(null=True, default=1, db_index=False, on_delete=django.db.models.deletion.SET_NULL, to="contenttypes.contenttype")),',
        "    ]",
        "",
      ].join("\n"),
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] })).diagnostics;
    const text = found.map((d) => [d.message, ...d.help].join("\n")).join("\n");
    expect(text).not.toContain("<");
    expect(text).toContain('REFERENCES "auth_user" ("id")');
    expect(text).toContain('"library_book_owner_id_3f44f0aa_fk_auth_user_id"');
    expect(text).toContain('REFERENCES "django_content_type" ("id")');
  });

  it("a proxy of a model outside the run has that model's table: re-pointing a foreign key at it changes no column", async () => {
    const dir = project(
      [
        "import django.contrib.auth.models",
        "import django.db.models.deletion",
        "from django.conf import settings",
        "from django.db import migrations, models",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL), ("library", "0001_initial")]',
        "    operations = [",
        '        migrations.AddField("book", "owner", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),',
        "        migrations.CreateModel(",
        '            name="Reader",',
        "            fields=[],",
        '            options={"proxy": True, "indexes": [], "constraints": []},',
        '            bases=("auth.user",),',
        '            managers=[("objects", django.contrib.auth.models.UserManager())],',
        "        ),",
        "    ]",
        "",
      ].join("\n"),
    );
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      `${dir}/library/migrations/0003_reader.py`,
      [
        "import django.db.models.deletion",
        "from django.db import migrations, models",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("library", "0002_fk")]',
        "    operations = [",
        '        migrations.AlterField("book", "owner", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to="library.reader")),',
        "    ]",
        "",
      ].join("\n"),
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] })).diagnostics.filter((d) => d.file.endsWith("0003_reader.py"));
    // Django 4.2's sqlmigrate: DROP CONSTRAINT "library_book_owner_id_3f44f0aa_fk_auth_user_id", then ADD it again REFERENCES "auth_user".
    expect(found.map((d) => d.message)).toEqual([
      "Altering foreign key `Book.owner` drops and re-adds constraint `library_book_owner_id_3f44f0aa_fk_auth_user_id`, checking every row of `library_book` while reads and writes of `library_book` and `auth_user` are blocked.",
    ]);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("run no SQL: the column itself does not change");
    expect(help).not.toContain("library_reader");
  });
});
