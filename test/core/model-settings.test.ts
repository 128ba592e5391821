import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-model-settings-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

describe("third-party model settings (django-oauth-toolkit)", () => {
  it("a swappable dependency on oauth2_settings.APPLICATION_MODEL is one on the default model's app", () => {
    const m = parseMigrationSource(
      `from django.conf import settings
from django.db import migrations
from oauth2_provider.settings import oauth2_settings

class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
        migrations.swappable_dependency(settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = []
`,
      { path: "/x/shop/migrations/0002_x.py", app: "shop", name: "0002_x" },
    );
    expect(m.dependencies.map((d) => [d.app, d.name, d.swappable])).toEqual([
      ["oauth2_provider", "__first__", undefined],
      ["oauth2_provider", "__first__", undefined],
      ["__setting__", "__first__", "AUTH_USER_MODEL"],
    ]);
  });

  it("a foreign key to oauth2_settings.APPLICATION_MODEL references the Application table", async () => {
    for (const dir of ["oauth2_provider", "oauth2_provider/migrations", "shop", "shop/migrations"]) write(`${dir}/__init__.py`, "");
    for (const [app, model] of [["oauth2_provider", "Application"], ["shop", "Order"]]) {
      write(
        `${app}/migrations/0001_initial.py`,
        `from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(name="${model}", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))]),
    ]
`,
      );
    }
    write(
      "shop/migrations/0002_order_client.py",
      `import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial"), migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL)]
    operations = [
        migrations.AddField(
            model_name="order",
            name="client",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to=oauth2_settings.APPLICATION_MODEL),
        ),
    ]
`,
    );
    const result = await lint([root], { cwd: root });
    const fk = result.diagnostics.filter((d) => d.rule === "adding-foreign-key-constraint");
    expect(fk.map((d) => d.file)).toEqual(["shop/migrations/0002_order_client.py"]);
    expect(fk[0]?.message).toContain("`oauth2_provider_application`");
    expect(fk[0]?.message).not.toContain("<referenced table>");
    expect(result.diagnostics.filter((d) => d.rule === "unresolved-reference" || d.rule === "missing-dependency")).toEqual([]);
  });
});
