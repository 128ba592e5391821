import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { PyValue, SourceRange } from "../src/model/types.js";
import { failureLeftovers, mayBePartitioned, partitionedOrigin, partitionedTable, type PartitionedTableInfo, unmetPartitionKey, type UnmetPartitionKey } from "../src/engine/partitioned-tables.js";
import { forwardStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import { describeStatement, isPublic } from "../src/sql/analyze-sql.js";
import type { SqlStatementFact } from "../src/sql/sql-facts.js";
import { callOf, className, fieldFromCall, literalString, stringList, togetherAdded, togetherList, type FieldState, type ModelState } from "../src/state/model-state.js";
import { code, codeList, djangoIndexName, fieldWith, py, pyValue } from "../src/advice/snippets.js";
import { columnsOfFields } from "./adding-index-non-concurrently.js";

/** A unique key about to be created: the columns it holds as plain columns, and every name it mentions at all. */
interface UniqueKey {
  /** `UniqueConstraint \`name\``, `PRIMARY KEY`… for messages. */
  subject: string;
  /** A primary key (PostgreSQL names it so in its refusal). */
  primary: boolean;
  /** Columns PostgreSQL sees as plain index columns. */
  columns: string[];
  /**
   * Whether a column outside `columns` may still be one of the key's plain columns (an expression
   * rollsafe does not read that mentions it): then a key column it mentions is not reported.
   */
  mentions: (column: string) => boolean;
}

/** PostgreSQL's own words for the refusal, and why it refuses. */
function why(ctx: OperationContext, key: UniqueKey, refused: UnmetPartitionKey): string {
  const { table, key: partitionKey } = refused.level;
  if (refused.missing.length === 0) {
    return `PostgreSQL refuses it with \`unsupported UNIQUE constraint with partition key definition\`: the partition key of \`${table}\` has an expression, and no unique constraint or unique index is accepted on such a table. \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}.`;
  }
  const first = refused.missing[0] as string;
  return `PostgreSQL refuses it with \`unique constraint on partitioned table must include all partitioning columns\` (\`${key.primary ? "PRIMARY KEY" : "UNIQUE"} constraint on table "${table}" lacks column "${first}" which is part of the partition key\`), so \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}. Each partition enforces uniqueness with its own index, so PostgreSQL can only promise it across partitions when the key (${codeList(partitionKey.columns)}) decides which partition a row is in.`;
}

/** The steps that replace the refused key. `missingNames` are the missing columns as the user writes them (field names). */
function steps(model: ModelState | null, refused: UnmetPartitionKey, missingNames: string[], corrected: string | null): string[] {
  const out: string[] = [];
  if (refused.missing.length > 0) {
    const named = missingNames.map((name, i) => (name === refused.missing[i] ? `\`${name}\`` : `\`${name}\` (column \`${refused.missing[i]}\`)`)).join(", ");
    out.push(`If uniqueness together with the partitioning ${model ? "field" : "column"}${missingNames.length > 1 ? "s" : ""} is enough, add ${named} to the key${corrected ? `:\n${corrected}` : "."}`);
  }
  const subject = model ? `\`${model.name}\`` : `\`${refused.level.table}\``;
  out.push(
    `If ${refused.missing.length > 0 ? "they" : "values"} must be unique across the whole table, PostgreSQL cannot enforce it on ${subject}: keep the values in a separate, unpartitioned table with its own unique constraint, written in the same transaction as each ${subject} row, or check them in the application.`,
  );
  return out.map((s, i) => `${i + 1}. ${s}`);
}

function report(ctx: OperationContext, range: SourceRange, model: ModelState | null, info: PartitionedTableInfo, key: UniqueKey, corrected: (missingFields: string[]) => string | null): void {
  const refused = unmetPartitionKey(info, (c) => key.columns.includes(c) || key.mentions(c));
  if (!refused) return;
  // A key column the model has no field for (a state that drifted from the table): say nothing rather than guess.
  if (model && refused.missing.some((c) => fieldNameOf(ctx, model, c) === null)) return;
  const missingFields = model ? refused.missing.map((c) => fieldNameOf(ctx, model, c) as string) : refused.missing;
  const lacks =
    refused.missing.length === 0
      ? `the partition key of \`${refused.level.table}\` has an expression, so PostgreSQL accepts no unique key there`
      : `it lacks the partitioning column${refused.missing.length > 1 ? "s" : ""} ${codeList(refused.missing)}${refused.level.table === info.table ? "" : ` of partition \`${refused.level.table}\``}`;
  ctx.report({
    range,
    message: `${key.subject} cannot be created on partitioned \`${info.table}\`: ${lacks}, and the migration fails.`,
    help: [why(ctx, key, refused), ...steps(model, refused, missingFields, refused.missing.length > 0 ? corrected(missingFields) : null)],
    related: partitionedOrigin(ctx, info),
  });
}

