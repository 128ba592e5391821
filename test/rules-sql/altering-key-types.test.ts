/**
 * runsql-altering-column-type knows the type of a primary key and of a foreign key column from the
 * state (RapidPro flows 0404 widens Flow.id and FlowRun.flow_id with RunSQL: they were "cannot
 * tell" warnings), and does not tell a primary key to drop itself.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("altering-key-types");

async function findings(sql: string) {
  const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunSQL(${JSON.stringify(sql)}, reverse_sql=migrations.RunSQL.noop)]
`);
  return (await lint([dir], { cwd: dir, ruleNames: ["runsql-altering-column-type"] })).diagnostics.map((d) => ({ severity: d.severity, message: d.message, help: d.help.join("\n") }));
}

describe("key columns", () => {
  it("reads a foreign key column as its target key's type, and the same type changes nothing", async () => {
    expect(await findings("ALTER TABLE library_book ALTER COLUMN author_id TYPE bigint")).toEqual([]);
    const [narrowed] = await findings("ALTER TABLE library_book ALTER COLUMN author_id TYPE integer");
    expect(narrowed).toMatchObject({ severity: "error" });
    expect(narrowed?.message).toContain("(`Book.author` is int8)");
  });

  it("reads a primary key's type, and advises the key swap rather than a drop", async () => {
    const [key] = await findings("ALTER TABLE library_author ALTER COLUMN id TYPE integer");
    expect(key).toMatchObject({ severity: "error" });
    expect(key?.message).toContain("(`Author.id` is int8)");
    expect(key?.help).toContain("is the primary key");
    expect(key?.help).not.toContain("drop `id`");
  });
});
