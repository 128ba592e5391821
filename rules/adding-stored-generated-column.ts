import { fieldOperation } from "../src/engine/resolved-operation.js";
import type { Rule } from "../src/engine/rule-types.js";
import { addFieldSnippet, postDeployMarker, pyValue } from "../src/advice/snippets.js";

/** RS115: `AddField(GeneratedField(db_persist=True))` on an existing table. */
export const addingStoredGeneratedColumn: Rule = {
  meta: {
    code: "RS115",
    name: "adding-stored-generated-column",
    severity: "error",
    databases: ["postgresql", "mysql"],
    claims: ["rewrite", "blocking-lock"],
    hazards: ["H25"],
    docs: {
      summary: "Adding a stored generated column to an existing table",
      what: "Flags `AddField` of a `GeneratedField` with `db_persist=True` (Django 5.0+) on an existing managed table.",
      why: "A stored generated column holds a computed value in every row, so PostgreSQL computes it for all existing rows by rewriting the table under an ACCESS EXCLUSIVE lock (every read and write waits), and MySQL adds a STORED column with a table copy that blocks writes.",
      recipe: [
        "Add a plain nullable column instead and compute it in the application (or a trigger) for new writes.",
        "Backfill existing rows in batches.",
        "On MySQL, a VIRTUAL generated column (`db_persist=False`) is added without a copy; PostgreSQL only has virtual generated columns from version 18.",
      ],
      severityReason: "Error: the rewrite (PostgreSQL) or copy (MySQL) blocks writes on the table for its whole duration.",
      bad: `migrations.AddField(
    model_name="book",
    name="title_upper",
    field=models.GeneratedField(
        expression=django.db.models.functions.Upper("title"),
        output_field=models.CharField(max_length=200),
        db_persist=True,
    ),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="title_upper",
    field=models.CharField(max_length=200, null=True),
)`,
    },
  },
  operationKinds: ["AddField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AddField" || ctx.effect === "state" || op.unknown) return;
    if (ctx.target.database === "sqlite") return;
    const added = fieldOperation(ctx);
    if (!added) return;
    const { model, name, after: field } = added;
    if (!field.generated?.stored) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(field) ?? name;
    const pg = ctx.target.database === "postgresql";
    const output = field.kwargs.output_field;
    const plain = output && output.kind === "call" ? pyValue({ ...output, kwargs: { ...output.kwargs, null: { kind: "bool", value: true, range: output.range } } }) : "models.<OutputField>(null=True)";
    const expression = field.kwargs.expression ? pyValue(field.kwargs.expression) : "the expression";
    const steps = [
      `Add a plain nullable column instead (instant):\n${addFieldSnippet(model.key, name, plain)}`,
      `Compute \`${name}\` in the new release on every save (e.g. in \`save()\` from ${expression}), or with a database trigger.`,
      `Backfill existing rows in batches in a data migration with \`atomic = False\`, marked ${postDeployMarker(ctx.target.markerStyle)}.`,
    ];
    if (!pg) steps.push(`Or keep the \`GeneratedField\` with \`db_persist=False\`: MySQL adds a VIRTUAL column without copying the table.`);
    ctx.report({
      range: op.range,
      message: `Adding stored generated column \`${model.name}.${name}\` ${pg ? "rewrites" : "copies"} \`${table}\` while blocking ${pg ? "reads and writes" : "writes"}.`,
      help: [
        pg
          ? `PostgreSQL computes \`${column}\` for every existing row of \`${table}\` by rewriting the table under an ACCESS EXCLUSIVE lock: every read and write waits for the rewrite. PostgreSQL ${ctx.target.postgresVersion < 18 ? `${ctx.target.postgresVersion} has no virtual generated columns, so \`db_persist=False\` is not an option there` : "18 also has virtual generated columns, which are added without a rewrite"}.`
          : `MySQL adds a STORED generated column with a table copy (ALGORITHM=COPY): writes to \`${table}\` are blocked for the whole copy.`,
        ...steps.map((s, i) => `${i + 1}. ${s}`),
      ],
    });
  },
};