/** The name of the field whose column is `column`, or null. */
function fieldNameOf(ctx: OperationContext, model: ModelState, column: string): string | null {
  for (const [name, field] of model.fields) if (ctx.columnOf(field) === column) return name;
  return null;
}

/** The model of a model-level operation whose table exists, new in this migration or not. */
function modelWithTable(ctx: OperationContext, arg: "model_name" | "name"): ModelState | null {
  if (ctx.effect === "state" || ctx.op.unknown) return null;
  const model = ctx.model(literalString(ctx.op.args[arg]));
  return model && ctx.hasTable(model) ? model : null;
}

/** The names an expression mentions (strings and `F()` names, at any depth), lower-cased. */
function mentionedNames(value: PyValue, out: Set<string>): Set<string> {
  if (value.kind === "str") out.add(value.value.toLowerCase());
  if (value.kind === "call") {
    for (const arg of value.args) mentionedNames(arg, out);
    for (const arg of Object.values(value.kwargs)) mentionedNames(arg, out);
  }
  if (value.kind === "list" || value.kind === "tuple") for (const item of value.items) mentionedNames(item, out);
  return out;
}

/** An expression PostgreSQL takes as a plain column: `"name"`, `F("name")`, or either under `Collate(...)`. */
function plainFieldOf(value: PyValue): string | null {
  if (value.kind === "str") return value.value;
  if (value.kind !== "call") return null;
  const first = value.args[0];
  if (className(value) === "F" && first?.kind === "str") return first.value;
  if (className(value) === "Collate" && first) return plainFieldOf(first);
  return null;
}

function addConstraint(ctx: OperationContext): void {
  const model = modelWithTable(ctx, "model_name");
  const value = ctx.op.args.constraint;
  if (model && value?.kind === "call" && callOf(value, "ExclusionConstraint")) return exclusionConstraint(ctx, model, value);
  if (!model || !callOf(value, "UniqueConstraint")) return;
  const info = partitionedTable(ctx, model, ctx.tableOf(model));
  if (!info || info.keys.length === 0) return;
  const name = literalString(value.kwargs.name);
  const expressionFields = value.args.map(plainFieldOf);
  const fieldNames = [...stringList(value.kwargs.fields), ...expressionFields.filter((f): f is string => f !== null)];
  const columns = columnsOfFields(ctx, model, fieldNames);
  if (!columns) return;
  const mentioned = new Set<string>();
  for (const [i, arg] of value.args.entries()) if (expressionFields[i] === null) mentionedNames(arg, mentioned);
  report(
    ctx,
    ctx.op.range,
    model,
    info,
    {
      subject: `\`UniqueConstraint\`${name ? ` \`${name}\`` : ""}`,
      primary: false,
      columns,
      mentions: (column) => mentioned.has(column.toLowerCase()) || mentioned.has((fieldNameOf(ctx, model, column) ?? "").toLowerCase()),
    },
    (missing) => {
      // Expressions take the field names as more positional expressions; `fields=` takes them at its end.
      const original = value.kwargs.fields;
      const range = original?.range ?? value.range;
      const added = missing.map((m): PyValue => ({ kind: "str", value: m, range }));
      const kept = original?.kind === "list" || original?.kind === "tuple" ? original.items : [];
      const constraint: PyValue =
        value.args.length > 0 ? { ...value, args: [...value.args, ...added] } : { ...value, kwargs: { ...value.kwargs, fields: { kind: "list", items: [...kept, ...added], range } } };
      return code(`migrations.AddConstraint(\n    model_name=${py(model.key)},\n    constraint=${pyValue(constraint)},\n)`);
    },
  );
}

function alterUniqueTogether(ctx: OperationContext): void {
  const model = modelWithTable(ctx, "name");
  if (!model) return;
  const info = partitionedTable(ctx, model, ctx.tableOf(model));
  if (!info || info.keys.length === 0) return;
  for (const fields of togetherAdded(model.uniqueTogether, togetherList(ctx.op.args.unique_together))) {
    const columns = columnsOfFields(ctx, model, fields);
    if (!columns) continue;
    report(ctx, ctx.op.range, model, info, { subject: `\`unique_together\` (${fields.join(", ")})`, primary: false, columns, mentions: () => false }, (missing) => {
      const sets = togetherList(ctx.op.args.unique_together).map((set) => (set.join("\0") === fields.join("\0") ? [...set, ...missing] : set));
      return code(`migrations.AlterUniqueTogether(\n    name=${py(model.key)},\n    unique_together={${sets.map((s) => `(${s.map(py).join(", ")}${s.length === 1 ? "," : ""})`).join(", ")}},\n)`);
    });
    return;
  }
}

