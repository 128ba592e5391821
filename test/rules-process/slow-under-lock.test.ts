/**
 * running-slow-operation-under-exclusive-lock's second way out, running the slow operation first,
 * holds only when the operation that took the lock is quick: when it is slow work too (two table
 * rewrites in one migration, saleor page 0018), swapping them makes the other table wait instead.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("slow-under-lock");

async function adviceFor(first: string): Promise<string> {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        ${first},
        migrations.AlterField("book", "pages", models.BigIntegerField(null=True)),
    ]
`);
  const found = (await lint([dir], { cwd: dir, ruleNames: ["running-slow-operation-under-exclusive-lock"] })).diagnostics;
  expect(found).toHaveLength(1);
  return found[0]?.help.join("\n") ?? "";
}

describe("running-slow-operation-under-exclusive-lock's advice", () => {
  it("runs the slow operation first only when the lock was taken by quick work", async () => {
    const quick = await adviceFor('migrations.AddField("author", "nickname", models.CharField(max_length=50, null=True))');
    expect(quick).toContain("2. Or run it first: move the operation on line 7 after it");
    const slow = await adviceFor('migrations.AlterField("author", "name", models.BigIntegerField())');
    expect(slow).toContain("2. Swapping the two would not help: the operation on line 7 is slow work too");
    expect(slow).not.toContain("Or run it first");
  });
});
