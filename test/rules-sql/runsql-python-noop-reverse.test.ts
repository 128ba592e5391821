/**
 * runsql-without-reverse-sql on `reverse_sql=RunPython.noop` (Misago threads 0019): Django's
 * `RunSQL._run_sql` hands the function to `prepare_sql_script`, whose sqlparse raises TypeError
 * before any SQL reaches the database (checked with Django 4.2), not a syntax error.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("python-noop-reverse");

describe("reverse_sql=RunPython.noop", () => {
  it("says the reversal fails with a TypeError, and how to write the no-op", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL("UPDATE library_book SET pages = 0 WHERE pages IS NULL", migrations.RunPython.noop),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["runsql-without-reverse-sql"] });
    expect(result.diagnostics.map((d) => d.message)).toEqual(["`reverse_sql` is `RunPython.noop`, a Python function, so unapplying `0002_fk` fails with a `TypeError`."]);
    expect(result.diagnostics[0]?.help[0]).toContain("TypeError: Expected text or file-like object, got <class 'function'>");
    expect(result.diagnostics[0]?.help[1]).toContain("reverse_sql=migrations.RunSQL.noop,");
  });
});
