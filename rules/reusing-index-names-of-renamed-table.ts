import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { parsedStatements } from "../src/engine/sql-facts-for-operation.js";
import { code, likeIndexOpclass, py, runSqlLines, sqlIdent } from "../src/advice/snippets.js";
import { defaultTableName, dictOf, djangoIndexName, isColumnless, literalBool, literalString, type ModelState } from "../src/state/model-state.js";

/**
 * The names of the indexes Django makes for a model on `table` itself (not those its `Meta`
 * names): a field's index (`db_index`, a foreign key's), the `_like` index of an indexed or unique
 * varchar/text column on PostgreSQL, and the `_idx`/`_uniq` indexes of `index_together` and
 * `unique_together`; each with what it is for. `fields`/`together` keep only those.
 */
function generatedIndexNames(
  ctx: OperationContext,
  model: ModelState,
  table: string,
  only?: { fields: string[]; together: string[][] },
): Map<string, string> {
  const names = new Map<string, string>();
  const pg = ctx.target.database === "postgresql";
  for (const field of model.fields.values()) {
    if ((only && !only.fields.includes(field.name)) || field.relation?.kind === "m2m" || isColumnless(field)) continue;
    const column = ctx.columnOf(field) ?? field.name;
    const unique = field.unique || field.primaryKey;
    if (field.dbIndex && !unique) names.set(djangoIndexName(table, [column]), `the index of \`${model.name}.${field.name}\``);
    if (pg && (field.dbIndex || unique) && likeIndexOpclass(field)) names.set(djangoIndexName(table, [column], "_like"), `the \`_like\` index of \`${model.name}.${field.name}\``);
  }
  const columns = (set: string[]) =>
    set.map((name) => {
      const field = model.fields.get(name);
      return (field && ctx.columnOf(field)) ?? name;
    });
  const inOnly = (set: string[]) => !only || only.together.some((t) => t.join() === set.join());
  for (const set of model.indexTogether) if (inOnly(set)) names.set(djangoIndexName(table, columns(set), "_idx"), `the \`index_together\` index (${set.join(", ")}) of \`${model.name}\``);
  for (const set of model.uniqueTogether) if (inOnly(set)) names.set(djangoIndexName(table, columns(set), "_uniq"), `the \`unique_together\` index (${set.join(", ")}) of \`${model.name}\``);
  return names;
}

