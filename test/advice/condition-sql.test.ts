/**
 * A conditional UniqueConstraint's recipe builds Django's partial unique index by hand: its
 * columns and its WHERE (PostHog 1149, 1157 had `(...)` there). The SQL was run on PostgreSQL 15.
 */
import { describe, expect, it } from "vitest";
import { conditionSql } from "../../src/advice/condition-sql.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import { analyze } from "../../src/engine/lint.js";
import type { PyValue } from "../../src/model/types.js";
import { libraryProjects } from "../support/library-project.js";

/** The `condition=` of `models.Index(condition=<q>)` as the parser reads it. */
function q(source: string): PyValue | undefined {
  const [op] = parseMigrationSource(
    `from django.db import migrations, models\nfrom django.db.models import Q\n\nclass Migration(migrations.Migration):\n    operations = [migrations.AddIndex("book", models.Index(fields=["title"], name="i", condition=${source}))]\n`,
    { path: "/x/library/migrations/0002_x.py", app: "library", name: "0002_x" },
  ).operations;
  const index = op?.args.index;
  return index?.kind === "call" ? index.kwargs.condition : undefined;
}

const columns: Record<string, string> = { deleted: "deleted", pages: "pages", author: "author_id", author_id: "author_id", title: "title" };
const column = (field: string) => columns[field] ?? null;

describe("conditionSql", () => {
  it("writes lookups on literals joined with AND, in Django's order", () => {
    expect(conditionSql(q("models.Q(pages__gte=10, deleted=False)"), column)).toBe('"deleted" = false AND "pages" >= 10');
    expect(conditionSql(q('Q(author__isnull=False, title__in=["a", "b\'c"])'), column)).toBe(`"author_id" IS NOT NULL AND "title" IN ('a', 'b''c')`);
    expect(conditionSql(q("Q(author_id=None, pages__lt=1_000)"), column)).toBe('"author_id" IS NULL AND "pages" < 1000');
  });

  it("reads the (lookup, value) pairs Django's deconstruct writes for more than one lookup (Pontoon base 0002)", () => {
    expect(conditionSql(q('models.Q(("deleted", False), ("author__isnull", True))'), column)).toBe('"author_id" IS NULL AND "deleted" = false');
    expect(conditionSql(q('Q(("pages__gte", 10), title="x")'), column)).toBe(`"pages" >= 10 AND "title" = 'x'`);
  });

  it("gives up on what it cannot write", () => {
    for (const source of ["Q(deleted=False) | Q(pages=1)", "~Q(deleted=True)", 'Q(pages__gt=models.F("id"))', 'Q(title__startswith="a")', "Q(author__name='x')", "Q(unknown=1)", "Q()", "Q(Q(deleted=False), pages=1)", 'Q(("deleted",))']) {
      expect(conditionSql(q(source), column), source).toBeNull();
    }
  });
});

const project = libraryProjects("condition-sql");

describe("a conditional UniqueConstraint's recipe", () => {
  it("builds the partial unique index with its columns and WHERE, and looks for duplicates under the condition", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddConstraint(
            "book",
            models.UniqueConstraint(fields=["author", "title"], condition=models.Q(pages__isnull=False), name="library_book_title_uniq"),
        ),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-unique-constraint"] });
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "library_book_title_uniq" ON "library_book" ("author_id", "title") WHERE "pages" IS NOT NULL;');
    expect(help).toContain('WHERE "author_id" IS NOT NULL AND "title" IS NOT NULL AND "pages" IS NOT NULL GROUP BY');
    expect(help).not.toContain("(...)");
  });

  it("says a condition's IS NOT NULL of a constrained column once in the duplicates query (RapidPro msgs)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddConstraint(
            "book",
            models.UniqueConstraint(fields=["author", "subtitle"], condition=models.Q(("subtitle__isnull", False)), name="library_book_subtitle_uniq"),
        ),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-unique-constraint"] });
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain('WHERE "author_id" IS NOT NULL AND "subtitle" IS NOT NULL GROUP BY');
  });

  it("writes no duplicates query when it cannot write the condition: without it the query counts rows the constraint leaves out", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddConstraint(
            "book",
            models.UniqueConstraint(fields=["author", "title"], condition=models.Q(pages__isnull=False) | models.Q(subtitle=""), name="library_book_title_uniq"),
        ),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-unique-constraint"] });
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    expect(result.diagnostics).toHaveLength(1);
    expect(help).not.toContain("HAVING COUNT(*) > 1");
  });
});

