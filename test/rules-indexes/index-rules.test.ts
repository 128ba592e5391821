/**
 * The index, constraint and transaction rules: Django's derived names (checked against
 * `sqlmigrate` output of Django 4.2 on PostgreSQL 15), and behaviour on non-default targets.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { resolveRun } from "../../src/config/resolve-options.js";
import { djangoIndexName, djangoModelIndexName, likeIndexOpclass } from "../../src/advice/snippets.js";
import { postgresConstraintName } from "../../src/state/model-state.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const appProject = appProjects("index-names");

const MINE = [
  "adding-index-non-concurrently",
  "adding-unique-constraint",
  "adding-check-constraint",
  "validating-constraint-in-same-transaction",
  "adding-foreign-key-constraint",
  "adding-exclusion-constraint",
  "removing-index-non-concurrently",
  "running-concurrent-operation-in-transaction",
];

function caseDir(rule: string, kind: "bad" | "good", name: string): string {
  return path.join(RULE_FIXTURES, rule, kind, name);
}

/** The findings of these rules for a case, run with the case's own configuration (as the CLI would) and `target` on top. */
async function findings(dir: string, target?: Parameters<typeof lint>[1] extends infer O ? (O extends { target?: infer T } ? T : never) : never) {
  const run = resolveRun([dir], {}, dir);
  const result = await lint([dir], { ...run.options, cwd: dir, target: { ...run.options.target, ...target } });
  return result.diagnostics.filter((d) => MINE.includes(d.rule)).map((d) => ({ line: d.line, rule: d.rule, severity: d.severity, message: d.message, help: d.help.join("\n") }));
}

