import type { OperationContext, Rule } from "../src/engine/rule-types.js";

const CONCURRENT = new Set(["AddIndexConcurrently", "RemoveIndexConcurrently"]);

/** RS209: `AddIndexConcurrently`/`RemoveIndexConcurrently` in a migration without `atomic = False`. */
export const runningConcurrentOperationInTransaction: Rule = {
  meta: {
    code: "RS209",
    name: "running-concurrent-operation-in-transaction",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H38"],
    docs: {
      summary: "Concurrent index operation in an atomic migration",
      what: "Flags `AddIndexConcurrently` and `RemoveIndexConcurrently` (django.contrib.postgres), also inside `SeparateDatabaseAndState.database_operations`, in a migration that does not set `atomic = False` (or another false value: `0`, `None`, a module constant bound to one). A value computed as the migration loads (`atomic = IS_SQLITE`) is a warning that names it: only the project's settings say whether it is false on PostgreSQL. On MySQL and SQLite it flags them in any migration, with the plain operation as the fix: only PostgreSQL's schema editor builds an index concurrently, so Django fails there with `TypeError` (MySQL runs no migration in a transaction; on SQLite, an atomic migration fails on the transaction check first). (`RunSQL` with `CONCURRENTLY` is checked by the RunSQL rules.)",
      why: "PostgreSQL refuses `CREATE/DROP INDEX CONCURRENTLY` inside a transaction block, and Django checks first: `migrate` stops with `NotSupportedError: The AddIndexConcurrently operation cannot be executed inside a transaction (set atomic = False on the migration)`. The deploy fails at this migration.",
      recipe: ["Add `atomic = False` to the `Migration` class, and keep the concurrent operations alone in that migration."],
      severityReason: "Error: the migration cannot run, so the deploy fails.",
      bad: `django.contrib.postgres.operations.AddIndexConcurrently(
    model_name="book",
    index=models.Index(fields=["pages"], name="book_pages_idx"),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="pages",
    field=models.IntegerField(null=True, help_text="Number of pages"),
)`,
    },
  },
  operationKinds: ["AddIndexConcurrently", "RemoveIndexConcurrently"],
  operation(ctx) {
    const { op, migration } = ctx;
    if (!CONCURRENT.has(op.kind) || op.origin !== "postgres" || ctx.effect === "state" || op.unknown) return;
    // Only PostgreSQL's schema editor takes `concurrently`: elsewhere the operation fails whether
    // the migration is atomic or not (MySQL runs none in a transaction; on SQLite an atomic one
    // fails on Django's transaction check first). Checked with Django 4.2 on MariaDB 10.11 and SQLite.
    if (ctx.target.database !== "postgresql") {
      reportNotPostgres(ctx);
      return;
    }
    if (!migration.atomic) return;
    // Django checks the transaction before anything else in database_forwards, so even an
    // unmanaged model or a table created earlier in the migration fails.
    if (migration.atomicComputed !== undefined) {
      // `atomic = IS_SQLITE` (Label Studio): false on PostgreSQL as the project means it, which
      // only the project's settings say.
      ctx.report({
        range: op.range,
        severity: "warning",
        message: `\`${op.kind}\` cannot run inside a transaction, and \`${migration.name}\` sets \`atomic = ${migration.atomicComputed}\`, which rollsafe cannot evaluate: \`migrate\` fails here unless it is false on PostgreSQL.`,
        help: [
          `Django raises \`NotSupportedError: The ${op.kind} operation cannot be executed inside a transaction (set atomic = False on the migration).\` when the value is true, because PostgreSQL refuses CONCURRENTLY inside a transaction block.`,
          "1. Check that the value is false wherever the migration runs on PostgreSQL, or set `atomic = False` outright: on other databases the concurrent operation fails anyway.",
        ],
      });
      return;
    }
    ctx.report({
      range: op.range,
      message: `\`${op.kind}\` cannot run inside a transaction, and \`${migration.name}\` is atomic: \`migrate\` fails here.`,
      help: [
        `Django raises \`NotSupportedError: The ${op.kind} operation cannot be executed inside a transaction (set atomic = False on the migration).\` before running it, because PostgreSQL refuses CONCURRENTLY inside a transaction block.`,
        "1. Add `atomic = False` to the migration:\n```python\nclass Migration(migrations.Migration):\n    atomic = False\n```",
        "2. Keep only the concurrent operations in this migration: without a transaction, a failure half-way leaves earlier operations applied and a retry re-runs them.",
      ],
      related: migration.classRange ? [ctx.relatedAt({ file: migration.path, range: migration.classRange }, "this migration runs in one transaction (no `atomic = False`)")] : undefined,
    });
  },
};

/** `AddIndexConcurrently`/`RemoveIndexConcurrently` where only PostgreSQL's schema editor takes `concurrently`. */
function reportNotPostgres(ctx: OperationContext): void {
  const { op } = ctx;
  const add = op.kind === "AddIndexConcurrently";
  const method = add ? "add_index" : "remove_index";
  const database = ctx.target.database === "mysql" ? "MySQL" : "SQLite";
  const plain = add ? "AddIndex" : "RemoveIndex";
  ctx.report({
    range: op.range,
    message: `\`${op.kind}\` is PostgreSQL's: on ${database}, \`migrate\` fails here.`,
    help: [
      `Only PostgreSQL's schema editor builds or drops an index concurrently; ${database}'s \`${method}()\` takes no \`concurrently\`, so Django raises \`TypeError: ...${method}() got an unexpected keyword argument 'concurrently'\`${ctx.target.database === "sqlite" && ctx.migration.atomic ? ` (in this atomic migration its transaction check fails first: \`NotSupportedError: The ${op.kind} operation cannot be executed inside a transaction\`; \`atomic = False\` only leads to the TypeError)` : ""}.`,
      `1. Use \`migrations.${plain}\` with the same arguments${ctx.target.database === "mysql" ? " (InnoDB builds and drops a secondary index in place, without blocking writes)" : ""}.`,
    ],
  });
}
