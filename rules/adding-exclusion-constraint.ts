import type { Rule } from "../src/engine/rule-types.js";
import { callOf, literalString } from "../src/state/model-state.js";
import { existingModel } from "../src/engine/resolved-operation.js";
import { partitionedTable } from "../src/engine/partitioned-tables.js";

/** RS206: an `ExclusionConstraint` added to an existing PostgreSQL table. */
export const addingExclusionConstraint: Rule = {
  meta: {
    code: "RS206",
    name: "adding-exclusion-constraint",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    noOnlineRecipe: true,
    hazards: ["H28"],
    docs: {
      summary: "Adding an exclusion constraint to an existing table",
      what: "Flags `AddConstraint(ExclusionConstraint(...))` (django.contrib.postgres) on an existing managed table. Tables created in the same migration are not flagged, nor partitioned tables before PostgreSQL 17, which refuse the constraint (`adding-unique-constraint-without-partition-key`).",
      why: "`ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE` builds its index and checks every row while holding an ACCESS EXCLUSIVE lock; PostgreSQL has no NOT VALID or USING INDEX form for exclusion constraints, so there is no online way to add one. The migration fails if existing rows conflict.",
      recipe: [
        "Check for conflicting rows first, and make the new release stop creating them.",
        "Run the migration in a maintenance window or at the quietest time, with a `lock_timeout`, as its own migration; or build a new table with the constraint, copy the rows over in batches and swap the tables.",
      ],
      severityReason: "Error: reads and writes on the table wait for the whole build, and no concurrent alternative exists.",
      bad: `migrations.AddConstraint(
    model_name="book",
    constraint=django.contrib.postgres.constraints.ExclusionConstraint(
        name="book_pages_excl",
        expressions=[("pages", "=")],
    ),
)`,
      good: `migrations.CreateModel(
    name="Booking",
    fields=[("id", models.BigAutoField(primary_key=True)), ("room", models.IntegerField())],
    options={
        "constraints": [
            django.contrib.postgres.constraints.ExclusionConstraint(name="booking_room_excl", expressions=[("room", "=")]),
        ],
    },
)`,
    },
  },
  operationKinds: ["AddConstraint"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql" || ctx.op.kind !== "AddConstraint") return;
    const model = existingModel(ctx, "model_name");
    const value = ctx.op.args.constraint;
    if (!model || !callOf(value, "ExclusionConstraint")) return;
    const table = ctx.tableOf(model);
    // Before PostgreSQL 17 a partitioned table refuses every exclusion constraint: the migration
    // fails instead of locking, which adding-unique-constraint-without-partition-key reports.
    if (ctx.target.postgresVersion < 17 && partitionedTable(ctx, model, table)) return;
    const name = literalString(value.kwargs.name) ?? "<constraint name>";
    ctx.report({
      range: ctx.op.range,
      message: `Adding exclusion constraint \`${name}\` locks \`${table}\` against reads and writes while it builds and checks every row.`,
      help: [
        `\`ADD CONSTRAINT ... EXCLUDE\` holds ACCESS EXCLUSIVE on \`${table}\` for the whole index build and check; PostgreSQL cannot add exclusion constraints NOT VALID or USING INDEX, so there is no concurrent alternative.`,
        "1. Find conflicting rows first (the migration fails on them) and make the new release stop creating them.",
        `2. Put this operation alone in its own migration and run it at the quietest time with a short lock wait, so it gives up instead of queueing every query behind it:\n\`\`\`python\nmigrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),\n\`\`\`\nas the first operation of that migration.`,
        `3. If \`${table}\` is too large to lock for the build, create a new table with the constraint, copy the rows in batches (keeping both in sync), and swap the tables.`,
      ],
    });
  },
};