describe("Django's derived names", () => {
  // Every expected name below was printed by `python3 manage.py sqlmigrate` (Django 4.2, PostgreSQL 15).
  it("field indexes and their _like twins", () => {
    expect(djangoIndexName("library_book", ["title"])).toBe("library_book_title_fccd0c46");
    expect(djangoIndexName("library_book", ["title"], "_like")).toBe("library_book_title_fccd0c46_like");
    expect(djangoIndexName("library_book", ["slug"])).toBe("library_book_slug_c4f98edd");
    expect(djangoIndexName("library_book", ["notes"], "_like")).toBe("library_book_notes_98b2d587_like");
  });

  it("unique, together, check and foreign-key names", () => {
    expect(djangoIndexName("library_book", ["subtitle"], "_uniq")).toBe("library_book_subtitle_88a5a8a7_uniq");
    expect(djangoIndexName("library_book", ["title", "author_id"], "_uniq")).toBe("library_book_title_author_id_1c0ac942_uniq");
    expect(djangoIndexName("library_book", ["title", "pages"], "_idx")).toBe("library_book_title_pages_9161bc20_idx");
    expect(djangoIndexName("library_book", ["pages"], "_check")).toBe("library_book_pages_69a0530f_check");
    expect(djangoIndexName("library_book", ["editor_id"], "_fk_library_author_id")).toBe("library_book_editor_id_03910eb0_fk_library_author_id");
    expect(djangoIndexName("library_book", ["mentor_id"], "_fk_library_author_id")).toBe("library_book_mentor_id_0bb397f0_fk_library_author_id");
  });

  it("shortens long names the way _create_index_name does, within 63 characters", () => {
    const table = "inventory_warehouse_stock_movement_history_entry";
    const name = djangoIndexName(table, ["destination_location_identifier"], "_fk_inventory_warehouse_location_id");
    // Printed by Django 4.2's `schema_editor._create_index_name` on PostgreSQL.
    expect(name).toBe("inventory_warehouse__destination_location_47e1597c_fk_inventory");
  });

  it("keeps MySQL's 64 characters (evennia objects 0007: a foreign-key name of exactly 64)", async () => {
    const dir = appProject("objects", {
      "0001_initial": migrationSource("objects", null, [
        'migrations.CreateModel(name="AccountDB", fields=[("id", models.AutoField(primary_key=True, serialize=False))], options={"db_table": "accounts_accountdb"})',
        'migrations.CreateModel(name="ObjectDB", fields=[("id", models.AutoField(primary_key=True, serialize=False))])',
      ]),
      "0002_account": migrationSource("objects", "0001_initial", ['migrations.AddField("objectdb", "db_account", models.ForeignKey(null=True, on_delete=models.SET_NULL, to="objects.accountdb"))']),
    });
    const names = async (database: "postgresql" | "mysql") =>
      (await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"], target: { database } })).diagnostics.map((d) => /(objects_objectdb_db_account_id_\w+_fk_\w*)/.exec([d.message, ...d.help].join("\n"))?.[1]);
    expect(await names("mysql")).toEqual(["objects_objectdb_db_account_id_96637bfb_fk_accounts_accountdb_id"]);
    // A run on PostgreSQL sets 63 again.
    await names("postgresql");
    expect(djangoIndexName("objects_objectdb", ["db_account_id"], "_fk_accounts_accountdb_id")).toBe("objects_objectdb_db_account_id_96637bfb_fk_accounts_");
  });

  it("shortens a long _like name with its suffix counted, not as the plain name plus _like (Read the Docs organizations 0015)", () => {
    // Printed by Django 4.2's `_create_index_name` on PostgreSQL.
    expect(djangoIndexName("organizations_historicalorganization", ["extra_history_user_username"])).toBe("organizations_historicalor_extra_history_user_usernam_e106c501");
    expect(djangoIndexName("organizations_historicalorganization", ["extra_history_user_username"], "_like")).toBe("organizations_historical_extra_history_user_usern_e106c501_like");
  });

  it("names the long _like index in the findings and recipes that drop, rebuild or build it", async () => {
    const field = (indexed: boolean) => `models.CharField(max_length=150, null=True${indexed ? ", db_index=True" : ""})`;
    const dir = appProject("organizations", {
      "0001_initial": migrationSource("organizations", null, [`migrations.CreateModel(name="HistoricalOrganization", fields=[("id", models.BigAutoField(primary_key=True)), ("extra_history_user_username", ${field(true)})])`]),
      "0002_drop_index": migrationSource("organizations", "0001_initial", [`migrations.AlterField("historicalorganization", "extra_history_user_username", ${field(false)})`]),
      "0003_add_index": migrationSource("organizations", "0002_drop_index", [`migrations.AlterField("historicalorganization", "extra_history_user_username", ${field(true)})`]),
    });
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["removing-index-non-concurrently", "adding-index-non-concurrently"] });
    const text = diagnostics.map((d) => [d.message, ...d.help].join("\n")).join("\n");
    expect(text).toContain("organizations_historical_extra_history_user_usern_e106c501_like");
    expect(text).not.toContain("organizations_historicalor_extra_history_user_usernam_e106c501_like");
    expect(diagnostics.map((d) => d.rule).sort()).toEqual(["adding-index-non-concurrently", "removing-index-non-concurrently"]);
  });

  it("names an index declared without a name as Index.set_name_with_model does, within 30 characters", () => {
    // Printed by Django 4.2's `Index(fields=...).set_name_with_model(Book)` (db_table library_book).
    expect(djangoModelIndexName("library_book", ["title", "pages"])).toBe("library_boo_title_e482d4_idx");
    expect(djangoModelIndexName("library_book", ["-pages"])).toBe("library_boo_pages_b10669_idx");
    expect(djangoModelIndexName("library_book", ["publisher_id"])).toBe("library_boo_publish_41ba94_idx");
  });

  it("names inline PRIMARY KEY and UNIQUE constraints as PostgreSQL does", () => {
    // Each name below was read from pg_constraint on PostgreSQL 15 after Django 4.2's CREATE TABLE
    // and ADD COLUMN: shortened to 63 bytes (the longer part first, at a character boundary),
    // numbered on a clash.
    expect(postgresConstraintName("app_p", "code", "key")).toBe("app_p_code_key");
    expect(postgresConstraintName("x".repeat(63), null, "pkey")).toBe(`${"x".repeat(58)}_pkey`);
    const table = "a_table_whose_name_is_quite_long_to_see_truncation_happen";
    const taken = new Set<string>();
    for (const column of ["one", "two", "tri"].map((n) => `a_rather_long_column_name_for_the_reference_code_${n}`)) taken.add(postgresConstraintName(table, column, "key", taken));
    expect([...taken]).toEqual([
      "a_table_whose_name_is_quite_l_a_rather_long_column_name_for_key",
      "a_table_whose_name_is_quite_l_a_rather_long_column_name_fo_key1",
      "a_table_whose_name_is_quite_l_a_rather_long_column_name_fo_key2",
    ]);
    expect(postgresConstraintName(table, "code", "key")).toBe("a_table_whose_name_is_quite_long_to_see_truncation_hap_code_key");
    expect(postgresConstraintName("tëst_ünïcödé_täblé_nämé_wïth_äccénts", "é".repeat(33), "key")).toBe("tëst_ünïcödé_täblé_nä_éééééééééééééé_key");
  });

  it("knows which columns get a pattern-ops index", () => {
    const field = (type: string, kwargs = {}) => ({ type, relation: null, kwargs });
    expect(likeIndexOpclass(field("CharField"))?.opclass).toBe("varchar_pattern_ops");
    expect(likeIndexOpclass(field("SlugField"))?.opclass).toBe("varchar_pattern_ops");
    expect(likeIndexOpclass(field("TextField"))?.opclass).toBe("text_pattern_ops");
    expect(likeIndexOpclass(field("IntegerField"))).toBeNull();
    expect(likeIndexOpclass({ type: "ForeignKey", relation: {}, kwargs: {} })).toBeNull();
    expect(likeIndexOpclass(field("CharField", { db_collation: { kind: "str", value: "x" } }))?.certain).toBe(false);
  });
});