function fieldKey(ctx: OperationContext): void {
  const { op } = ctx;
  const model = modelWithTable(ctx, "model_name");
  const name = literalString(op.args.name);
  if (!model || !name || !op.args.field) return;
  const before = op.kind === "AlterField" ? (model.fields.get(name) ?? null) : null;
  if (op.kind === "AlterField" && !before) return;
  const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
  if (after.relation?.kind === "m2m") return;
  const primaryKey = after.primaryKey && !before?.primaryKey;
  const unique = !after.primaryKey && after.unique && !(before?.unique && !before.primaryKey);
  if (!primaryKey && !unique) return;
  const info = partitionedTable(ctx, model, ctx.tableOf(model));
  if (!info || info.keys.length === 0) return;
  const column = ctx.columnOf(after) ?? name;
  // The key columns must be this model's columns already (the field being added is not one of them).
  report(
    ctx,
    op.range,
    model,
    info,
    { subject: `\`${model.name}.${name}\` with \`${primaryKey ? "primary_key" : "unique"}=True\`${primaryKey ? " (PRIMARY KEY)" : ""}`, primary: primaryKey, columns: [column], mentions: () => false },
    (missing) => {
      if (primaryKey || op.args.field?.kind !== "call") return null;
      // A OneToOneField is always unique: the same relation without it is a ForeignKey.
      const call = op.args.field;
      const plain = /OneToOneField$/.test(call.callee) ? { ...call, callee: call.callee.replace(/OneToOneField$/, "ForeignKey") } : call;
      const fields = [name, ...missing];
      // `models.` as the migration imports it (`m.CharField` -> `m.`).
      const modelsModule = call.callee.includes(".") ? call.callee.slice(0, call.callee.lastIndexOf(".") + 1) : "models.";
      const constraintName = djangoIndexName(ctx.tableOf(model), [column, ...missing.map((f) => ctx.columnOf(model.fields.get(f) as FieldState) ?? f)], "_uniq");
      return code(
        [
          `migrations.${op.kind}(\n    model_name=${py(model.key)},\n    name=${py(name)},\n    field=${fieldWith(plain, {}, ["unique"])},\n),`,
          `migrations.AddConstraint(\n    model_name=${py(model.key)},\n    constraint=${modelsModule}UniqueConstraint(fields=[${fields.map(py).join(", ")}], name=${py(constraintName)}),\n),`,
        ].join("\n"),
      );
    },
  );
}

/** The first version of PostgreSQL that accepts an exclusion constraint on a partitioned table. */
const EXCLUSION_ON_PARTITIONED = 17;

/** An exclusion constraint's elements PostgreSQL sees as plain columns, with their operators (null: not read). */
interface ExclusionElements {
  /** `[column, operator]` of each plain-column element. */
  columns: [string, string | null][];
  /** Whether a column outside `columns` may be compared by an element rollsafe does not read. */
  mentions: (column: string) => boolean;
}

