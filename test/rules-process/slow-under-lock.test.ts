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

describe("an index build on a table the migration holds locked", () => {
  const migration = (operations: string) => `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${operations}
    ]
`;
  const index = '        migrations.AddIndex("book", models.Index(fields=["title"], name="book_title_idx")),';
  const rulesAt = async (dir: string, ruleNames?: string[]) =>
    (await lint([dir], { cwd: dir, ...(ruleNames ? { ruleNames } : {}) })).diagnostics.filter((d) => d.line === 8).map((d) => d.rule).sort();

  it("is adding-index-non-concurrently's finding alone when the lock is on the same table (Tandoor 0143: 19 repeats)", async () => {
    const dir = project(migration(`        migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True)),\n${index}`));
    expect(await rulesAt(dir)).toEqual(["adding-index-non-concurrently"]);
    const found = (await lint([dir], { cwd: dir })).diagnostics.find((d) => d.rule === "adding-index-non-concurrently");
    expect(found?.message).toContain("the ACCESS EXCLUSIVE lock taken earlier for adding column `isbn` is still held");
    expect(found?.help[0]).toContain("(`running-slow-operation-under-exclusive-lock`)");
  });

  it("says how many other tables stay locked through the build", async () => {
    const dir = project(migration(`        migrations.AddField("author", "nickname", models.CharField(max_length=50, null=True)),\n        migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True)),\n${index}`));
    const found = (await lint([dir], { cwd: dir })).diagnostics.filter((d) => d.line === 9);
    expect(found.map((d) => d.rule)).toEqual(["adding-index-non-concurrently"]);
    expect(found[0]?.help[0]).toContain("as are the migration's locks on 1 more table, whose reads wait too");
  });

  it("keeps both findings when the lock is on another table, and this rule's when the other is not shown", async () => {
    const other = project(migration(`        migrations.AddField("author", "nickname", models.CharField(max_length=50, null=True)),\n${index}`));
    expect(await rulesAt(other)).toEqual(["adding-index-non-concurrently", "running-slow-operation-under-exclusive-lock"]);
    const same = project(migration(`        migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True)),\n${index}`));
    expect(await rulesAt(same, ["running-slow-operation-under-exclusive-lock"])).toEqual(["running-slow-operation-under-exclusive-lock"]);
  });
});
