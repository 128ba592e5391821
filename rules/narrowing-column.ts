import type { Rule } from "../src/engine/rule-types.js";
import { alterFieldSnippet, code, djangoHas, fieldWith, postDeployMarker, py } from "../src/advice/snippets.js";
import { formatColumnType, integerDigits, newColumnSteps, readTypeChange, truncatesOnCast } from "./changing-column-type.js";
import { databaseChanges } from "../src/engine/field-changes.js";

/** RS112: `AlterField` that makes a column hold less (shorter varchar, smaller numeric or integer). */
export const narrowingColumn: Rule = {
  meta: {
    code: "RS112",
    name: "narrowing-column",
    severity: "error",
    databases: ["postgresql", "mysql"],
    claims: ["rewrite", "blocking-lock"],
    hazards: ["H13", "H22"],
    docs: {
      summary: "Narrowing a column: shorter `max_length`, fewer digits or a smaller integer type",
      what: "Flags `AlterField` on an existing managed table that lowers `max_length` (or turns `TextField` into a `CharField`), lowers `max_digits` or `decimal_places` of a `DecimalField` (fewer integer or fractional digits), or moves to a smaller integer type (`BigIntegerField` to `IntegerField`, ...). SQLite does not enforce these limits, so it is not checked there.",
      why: "The new type cannot hold every old value. PostgreSQL checks every row while it rewrites the table under an ACCESS EXCLUSIVE lock, and the migration fails on the first value that does not fit (`value too long for type character varying(50)`, `numeric field overflow`), often only in production. When the field's data type changes too (a `TextField` or `SlugField` to a shorter `CharField`), Django casts with `USING col::varchar(n)`, and PostgreSQL then cuts longer values without an error: the migration succeeds and the data is lost. Fewer decimal places silently round existing values. The old release keeps writing values that no longer fit, and those writes fail (MySQL without strict mode truncates them instead).",
      recipe: [
        "Keep the column's type; enforce the new limit in Python (a validator) in the new release.",
        "Fix or shorten existing values in a batched data migration.",
        "On PostgreSQL, enforce the limit in the database with a CHECK constraint added NOT VALID and validated separately; or move to a new column (expand/contract).",
      ],
      severityReason: "Error: the migration fails on existing data that does not fit, rewrites the table under a lock that blocks all traffic, and the old release's writes of longer values fail.",
      bad: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=50),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=250),
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    if (ctx.target.database === "sqlite") return;
    const facts = readTypeChange(ctx);
    if (!facts || facts.change !== "narrowing" || facts.before.primaryKey || facts.after.primaryKey) return;
    const { model, name, table, column, beforeType, afterType } = facts;
    const from = formatColumnType(beforeType);
    const to = formatColumnType(afterType);
    const pg = ctx.target.database === "postgresql";
    const textual = afterType.base === "varchar";
    const numeric = afterType.base === "numeric";
    const losesScale = numeric && (afterType.scale ?? 0) < (beforeType.scale ?? 0);
    // PostgreSQL rounds a value to the column's scale: fewer decimal places alone never fail, they
    // lose digits silently (numeric(12,4) -> numeric(12,2): 12345678.9999 becomes 12345679.00).
    const onlyRounds = pg && losesScale && integerDigits(afterType) >= integerDigits(beforeType);
    // text (or a SlugField, a uuid...) to a shorter varchar: Django casts, and the cast truncates.
    const cuts = pg && truncatesOnCast(facts, ctx.state);
    const help: string[] = [
      onlyRounds
        ? `\`${to}\` keeps fewer decimal places than \`${from}\`: PostgreSQL rewrites \`${table}\` under an ACCESS EXCLUSIVE lock (every read and write waits) and rounds every existing \`${column}\` to ${afterType.scale ?? 0} decimal places. No row fails: the digits are lost without an error.`
        : cuts
          ? `\`${to}\` holds less than \`${from}\`: Django casts (\`ALTER COLUMN ${column} TYPE ${to} USING ${column}::${to}\`), so PostgreSQL rewrites \`${table}\` under an ACCESS EXCLUSIVE lock (every read and write waits) and cuts every \`${column}\` longer than ${afterType.length} characters without an error: the migration succeeds and the rest of each value is lost.`
        : pg
          ? `\`${to}\` holds less than \`${from}\`: PostgreSQL rewrites \`${table}\` under an ACCESS EXCLUSIVE lock (every read and write waits) and the migration fails on the first row whose \`${column}\` does not fit${losesScale ? "; values with more decimal places are rounded" : ""}.`
          : `\`${to}\` holds less than \`${from}\`: MySQL copies \`${table}\` (ALGORITHM=COPY, writes blocked), and in strict mode the migration fails on the first row that does not fit; without strict mode it silently truncates the values${losesScale ? " (extra decimal places are rounded)" : ""}.`,
      onlyRounds
        ? `Values ${ctx.stage === "post" ? "any writer" : "the old release"} still writes with more decimal places are rounded the same way, without an error.`
        : ctx.stage === "post"
          ? `Any writer that still sends longer values than \`${to}\` allows fails once this is applied.`
          : `The old release still writes values that fit \`${from}\` but not \`${to}\`; those INSERTs and UPDATEs fail once this is applied.`,
    ];
    const steps: string[] = [];
    const post = postDeployMarker(ctx.target.markerStyle);
    // An array's elements (`varchar(10)[]`): Length() and max-length validators measure the array, not them.
    if (textual && afterType.length && !afterType.dimensions) {
      const limit = afterType.length;
      const constraint = `${table}_${column}_max_length`.slice(0, 63);
      // The rest of the change (NOT NULL, unique...) is its own finding's: this step keeps the
      // column's size only (Misago users 0029: narrowing and NOT NULL at once).
      const others = databaseChanges(facts.before, facts.after, ctx.target.database).filter((key) => key !== "max_length" && key !== "type");
      steps.push(
        `Keep the column as it is and enforce the limit in Python in the new release (no SQL; the migration needs \`import django.core.validators\`)${others.length > 0 ? `; the rest of this change (${others.join(", ")}) is its own step${others.some((key) => key !== "db_collation") ? ", as its own finding says (`setting-column-not-null` for NOT NULL)" : ""}` : ""}:\n${alterFieldSnippet(
          model.key,
          name,
          // The new field at the old size, so its other changes (class, verbose_name, blank) stay
          // (PeeringDB 0053); the old field when the column changes kind too (text to varchar), or
          // when the change does more to the column (NOT NULL...), which its own step does.
          beforeType.base === afterType.base && beforeType.length && others.length === 0
            ? fieldWith(facts.after.call, { max_length: String(beforeType.length), validators: `[django.core.validators.MaxLengthValidator(${limit})]` })
            : fieldWith(facts.before.call, { validators: `[django.core.validators.MaxLengthValidator(${limit})]` }),
        )}`,
        `Shorten existing longer values in a batched data migration (\`atomic = False\`), e.g. rows where \`Length(${py(name)}) > ${limit}\`.`,
      );
      // Leaving citext (Django 5.1 keeps the CI fields for old migrations only): a varchar without
      // max_length is binary-coercible with it, so the rows stay; the limit comes from the steps.
      if (pg && beforeType.base === "citext" && djangoHas(ctx.target, 4, 2)) {
        steps.push(
          `To leave citext without the rewrite, make the column a \`varchar\` without \`max_length\` (Django 4.2 on PostgreSQL) instead: citext and \`varchar\` are binary-coercible, so PostgreSQL keeps the rows and only builds the column's indexes again under the lock (\`changing-column-collation\` says which), and the limit is kept by the validator in it${djangoHas(ctx.target, 4, 1) ? " and by the CHECK constraint of the next step" : ""}:\n${alterFieldSnippet(model.key, name, fieldWith(facts.after.call, { validators: `[django.core.validators.MaxLengthValidator(${limit})]` }, ["max_length"]))}`,
        );
      }
      if (pg && djangoHas(ctx.target, 4, 1)) {
        steps.push(
          `If the database must enforce it too, add a CHECK constraint without scanning (instant) in a migration marked ${post}, then validate it in the next one (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n${code(
            [
              "from django.contrib.postgres.operations import AddConstraintNotValid",
              "from django.db.models.functions import Length",
              "from django.db.models.lookups import LessThanOrEqual",
              "",
              "AddConstraintNotValid(",
              `    model_name=${py(model.key)},`,
              `    constraint=models.CheckConstraint(${djangoHas(ctx.target, 5, 1) ? "condition" : "check"}=LessThanOrEqual(Length(${py(name)}), ${limit}), name=${py(constraint)}),`,
              ")",
            ].join("\n"),
          )}\n${code(`from django.contrib.postgres.operations import ValidateConstraint\n\nValidateConstraint(model_name=${py(model.key)}, name=${py(constraint)})`)}`,
        );
      }
    } else {
      steps.push(
        onlyRounds
          ? `First make sure the extra decimal places may go: round the existing values as the application needs (in a batched data migration with \`atomic = False\`), and make the new release write at most ${afterType.scale ?? 0} decimal places.`
          : `First make sure no existing row needs more than \`${to}\` holds, and that the new release never writes such values (fix them in a batched data migration with \`atomic = False\`).`,
        ...newColumnSteps(ctx, facts),
      );
    }
    ctx.report({
      range: ctx.op.range,
      message: onlyRounds
        ? `Narrowing \`${model.name}.${name}\` from \`${from}\` to \`${to}\` silently rounds every existing value and rewrites \`${table}\` while blocking reads and writes.`
        : cuts
          ? `Narrowing \`${model.name}.${name}\` from \`${from}\` to \`${to}\` silently cuts existing values longer than ${afterType.length} characters and rewrites \`${table}\` while blocking reads and writes.`
        : `Narrowing \`${model.name}.${name}\` from \`${from}\` to \`${to}\` fails on existing values that do not fit and ${pg ? "rewrites" : "copies"} \`${table}\` while blocking ${pg ? "reads and writes" : "writes"}.`,
      help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
      related: facts.before.origin ? [ctx.relatedAt(facts.before.origin, `\`${model.name}.${name}\` was defined as \`${from}\` here`)] : undefined,
    });
  },
};