/**
 * Reports an exclusion constraint PostgreSQL refuses on the partitioned table `info`: before
 * PostgreSQL 17 every one (`exclusion constraints are not supported on partitioned tables`,
 * checked on PostgreSQL 15); from 17, one that does not compare every partitioning column with
 * `=` (PostgreSQL's commit 8c852ba9: the same rule as for a unique key, and the key's columns
 * compared for equality).
 */
function reportExclusion(ctx: OperationContext, range: SourceRange, subject: string, info: PartitionedTableInfo, elements: ExclusionElements | null, recipe: string[]): void {
  const version = ctx.target.postgresVersion;
  let refusal: string;
  let lacks: string;
  if (version < EXCLUSION_ON_PARTITIONED) {
    refusal = "`exclusion constraints are not supported on partitioned tables`";
    lacks = `PostgreSQL ${version} supports no exclusion constraint on a partitioned table`;
  } else {
    if (!elements || info.keys.length === 0) return;
    const equal = elements.columns.filter(([, op]) => op === "=").map(([c]) => c);
    const refused = unmetPartitionKey(info, (c) => equal.includes(c) || (!elements.columns.some(([col]) => col === c) && elements.mentions(c)));
    if (!refused) return;
    const first = refused.missing[0];
    const other = first === undefined ? undefined : elements.columns.find(([c, op]) => c === first && op !== null && op !== "=");
    if (first === undefined) {
      refusal = "`unsupported EXCLUDE constraint with partition key definition`";
      lacks = `the partition key of \`${refused.level.table}\` has an expression`;
    } else if (other) {
      refusal = `\`cannot match partition key to index on column "${first}" using non-equal operator "${other[1]}"\``;
      lacks = `it compares the partitioning column \`${first}\` with \`${other[1]}\`, not \`=\``;
    } else {
      refusal = `\`unique constraint on partitioned table must include all partitioning columns\` (\`EXCLUDE constraint on table "${refused.level.table}" lacks column "${first}" which is part of the partition key\`)`;
      lacks = `it lacks the partitioning column${refused.missing.length > 1 ? "s" : ""} ${codeList(refused.missing)}`;
    }
  }
  const keyColumns = info.keys[0]?.key.expressions === false ? info.keys[0].key.columns : null;
  ctx.report({
    range,
    message: `${subject} cannot be created on partitioned \`${info.table}\`: ${lacks}, and the migration fails.`,
    help: [
      `PostgreSQL refuses it with ${refusal}, so \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}. Each partition enforces the constraint with its own index, so it can only hold across partitions when the partition key decides the partition: PostgreSQL ${EXCLUSION_ON_PARTITIONED} and later accept an exclusion constraint that compares every partitioning column${keyColumns ? ` (${codeList(keyColumns)})` : ""} with \`=\`, and earlier versions none at all.`,
      ...recipe.map((step, i) => `${i + 1}. ${step}`),
    ],
    related: partitionedOrigin(ctx, info),
  });
}

/** The steps for an exclusion constraint on a partitioned table. */
function exclusionRecipe(ctx: OperationContext, info: PartitionedTableInfo): string[] {
  const partitions = info.partitions.length > 0 ? info.partitions.map((p) => `\`${p}\``).join(", ") : "each partition";
  return [
    `If the rows that must not conflict always share a partition, add the constraint to each partition instead (${partitions}, and every partition created later), with \`RunSQL("ALTER TABLE <partition> ADD CONSTRAINT ... EXCLUDE ...")\`, and keep Django's state in step with \`SeparateDatabaseAndState\` (the \`AddConstraint\` in \`state_operations\` only).`,
    ctx.target.postgresVersion < EXCLUSION_ON_PARTITIONED
      ? `On PostgreSQL ${EXCLUSION_ON_PARTITIONED} or later, the constraint is accepted when it compares every partitioning column with \`=\`: add them to its \`expressions\`, and set \`postgres-version\` in the configuration once the server runs it.`
      : "Compare every partitioning column with `=` in the constraint.",
    "If conflicts across partitions must be prevented, check them in the application, under a lock that serialises the writes that could conflict.",
  ];
}

