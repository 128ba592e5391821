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
});