/** RS515: `CreateModel` on a table name another table had, whose indexes still hold Django's names for it. */
export const reusingIndexNamesOfRenamedTable: Rule = {
  meta: {
    code: "RS515",
    name: "reusing-index-names-of-renamed-table",
    severity: "error",
    databases: ["postgresql", "sqlite"],
    claims: ["migration-fails"],
    hazards: [],
    docs: {
      summary: "Creating a model on the old name of a renamed table, whose indexes still hold the names Django gives the new ones",
      what: "Flags `CreateModel` of a managed model whose table has the name another model's table had before a `RenameModel` or `AlterModelTable` (in this migration or an earlier one), when an index Django makes for the new table (a field's index, a foreign key's, the `_like` index of a varchar or text column on PostgreSQL, `index_together`/`unique_together`) has the name of one the renamed table still has: Django names those indexes after the table and the columns alone, and a table rename keeps them.",
      why: "Index names are unique in the whole schema on PostgreSQL and SQLite, and `ALTER TABLE ... RENAME` leaves a table's indexes their names: the new table's `CREATE INDEX` fails with `relation \"...\" already exists` and the migration rolls back (EvaP had to create its new `Course` on `evaluation_course_temp` after renaming `Course` to `Evaluation`).",
      recipe: [
        "On PostgreSQL, rename the old table's indexes first, in the same migration: `ALTER INDEX ... RENAME TO ...` with the names Django gives them for the table they are on now (a catalog change; Django finds indexes by their columns when it changes them later).",
        "Or give the new model another table (`db_table`) and rename it when the old indexes are gone.",
      ],
      severityReason: "Error: `migrate` fails on every database that has the renamed table's indexes, which is every database.",
      config: '# renaming-table reports the rename itself; this example leaves it out.\nignore = ["renaming-table"]\n',
      bad: `migrations.RenameModel(old_name="Book", new_name="Title"),
migrations.CreateModel(
    name="Book",
    fields=[
        ("id", models.BigAutoField(primary_key=True, serialize=False)),
        ("author", models.ForeignKey(on_delete=models.CASCADE, to="library.author")),
    ],
)`,
      good: `migrations.RenameModel(old_name="Book", new_name="Title"),
migrations.CreateModel(
    name="Book",
    fields=[
        ("id", models.BigAutoField(primary_key=True, serialize=False)),
        ("author", models.ForeignKey(on_delete=models.CASCADE, to="library.author")),
    ],
    options={"db_table": "library_book_new"},
)`,
    },
  },
  operationKinds: ["CreateModel"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "CreateModel" || op.unknown || ctx.effect === "state") return;
    const name = literalString(op.args.name);
    if (!name) return;
    const options = dictOf(op.args.options);
    if (literalBool(options.managed) === false || literalBool(options.proxy) === true) return;
    const table = literalString(options.db_table) ?? defaultTableName(ctx.migration.app, name.toLowerCase());
    // The tables renamed away from this name, with the indexes they keep: usually none.
    const renamed = ctx.db.modelsKeepingIndexNamesOf(table).filter((m) => m.managed && !m.proxy);
    if (renamed.length === 0) return;
    const after = ctx.state.shadow();
    after.apply(op, { app: ctx.migration.app, migration: ctx.migration.id, file: ctx.migration.path });
    const created = after.model(ctx.migration.app, name);
    if (!created) return;
    const wanted = generatedIndexNames(ctx, created, table);
    // Indexes renamed or dropped by raw SQL earlier in this migration free their names (the recipe).
    const freed = new Set<string>();
    for (const o of ctx.migration.operations) {
      if (o.index >= (ctx.parent ?? op).index) break;
      for (const sql of o.kind === "SeparateDatabaseAndState" ? (o.databaseOperations ?? []) : [o]) {
        if (sql.kind !== "RunSQL") continue;
        for (const { fact } of parsedStatements(ctx.sql(sql)?.forward)) if ((fact.kind === "rename-index" || fact.kind === "drop-index") && fact.index) freed.add(fact.index);
      }
    }
    for (const old of renamed) {
      const held = generatedIndexNames(ctx, old, table, old.indexesNamedFor);
      const clashes = [...wanted.keys()].filter((n) => held.has(n) && !freed.has(n));
      if (clashes.length === 0) continue;
      const now = ctx.db.tableOf(old);
      const first = clashes[0] as string;
      // The names Django would give the same indexes on the table they are on now.
      const current = generatedIndexNames(ctx, old, now, old.indexesNamedFor);
      const byWhat = new Map([...current].map(([n, what]) => [what, n]));
      const renames = clashes.map((n) => ({ from: n, to: byWhat.get(held.get(n) as string) ?? `${n}_old` }));
      ctx.report({
        range: op.range,
        message: `Creating \`${name}\` on \`${table}\` makes index \`${first}\`${clashes.length > 1 ? ` (and ${clashes.length - 1} more)` : ""}, a name \`${now}\` still holds since it was renamed from \`${table}\`: the migration fails with \`relation "${first}" already exists\`.`,
        help: [
          `Django names ${held.get(first)} after the table and its columns alone, and renaming \`${table}\` to \`${now}\` kept the name; index names are unique in the whole ${ctx.target.database === "sqlite" ? "database on SQLite" : "schema on PostgreSQL"}, so the new table's \`CREATE INDEX\` fails and the migration rolls back.`,
          ...(ctx.target.database === "postgresql"
            ? [
                `1. Before this \`CreateModel\`, in the same migration, give the old indexes the names Django gives them on \`${now}\` (a catalog change; Django finds indexes by their columns when it changes them later):\n${code(
                  renames.map((r) => runSqlLines(`ALTER INDEX ${sqlIdent(r.from)} RENAME TO ${sqlIdent(r.to)};`, `ALTER INDEX ${sqlIdent(r.to)} RENAME TO ${sqlIdent(r.from)};`)).join("\n"),
                )}`,
                `2. Or give \`${name}\` another table for now (\`"db_table": ${py(`${table}_new`)}\` in its options) and rename it to \`${table}\` once the old indexes are gone.`,
              ]
            : [`1. Give \`${name}\` another table (\`"db_table": ${py(`${table}_new`)}\` in its options): SQLite has no \`ALTER INDEX ... RENAME\`, so the old indexes keep their names until they are dropped and made again.`]),
        ],
      });
      return;
    }
  },
};