/** `ExclusionConstraint(expressions=[(expression, operator), ...])` on a partitioned table. */
function exclusionConstraint(ctx: OperationContext, model: ModelState, value: Extract<PyValue, { kind: "call" }>): void {
  const info = partitionedTable(ctx, model, ctx.tableOf(model));
  if (!info) return;
  const name = literalString(value.kwargs.name);
  const columns: [string, string | null][] = [];
  const mentioned = new Set<string>();
  const pairs = value.kwargs.expressions;
  for (const pair of pairs?.kind === "list" || pairs?.kind === "tuple" ? pairs.items : []) {
    const [expression, operator] = pair.kind === "tuple" || pair.kind === "list" ? pair.items : [];
    const field = expression ? plainFieldOf(expression) : null;
    const column = field === null ? null : (columnsOfFields(ctx, model, [field])?.[0] ?? null);
    if (column !== null) columns.push([column, operatorOf(operator)]);
    else if (expression) mentionedNames(expression, mentioned);
  }
  const elements: ExclusionElements | null =
    pairs?.kind === "list" || pairs?.kind === "tuple"
      ? { columns, mentions: (column) => mentioned.has(column.toLowerCase()) || mentioned.has((fieldNameOf(ctx, model, column) ?? "").toLowerCase()) }
      : null;
  reportExclusion(ctx, ctx.op.range, `\`ExclusionConstraint\`${name ? ` \`${name}\`` : ""}`, info, elements, exclusionRecipe(ctx, info));
}

/** An exclusion operator as PostgreSQL names it: `"="`, or `RangeOperators.EQUAL` and its kin; null when not read. */
function operatorOf(value: PyValue | undefined): string | null {
  if (value?.kind === "str") return value.value;
  if (value?.kind !== "name") return null;
  const member = value.name.slice(value.name.lastIndexOf(".") + 1);
  return RANGE_OPERATORS[member] ?? null;
}

/** django.contrib.postgres.fields.RangeOperators, as their SQL operators. */
const RANGE_OPERATORS: Record<string, string> = {
  EQUAL: "=",
  NOT_EQUAL: "<>",
  CONTAINS: "@>",
  CONTAINED_BY: "<@",
  OVERLAPS: "&&",
  FULLY_LT: "<<",
  FULLY_GT: ">>",
  NOT_LT: "&>",
  NOT_GT: "&<",
  ADJACENT_TO: "-|-",
};

/**
 * The keys written inside a `CREATE TABLE ... PARTITION BY`: PostgreSQL checks them against the
 * new table's own partition key as it creates it.
 */
function inlineKeys(ctx: OperationContext, fact: SqlStatementFact, range: SourceRange): void {
  const partitioning = fact.partitioning;
  if (!partitioning?.partitionBy || !partitioning.key || fact.table === null || !isPublic(fact.schema)) return;
  const info: PartitionedTableInfo = {
    table: fact.table,
    source: { kind: "sql", origin: { migration: ctx.migration.id, file: ctx.migration.path, range } },
    partitions: [],
    keys: [{ table: fact.table, key: partitioning.key }],
  };
  const ref = resolveSqlTable(ctx, fact);
  const model = ref?.dbModel ?? ref?.model ?? null;
  const subject = (what: string) => `The ${what} written in \`CREATE TABLE ${fact.table}\``;
  for (const key of partitioning.inlineKeys) {
    const plain = key.elements.flatMap((e): [string, string | null][] => (e.column === null ? [] : [[e.column, e.operator]]));
    // An element that is an expression may still mention a key column: the benefit of the doubt.
    const expressions = plain.length < key.elements.length;
    const mentions = (c: string) => expressions && fact.text.toLowerCase().includes(c.toLowerCase());
    if (key.type === "exclusion") {
      const elements: ExclusionElements = { columns: plain, mentions };
      reportExclusion(ctx, range, subject("exclusion constraint"), info, elements, [
        "Leave the `EXCLUDE` out of the `CREATE TABLE`. If the rows that must not conflict always share a partition, add it to each partition once they exist (`ALTER TABLE <partition> ADD CONSTRAINT ... EXCLUDE ...`, for every partition created later too).",
        ...exclusionRecipe(ctx, info).slice(1),
      ]);
      continue;
    }
    const primary = key.type === "primary-key";
    report(ctx, range, model, info, { subject: subject(primary ? "primary key" : "unique constraint"), primary, columns: plain.map(([c]) => c), mentions }, () => null);
  }
}

