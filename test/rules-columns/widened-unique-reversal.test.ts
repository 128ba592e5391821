/**
 * reversing-migration-drops-data on a widened unique or structured column (python.org users 0011,
 * downloads 0006, jobs 0015): cutting values in the reversal would collide on the unique
 * constraint (PostgreSQL 15: duplicate key) or leave invalid addresses, so only the forward fix is
 * offered there.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("widened-unique");
const initial = migrationSource("users", null, [
  'migrations.CreateModel(name="Account", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("username", models.CharField(max_length=30, unique=True)), ("email", models.EmailField(max_length=75)), ("bio", models.CharField(max_length=30))])',
]);

describe("the reversal of a widened column", () => {
  it("offers no shortening for a unique or e-mail column, and still does for a plain one", async () => {
    const dir = projects("users", {
      "0001_initial": initial,
      "0002_widen": migrationSource("users", "0001_initial", [
        'migrations.AlterField("account", "username", models.CharField(max_length=150, unique=True))',
        'migrations.AlterField("account", "email", models.EmailField(max_length=254))',
        'migrations.AlterField("account", "bio", models.CharField(max_length=300))',
      ]),
    });
    const found = (await lint([dir], { cwd: dir, ruleNames: ["reversing-migration-drops-data"] })).diagnostics;
    const help = (column: string) => found.find((d) => d.message.includes(`users_account.${column}`))?.help.join("\n") ?? "";
    expect(found).toHaveLength(3);
    expect(help("username")).toContain("is unique, so values that share their first 30 characters would collide");
    expect(help("username")).not.toContain("Left(");
    expect(help("email")).toContain("a cut address is no longer valid");
    expect(help("email")).not.toContain("Left(");
    expect(help("bio")).toContain('update(bio=Left("bio", 30))');
  });
});