describe("advice uses the real names", () => {
  it("builds both the index and the _like index for db_index on a CharField", async () => {
    const found = await findings(caseDir("adding-index-non-concurrently", "bad", "add-index"));
    const title = found.find((f) => f.message.includes("Book.title"));
    expect(title?.help).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_book_title_fccd0c46" ON "library_book" ("title");');
    expect(title?.help).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_book_title_fccd0c46_like" ON "library_book" ("title" varchar_pattern_ops);');
    expect(title?.help).toContain("atomic = False");
  });

  it("attaches unique indexes with USING INDEX, and writes the duplicates query", async () => {
    const found = await findings(caseDir("adding-unique-constraint", "bad", "constraints"));
    const together = found.find((f) => f.message.includes("book_title_author_uniq"));
    expect(together?.help).toContain('ADD CONSTRAINT "book_title_author_uniq" UNIQUE USING INDEX "book_title_author_uniq"');
    expect(together?.help).toContain('GROUP BY "title", "author_id" HAVING COUNT(*) > 1');
    const partial = found.find((f) => f.message.includes("book_subtitle_partial_uniq"));
    expect(partial?.message).toContain("SHARE lock");
    expect(partial?.help).not.toContain("USING INDEX");
  });

  it("adds a column a default fills nullable and empty, backfills it, then makes it NOT NULL and unique; a column every row leaves NULL has no duplicates", async () => {
    const found = await findings(caseDir("adding-unique-constraint", "bad", "new-column"));
    const uuid = found.find((f) => f.message.includes("Book.uuid"));
    expect(uuid?.help).toContain("field=models.UUIDField(editable=False, unique=False, null=True),");
    expect(uuid?.help).toContain("`uuid.uuid4()` per row");
    expect(uuid?.help).not.toContain("remove existing ones");
    // NOT NULL through a validated CHECK, before the concurrent build, in that order.
    const help = uuid?.help ?? "";
    const order = ['CHECK ("uuid" IS NOT NULL) NOT VALID', 'ALTER COLUMN "uuid" SET NOT NULL', 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "library_book_uuid_9eafdba6_uniq"'].map((s) => help.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const managed = found.find((f) => f.message.includes("Book.managed"));
    expect(managed?.message).not.toContain("duplicates");
    expect(managed?.help).toContain("NULL in every existing row");
  });

  it("splits a foreign key into column, concurrent index, NOT VALID and VALIDATE", async () => {
    // No default: the column comes with its constraint, unchecked; only the index is split off.
    const found = await findings(caseDir("adding-foreign-key-constraint", "bad", "fk"));
    const editor = found.find((f) => f.message.includes("Book.editor"));
    expect(editor?.message).toContain("builds its index `library_book_editor_id_03910eb0` while holding ACCESS EXCLUSIVE on `library_book`");
    expect(editor?.help).toContain('related_name="+", to="library.author", db_index=False)');
    expect(editor?.help).not.toContain("db_constraint=False");
    expect(editor?.help).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_book_editor_id_03910eb0"');
    expect(editor?.help).not.toContain("NOT VALID");
    const mentor = found.find((f) => f.message.includes("Book.mentor"));
    expect(mentor?.help).toContain('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "library_book_mentor_id_key"');
    // A default: PostgreSQL checks every row, so the constraint is left out and added NOT VALID.
    const defaulted = (await findings(caseDir("adding-foreign-key-constraint", "bad", "default-without-index"))).find((f) => f.rule === "adding-foreign-key-constraint");
    expect(defaulted?.message).toContain("checking every row of `library_book`");
    expect(defaulted?.help).toContain(`to="library.author", db_constraint=False, db_index=False)`);
    expect(defaulted?.help).toContain('FOREIGN KEY ("editor_id") REFERENCES "library_author" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID');
    expect(defaulted?.help).toContain('VALIDATE CONSTRAINT "library_book_editor_id_03910eb0_fk_library_author_id"');
  });
});

describe("names a field's unique constraint as it was made", () => {
  it("PostgreSQL's name for one made with the column, Django's _uniq for one an AlterField added, through renames", async () => {
    // The DROP CONSTRAINT statements Django 4.2 ran for this case on PostgreSQL 15 (it finds the
    // names by introspection) name these three constraints.
    const found = await findings(caseDir("removing-index-non-concurrently", "bad", "unique-constraint-names"));
    expect(found.filter((d) => d.rule === "removing-index-non-concurrently").map((d) => d.message)).toEqual([
      "Altering `Imprint.code` drops `library_imprint_code_788b6445_like` and `library_publisher_code_key` from `library_imprint` with an ACCESS EXCLUSIVE lock; queries queue behind it while it waits.",
      "Altering `Book.ean` drops `library_book_ean_0910a247_like` and `library_book_isbn_key` from `library_book` with an ACCESS EXCLUSIVE lock; queries queue behind it while it waits.",
      "Altering `Book.title` drops `library_book_title_fccd0c46_like` and `library_book_title_fccd0c46_uniq` from `library_book` with an ACCESS EXCLUSIVE lock; queries queue behind it while it waits.",
    ]);
  });

  it("does not guess the name of one the physical schema did not get from Django", async () => {
    // The RunSQL's book_title_unique is the one Django drops (PostgreSQL 15).
    const found = await findings(caseDir("removing-index-non-concurrently", "bad", "unique-made-by-runsql"));
    expect(found.filter((d) => d.rule === "removing-index-non-concurrently").map((d) => d.message)).toEqual([
      "Altering `Book.title` drops `library_book_title_fccd0c46_like` and the unique constraint of `title` from `library_book` with an ACCESS EXCLUSIVE lock; queries queue behind it while it waits.",
    ]);
  });
});

describe("targets", () => {
  it("does not flag index builds on MySQL (InnoDB builds secondary indexes online)", async () => {
    expect(await findings(caseDir("adding-index-non-concurrently", "bad", "add-index"), { database: "mysql" })).toEqual([]);
  });

  it("keeps only the duplicates warning for unique constraints on MySQL", async () => {
    const found = await findings(caseDir("adding-unique-constraint", "bad", "constraints"), { database: "mysql" });
    expect(found.length).toBe(4);
    expect(found.every((f) => f.severity === "warning" && f.message.includes("duplicates"))).toBe(true);
    // A new nullable unique column holds only NULLs: nothing to duplicate.
    expect(found.some((f) => f.message.includes("Book.isbn"))).toBe(false);
    // The query that finds duplicates quotes names as MySQL does (it reads "x" as a string).
    const query = found.map((f) => f.help).find((help) => help.includes("HAVING COUNT(*) > 1")) ?? "";
    expect(query).toMatch(/SELECT `\w+`.*FROM `library_book`/);
    expect(query).not.toContain('"library_book"');
  });

  it("reports MySQL foreign keys with MySQL advice", async () => {
    const found = await findings(caseDir("adding-foreign-key-constraint", "bad", "fk"), { database: "mysql" });
    // The AlterField's foreign key is dropped and added back on MySQL too (Django 4.2's _alter_field),
    // and added back by copying the table: the recipe keeps the constraint in place.
    expect(found.map((f) => f.line)).toEqual([10, 15, 20]);
    expect(found[0]?.help).toContain("ALGORITHM=COPY");
    expect(found[2]?.help).toContain("Django drops `library_book_author_id_d9a3b67e_fk_library_author_id` and adds it back, and MySQL cannot add a foreign key in place");
    expect(found[2]?.help).toContain("leave out the DROP FOREIGN KEY and ADD CONSTRAINT");
  });

  it("ignores SQLite for PostgreSQL lock rules", async () => {
    for (const rule of ["adding-index-non-concurrently", "adding-check-constraint", "adding-foreign-key-constraint", "removing-index-non-concurrently"]) {
      const dir = path.join(RULE_FIXTURES, rule, "bad");
      const cases = (await import("node:fs")).readdirSync(dir);
      for (const c of cases) expect(await findings(path.join(dir, c), { database: "sqlite" }), `${rule}/${c}`).toEqual([]);
    }
  });

  it("moves an AlterIndexTogether's indexes to Meta.indexes from Django 5.1, which has no index_together", async () => {
    const dir = caseDir("adding-index-non-concurrently", "bad", "index-together-from-frozenset");
    const [modern] = await findings(dir, { django: [5, 1] });
    expect(modern?.help).toMatch(/AddIndexConcurrently\(\s+model_name="book",\s+index=models\.Index\(fields=\["title", "pages"\], name="library_boo_title_e482d4_idx"\),/);
    expect(modern?.help).toContain("from django.contrib.postgres.operations import AddIndexConcurrently");
    expect(modern?.help).not.toContain("AlterIndexTogether(");
    const [older] = await findings(dir, { django: [4, 2] });
    expect(older?.help).toContain("migrations.AlterIndexTogether(");
    expect(older?.help).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_book_title_pages_9161bc20_idx"');
    expect(older?.help).toContain("deprecated since Django 4.2");
    const [oldest] = await findings(dir, { django: [4, 1] });
    expect(oldest?.help).not.toContain("deprecated");
  });

  it("writes SQL instead of AddIndexConcurrently before Django 3.0, and RunSQL NOT VALID before 4.0", async () => {
    const index = await findings(caseDir("adding-index-non-concurrently", "bad", "add-index"), { django: [2, 2] });
    const add = index.find((f) => f.message.includes("book_pages_idx"));
    expect(add?.help).not.toContain("AddIndexConcurrently(");
    expect(add?.help).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS "book_pages_idx" ON "library_book" ("pages", "title" DESC);');
    const check = await findings(caseDir("adding-check-constraint", "bad", "check"), { django: [3, 2] });
    expect(check[0]?.help).not.toContain("AddConstraintNotValid(");
    expect(check[0]?.help).toContain("NOT VALID");
  });
});
