import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { indexFromValue, literalString } from "../src/state/model-state.js";
import { code, py, pyValue, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";
import { existingModel } from "../src/engine/resolved-operation.js";
import { plainIndexColumns } from "./adding-index-non-concurrently.js";

const WHY =
  "A `CREATE INDEX CONCURRENTLY` that is cancelled or fails (a `statement_timeout`, a deadlock, a duplicate key, a killed deploy) leaves an INVALID index behind, and without a transaction nothing rolls it back; the migration is not recorded, so the next `migrate` runs the same statement and fails on `relation ... already exists`.";

/**
 * RS211 (opt-in): a concurrent index build or drop that cannot be re-run after a failure.
 * Off by default: section E of the hazard catalog says a plain `AddIndexConcurrently` in an
 * `atomic = False` migration is the safe pattern, and most projects accept the manual cleanup.
 */
export const buildingIndexConcurrentlyWithoutIfNotExists: Rule = {
  meta: {
    code: "RS211",
    name: "building-index-concurrently-without-if-not-exists",
    severity: "warning",
    databases: ["postgresql"],
    optIn: true,
    claims: [],
    hazards: ["H40"],
    docs: {
      summary: "Concurrent index build that fails again when re-run after a failure",
      what: "Opt-in. Flags `AddIndexConcurrently` (Django emits `CREATE INDEX CONCURRENTLY` without `IF NOT EXISTS`) on an existing table, and `RunSQL` statements `CREATE INDEX CONCURRENTLY` without `IF NOT EXISTS` or `DROP INDEX CONCURRENTLY` without `IF EXISTS`. `RemoveIndexConcurrently` is fine: Django emits `DROP INDEX CONCURRENTLY IF EXISTS`. Known third-party operations that clean up first (`SaferAddIndexConcurrently`, PostHog's `SafeAddIndexConcurrently`) are not flagged.",
      why: `${WHY} Someone has to drop the invalid index by hand before the deploy can go on. (With \`IF NOT EXISTS\` alone, the retry succeeds but silently keeps the INVALID index, which queries never use; so drop a leftover first.)`,
      recipe: [
        "Replace `AddIndexConcurrently` with `SeparateDatabaseAndState`: state `AddIndex`, database `RunSQL` that first drops a leftover (`DROP INDEX CONCURRENTLY IF EXISTS`) and then builds with `CREATE INDEX CONCURRENTLY IF NOT EXISTS`, each statement its own list item.",
        "Or use `django_pg_migration_tools.operations.SaferAddIndexConcurrently` (django-pg-migration-tools), which is written to be re-run after a failed build.",
        "In hand-written SQL, always write `IF NOT EXISTS` / `IF EXISTS` on concurrent index statements.",
      ],
      severityReason: "Warning, and opt-in: the migration works when nothing fails; a failure needs a manual cleanup, which many teams accept.",
      bad: `django.contrib.postgres.operations.AddIndexConcurrently(
    model_name="book",
    index=models.Index(fields=["pages"], name="book_pages_idx"),
)`,
      good: `from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx")),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX CONCURRENTLY IF EXISTS "book_pages_idx"',
                        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "book_pages_idx" ON "library_book" ("pages")',
                    ],
                    reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS "book_pages_idx"',
                ),
            ],
        ),
    ]
`,
    },
  },
  operationKinds: ["AddIndexConcurrently", "RunSQL"],
  operation(ctx) {
    const { op } = ctx;
    if (ctx.target.database !== "postgresql" || ctx.effect === "state" || op.unknown || op.thirdParty) return;
    if (op.kind === "AddIndexConcurrently" && op.origin === "postgres") {
      // Unmanaged and proxy models get no SQL; a table created in this migration holds no rows to fail on.
      const model = existingModel(ctx, "model_name");
      if (!model || !op.args.index) return;
      const index = indexFromValue(op.args.index);
      const table = ctx.tableOf(model);
      const plain = plainIndexColumns(ctx, model, op.args.index);
      const steps: string[] = [];
      if (plain && index.name) {
        const columns = plain.columns.map((c, i) => `${sqlIdent(c)}${plain.desc[i] ? " DESC" : ""}`).join(", ");
        const drop = `DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(index.name)}`;
        const create = `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(index.name)} ON ${sqlIdent(table)} (${columns})`;
        const runSql = [
          "migrations.RunSQL(",
          "    sql=[",
          `        ${py(drop)},`,
          `        ${py(create)},`,
          "    ],",
          `    reverse_sql=${py(drop)},`,
          "),",
        ].join("\n");
        steps.push(
          ctx.parent?.kind === "SeparateDatabaseAndState"
            ? `1. Replace it in \`database_operations\` with SQL that drops a leftover first (keep \`atomic = False\`):\n${code(runSql)}`
            : `1. Build the index so that a re-run drops a leftover first (keep \`atomic = False\`):\n${code(
                separateDatabaseAndState([`migrations.AddIndex(model_name=${pyValue(op.args.model_name)}, index=${pyValue(op.args.index)}),`], [runSql]),
              )}`,
        );
      } else {
        steps.push(
          "1. Replace it with `SeparateDatabaseAndState`: `AddIndex` on the state side, and on the database side a `RunSQL` list of `DROP INDEX CONCURRENTLY IF EXISTS <name>` then the statement `python manage.py sqlmigrate` prints, with `IF NOT EXISTS` added.",
        );
      }
      steps.push("2. Or use `django_pg_migration_tools.operations.SaferAddIndexConcurrently` (django-pg-migration-tools, same arguments), which is written to be re-run after a failed build.");
      ctx.report({
        range: op.range,
        message: `\`AddIndexConcurrently\` builds \`${index.name || literalString(op.args.model_name) || "the index"}\` on \`${table}\` without \`IF NOT EXISTS\`: after a failed build, the retry fails on the INVALID index left behind.`,
        help: [WHY, ...steps],
      });
      return;
    }
    const facts = ctx.sql(op);
    if (facts?.forward.kind !== "sql") return;
    for (const chunk of facts.forward.chunks) {
      if (chunk.status !== "ok") continue;
      for (const { fact, range } of chunk.statements) {
        if (!fact.concurrently) continue;
        const building = fact.kind === "create-index" && !fact.ifNotExists;
        const dropping = fact.kind === "drop-index" && !fact.ifExists;
        if (!building && !dropping) continue;
        const name = fact.index ?? "<name>";
        const dropSql = `DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(name)}`;
        ctx.report({
          range,
          message: building
            ? `\`${describeStatement(fact)}\` has no \`IF NOT EXISTS\`: after a failed build, the retry fails on the INVALID index left behind.`
            : `\`${describeStatement(fact)}\` has no \`IF EXISTS\`: if the migration fails after it, the retry fails because the index is already gone.`,
          help: building
            ? [
                WHY,
                `1. Drop a leftover first, then build with \`IF NOT EXISTS\`, each statement its own list item (\`IF NOT EXISTS\` alone would keep an INVALID leftover):\n${code(
                  `migrations.RunSQL(\n    sql=[\n        ${py(dropSql)},\n        ${py(fact.text.replace(/^(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY)\s+/i, "$1 IF NOT EXISTS "))},\n    ],\n    reverse_sql=${py(dropSql)},\n)`,
                )}`,
              ]
            : [
                "Without a transaction the drop commits at once, but Django records the migration only after its last operation; when something later fails, `migrate` runs the drop again and stops on `index ... does not exist`.",
                `1. Write \`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(name)}\`.`,
              ],
        });
      }
    }
  },
};
