/**
 * django-postgres-extra's `PostgresCreatePartitionedModel` is `CreateModel` with a partitioned
 * table (GlitchTip's IssueEvent and IssueTag): the model enters Django's state, so later
 * operations on it are checked, and the index rules give the per-partition recipe, since
 * PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";

const root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-psqlextra-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const INITIAL = `import psqlextra.backend.migrations.operations.create_partitioned_model
import psqlextra.types
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        psqlextra.backend.migrations.operations.create_partitioned_model.PostgresCreatePartitionedModel(
            name="IssueEvent",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("timestamp", models.DateTimeField()),
                ("title", models.CharField(max_length=255)),
            ],
            partitioning_options={"method": psqlextra.types.PostgresPartitioningMethod["RANGE"], "key": ["timestamp"]},
        ),
    ]
`;

const LATER = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]
    operations = [
        migrations.AddField("issueevent", "level", models.IntegerField()),
        migrations.AddIndex("issueevent", models.Index(fields=["title"], name="issueevent_title_idx")),
    ]
`;

describe("django-postgres-extra's partitioned models", () => {
  it("are in Django's state and partitioned: later operations are checked, with the per-partition index recipe", async () => {
    const migrations = path.join(root, "events", "migrations");
    mkdirSync(migrations, { recursive: true });
    writeFileSync(path.join(migrations, "__init__.py"), "");
    writeFileSync(path.join(migrations, "0001_initial.py"), INITIAL);
    writeFileSync(path.join(migrations, "0002_more.py"), LATER);
    const { diagnostics } = await lint([root], { cwd: root, ruleNames: ["adding-not-nullable-column", "adding-index-non-concurrently", "unknown-operation", "unresolved-reference"] });
    expect(diagnostics.map((d) => d.rule).sort()).toEqual(["adding-index-non-concurrently", "adding-not-nullable-column"]);
    const index = diagnostics.find((d) => d.rule === "adding-index-non-concurrently");
    expect(index?.help.join("\n")).toContain("`events_issueevent` is partitioned (a `PostgresCreatePartitionedModel` in `events.0001_initial` created it partitioned)");
    expect(index?.help.join("\n")).toContain("ON ONLY");
  });
});