function runSql(ctx: OperationContext): void {
  for (const { fact, range } of forwardStatements(ctx)) {
    if (fact.kind === "create-table") {
      inlineKeys(ctx, fact, range);
      continue;
    }
    if (fact.kind === "add-constraint" && fact.constraintType === "exclusion" && fact.table !== null && isPublic(fact.schema)) {
      const ref = resolveSqlTable(ctx, fact);
      const info = partitionedTable(ctx, ref?.dbModel ?? ref?.model ?? null, fact.table, fact);
      if (!info) continue;
      // The operator of each plain column (`room WITH =`) is read from the text; any other mention
      // of a key column (an expression) is given the benefit of the doubt.
      const words = new Set<string>(fact.text.toLowerCase().match(/[\p{L}_][\p{L}\p{N}_$]*/gu) ?? []);
      const columns = fact.columns.map((c): [string, string | null] => {
        const escaped = c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        const written = new RegExp(String.raw`(?:^|[\s(,])"?${escaped}"?\s+with\s+([^\s,)]+)`, "iu").exec(fact.text);
        return [c, written?.[1] ?? null];
      });
      reportExclusion(ctx, range, `The exclusion constraint of \`${describeStatement(fact)}\``, info, { columns, mentions: (c) => words.has(c.toLowerCase()) }, exclusionRecipe(ctx, info));
      continue;
    }
    const isUnique =
      (fact.kind === "add-constraint" && (fact.constraintType === "unique" || fact.constraintType === "primary-key") && !fact.usingIndex) ||
      (fact.kind === "create-index" && fact.unique);
    if (!isUnique || fact.table === null || !isPublic(fact.schema)) continue;
    const ref = resolveSqlTable(ctx, fact);
    const model = ref?.dbModel ?? ref?.model ?? null;
    const info = partitionedTable(ctx, model, fact.table, fact);
    if (!info || info.keys.length === 0) continue;
    // Any mention of a key column in the statement (an expression, a parenthesised column) is
    // given the benefit of the doubt.
    const words = new Set<string>(fact.text.toLowerCase().match(/[\p{L}_][\p{L}\p{N}_$]*/gu) ?? []);
    for (const quoted of fact.text.match(/"(?:[^"]|"")+"/g) ?? []) words.add(quoted.slice(1, -1).replace(/""/g, '"'));
    const primary = fact.kind === "add-constraint" && fact.constraintType === "primary-key";
    report(
      ctx,
      range,
      model,
      info,
      { subject: `The ${primary ? "primary" : "unique"} key of \`${describeStatement(fact)}\``, primary, columns: fact.columns, mentions: (c) => words.has(c) || words.has(c.toLowerCase()) },
      () => null,
    );
  }
}

/**
 * A docs example: the `Event` model on `library_event`, which a `RunSQL` creates partitioned by
 * `created` (with a `kind` column when asked), then `operation`. Shared with
 * `adding-foreign-key-to-partitioned-table`.
 */
export function partitionedEventMigration(operation: string, options: { kind?: boolean } = {}): string {
  const kind = options.kind === false ? "" : ", kind varchar(20) NOT NULL";
  return `# whole file
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigIntegerField(primary_key=True)),
                        ("created", models.DateField()),${options.kind === false ? "" : `
                        ("kind", models.CharField(max_length=20)),`}
                    ],
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "CREATE TABLE library_event (id bigint NOT NULL, created date NOT NULL${kind}, PRIMARY KEY (id, created)) PARTITION BY RANGE (created)",
                    reverse_sql="DROP TABLE library_event",
                ),
            ],
        ),
${operation}
    ]
`;
}

