import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code } from "../src/advice/snippets.js";

/** RS613: `RunSQL` UPDATE or DELETE without WHERE on an existing table: one unbatched statement. */
export const runsqlUpdatingAllRows: Rule = {
  meta: {
    code: "RS613",
    name: "runsql-updating-all-rows",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    unobservable: "Row locks and WAL volume grow with the table; on a small table the statement is instant.",
    hazards: ["H42"],
    docs: {
      summary: "Raw SQL that updates or deletes every row of an existing table in one statement",
      what: "Flags `UPDATE` and `DELETE` without `WHERE` in `RunSQL` on a table that exists before the migration. Statements with a WHERE clause are not reported (rollsafe cannot know how many rows they touch), nor tables created in the same migration.",
      why: "One statement over the whole table locks every row it touches until the transaction commits (blocking the application's writes to them), writes a burst of WAL that lags replicas, and in an atomic migration holds every other lock of the migration meanwhile.",
      recipe: [
        "Move the backfill to its own data migration with `atomic = False`.",
        "Update in batches by primary key range (1,000–10,000 rows per statement), committing between batches.",
        "For large tables, run the backfill after the deploy (post-deploy migration or a background job).",
      ],
      severityReason: "Warning: harmless on a small table, an outage on a large one; rollsafe cannot know the size.",
      bad: `migrations.RunSQL("UPDATE library_book SET pages = 0", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("UPDATE library_book SET pages = 0 WHERE pages IS NULL AND id < 1000", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    for (const { fact, range } of forwardStatements(ctx)) {
      if ((fact.kind !== "update" && fact.kind !== "delete") || fact.hasWhere) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const verb = fact.kind === "update" ? "updates" : "deletes";
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` ${verb} every row of ${tableLabel(ref)} in one statement.`,
        help: [
          `Every row of \`${ref.table}\` stays locked until the migration commits, so the application's writes to them wait; the statement also writes WAL for the whole table at once (replica lag)${ctx.migration.atomic ? ", and this atomic migration keeps all its other locks meanwhile" : ""}.`,
          "1. Move it to its own data migration with `atomic = False`.",
          `2. Work in batches by primary key, committing between them, for example from \`RunPython\`:\n${code(
            [
              "def forwards(apps, schema_editor):",
              `    Model = apps.get_model(${JSON.stringify(ctx.migration.app)}, ${JSON.stringify((ref.model ?? ref.dbModel)?.name ?? "Model")})`,
              "    ids = Model.objects.order_by(\"pk\").values_list(\"pk\", flat=True)",
              "    batch = []",
              "    for pk in ids.iterator(chunk_size=5000):",
              "        batch.append(pk)",
              "        if len(batch) == 5000:",
              `            Model.objects.filter(pk__in=batch).${fact.kind === "update" ? "update(...)" : "delete()"}`,
              "            batch = []",
              "    if batch:",
              `        Model.objects.filter(pk__in=batch).${fact.kind === "update" ? "update(...)" : "delete()"}`,
            ].join("\n"),
          )}`,
          "3. On a large table, run it after the deploy (post-deploy migration or a background job).",
        ],
      });
    }
  },
};