/** RS216: a unique constraint, unique index, primary key or exclusion constraint on a partitioned table without every partitioning column. */
export const addingUniqueConstraintWithoutPartitionKey: Rule = {
  meta: {
    code: "RS216",
    name: "adding-unique-constraint-without-partition-key",
    severity: "error",
    databases: ["postgresql"],
    claims: ["migration-fails"],
    hazards: [],
    docs: {
      summary: "Adding a unique or exclusion constraint to a partitioned table without every partitioning column, which PostgreSQL refuses",
      what: "Flags, on a table that a `RunSQL` created with `CREATE TABLE ... PARTITION BY` (in an earlier migration of any app, or earlier in the same migration): `AddConstraint(UniqueConstraint(...))` (fields or expressions, with or without `condition`), `AlterUniqueTogether` that adds a set, `AddField`/`AlterField` that turns on `unique=True` (one-to-one fields included) or `primary_key=True`, and `RunSQL` `ADD CONSTRAINT ... UNIQUE`/`PRIMARY KEY`, `ADD COLUMN ... UNIQUE` and `CREATE UNIQUE INDEX`, when the key does not hold every column of the partition key as a plain column, or when the partition key has an expression. Sub-partitioned partitions' keys count too. The `PRIMARY KEY`, `UNIQUE` and `EXCLUDE` constraints written inside the `CREATE TABLE ... PARTITION BY` itself are checked against its key the same way. Also `AddConstraint(ExclusionConstraint(...))` and `RunSQL` `ADD CONSTRAINT ... EXCLUDE`: before PostgreSQL 17 every one (on a table the configuration lists too), from 17 one that does not compare every partitioning column with `=`. The partition key follows the renames and drops of later `RunSQL` and Django operations (`RenameField`, `AlterField` of `db_column`, `RenameModel`, `AlterModelTable`, `DeleteModel`). Tables listed only in the configuration's `partitioned-tables` are not checked for unique keys: their key is unknown.",
      why: 'PostgreSQL enforces uniqueness on a partitioned table with one index per partition, so it accepts a unique constraint, unique index or primary key only when the partition key decides the partition: otherwise it fails with `unique constraint on partitioned table must include all partitioning columns` (and with `unsupported UNIQUE constraint with partition key definition` when the key has an expression), checked on PostgreSQL 15. Exclusion constraints are refused outright before PostgreSQL 17 (`exclusion constraints are not supported on partitioned tables`, checked on PostgreSQL 15); PostgreSQL 17 accepts one under the same rule, with the partitioning columns compared by `=` (otherwise `cannot match partition key to index on column ... using non-equal operator ...`). The deploy\'s `migrate` stops there. Tests on SQLite, or on a test database whose table Django created unpartitioned, never show it.',
      recipe: [
        "If uniqueness together with the partitioning columns is enough, add them to the key: `UniqueConstraint(fields=[\"kind\", \"created\"], ...)`.",
        "If they must be unique across the whole table, enforce it outside the partitioned table: a separate, unpartitioned table with one row per value and its own unique constraint, written in the same transaction, or a check in the application.",
        "For an exclusion constraint: before PostgreSQL 17, add it to each partition with `RunSQL` and keep the `AddConstraint` in `SeparateDatabaseAndState.state_operations`; from 17, compare every partitioning column with `=` in it.",
      ],
      severityReason: "Error: the migration fails on PostgreSQL, so the deploy stops half-way. The verification harness runs the fixtures on PostgreSQL 15 with Django 4.2 and sees the refusal.",
      bad: partitionedEventMigration(`        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(fields=["kind"], name="event_kind_uniq"),
        ),`),
      good: partitionedEventMigration(`        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(fields=["kind", "created"], name="event_kind_created_uniq"),
        ),`),
    },
  },
  operationKinds: ["AddConstraint", "AlterUniqueTogether", "AddField", "AlterField", "RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql" || !mayBePartitioned(ctx)) return;
    const { op } = ctx;
    if (op.kind === "AddConstraint") return addConstraint(ctx);
    if (op.kind === "AlterUniqueTogether") return alterUniqueTogether(ctx);
    if (op.kind === "AddField" || op.kind === "AlterField") return fieldKey(ctx);
    if (op.kind === "RunSQL") return runSql(ctx);
  },
};
