import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { fieldDroppedLater } from "../src/engine/field-drops.js";
import { contribTable, literalString, outsideTable, postgresConstraintName, primaryKeyOf, uniqueConstraintNames, type FieldState, type ModelState } from "../src/state/model-state.js";
import {
  createIndexConcurrentlySql,
  pinnedRenameSource,
  djangoHas,
  djangoIndexName,
  fieldWith,
  LOCK_TIMEOUT_OPERATION,
  migrationModule,
  nullabilityRunSql,
  onlineSchemaChangeTools,
  partitionedIndexOperations,
  partitionedUniqueConstraintOperations,
  partitionTargets,
  postDeployMarker,
  py,
  repeatForEveryPartition,
  runSqlLines,
  separateDatabaseAndState,
  sqlConstant,
  sqlIdent,
} from "../src/advice/snippets.js";
import { partitionedBecause, partitionedOrigin, partitionedTable, type PartitionedTableInfo } from "../src/engine/partitioned-tables.js";
import { fieldOperation, renamedField } from "../src/engine/resolved-operation.js";
import { databaseChanges, dropsForeignKey } from "../src/engine/field-changes.js";
import { operationSource } from "./adding-index-non-concurrently.js";
import { movedBackNote, movesColumnBack, pinnedColumnChange, pinnedColumnNote } from "./renaming-column.js";
import { fillsExistingRows } from "./reversing-migration-fails.js";
import { columnTypeOf, formatColumnType, NOT_NULL_NOTE, notNullWithoutScan } from "./changing-column-type.js";

/** Django's name for the foreign-key constraint of `field` on `table` (`_create_fk_sql`: `_fk_<to_table>_<to_column>`). */
/** The name of the field's constraint: the one it has (`existing`), or the one Django gives it when it makes it now. */
function foreignKeyName(ctx: OperationContext, table: string, field: FieldState, existing = false): string {
  const column = ctx.columnOf(field) ?? `${field.name}_id`;
  const ref = referenced(ctx, field);
  // A constraint made before a table was renamed keeps the names of the tables then.
  const named = existing ? field.fkNamedFor : undefined;
  if (named) return djangoIndexName(named.table, [column], `_fk_${named.refTable}_${ref.column}`);
  return ref.table ? djangoIndexName(table, [column], `_fk_${ref.table}_${ref.column}`) : `<${table}_${column}_..._fk_...>`;
}

/**
 * The referenced table and column: the target model's in state (or one of Django's contrib
 * models'); else, for a model the scanned migrations do not have (an app left out, or a
 * dependency missing), Django's default table name and `id`, marked `assumed`.
 */
function referenced(ctx: OperationContext, field: FieldState): { model: ModelState | null; table: string | null; column: string; assumed?: string } {
  const key = field.relation?.to ?? null;
  const target = key ? (ctx.state.modelByKey(key) ?? null) : null;
  if (!target) {
    if (!key || key.indexOf(".") <= 0) return { model: null, table: null, column: "id" };
    return { model: null, table: outsideTable(key), column: "id", ...(contribTable(key) ? {} : { assumed: key }) };
  }
  const toField = literalString(field.kwargs.to_field);
  const pk = toField ? target.fields.get(toField) : primaryKeyOf(target);
  return { model: target, table: ctx.state.tableOf(target), column: pk ? (ctx.columnOf(pk) ?? "id") : "id" };
}

/**
 * The NOT VALID + VALIDATE steps for a partitioned table, where PostgreSQL refuses a NOT VALID
 * foreign key on the parent ("not yet supported on partitioned tables"): each partition gets the
 * constraint NOT VALID and then validated, and the parent's constraint adopts them without a scan
 * (checked on PostgreSQL 15). Adopting replaces the partitions' triggers on the referenced table,
 * which takes a brief ACCESS EXCLUSIVE lock there, so that step runs under a lock timeout.
 */
function partitionedForeignKeySteps(info: PartitionedTableInfo, fk: { name: string; column: string; refTable: string; refColumn: string }): string[] {
  const partitions = partitionTargets(info.partitions, fk.name);
  const references = `FOREIGN KEY (${sqlIdent(fk.column)}) REFERENCES ${sqlIdent(fk.refTable)} (${sqlIdent(fk.refColumn)}) DEFERRABLE INITIALLY DEFERRED`;
  const repeat = partitions.some((p) => p.placeholder) ? [repeatForEveryPartition(info.table)] : [];
  return [
    `Add the constraint to each partition without checking existing rows (brief SHARE ROW EXCLUSIVE on the partition and \`${fk.refTable}\`, no scan):\n${migrationModule(
      [...repeat, ...partitions.map((p) => runSqlLines(`ALTER TABLE ${p.table} ADD CONSTRAINT ${p.child} ${references} NOT VALID;`, `ALTER TABLE ${p.table} DROP CONSTRAINT IF EXISTS ${p.child};`))],
      { atomic: true },
    )}`,
    `Validate them in a later migration (SHARE UPDATE EXCLUSIVE on each partition, ROW SHARE on \`${fk.refTable}\`: reads and writes go on):\n${migrationModule(
      [...repeat, ...partitions.map((p) => runSqlLines(`ALTER TABLE ${p.table} VALIDATE CONSTRAINT ${p.child};`, null))],
      { atomic: true },
    )}`,
    `Then add the parent's constraint: it adopts the validated partition constraints without scanning, but briefly takes ACCESS EXCLUSIVE on \`${fk.refTable}\` (it replaces the partitions' triggers there), so bound the wait:\n${migrationModule(
      [LOCK_TIMEOUT_OPERATION, runSqlLines(`ALTER TABLE ${sqlIdent(info.table)} ADD CONSTRAINT ${sqlIdent(fk.name)} ${references};`, `ALTER TABLE ${sqlIdent(info.table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(fk.name)};`)],
      { atomic: true },
    )}`,
  ];
}

/** RS205: a foreign-key constraint added (and validated) on an existing table. */
export const addingForeignKeyConstraint: Rule = {
  meta: {
    code: "RS205",
    name: "adding-foreign-key-constraint",
    severity: "error",
    databases: ["postgresql", "mysql"],
    claims: ["blocking-lock"],
    unobservable: "The validation scan of existing rows is instant on a small table; the locks (ACCESS EXCLUSIVE from ADD COLUMN, SHARE ROW EXCLUSIVE on both tables) are observable.",
    hazards: ["H21", "H16"],
    docs: {
      summary: "Adding a foreign-key constraint to an existing table",
      what: "Flags, on an existing managed table: `AddField` of a `ForeignKey`/`OneToOneField` with a database constraint (the default), except, on PostgreSQL, a field with no default of any kind and `db_index=False` (Django 3.0+ adds the constraint inline with the column, which then holds only NULLs, so PostgreSQL marks it valid without checking a row; with an index, the finding is the index build); `AlterField` that turns `db_constraint` on or turns a plain column into a foreign key; and `AlterField` of a constrained foreign key that changes anything Django treats as a schema change (null, index, default, type...), for which Django 4.2+ drops the constraint and adds it back, validated; and `RenameField` of a constrained foreign key whose column changes name (Django renames the column with the same `alter_field`, so it drops and re-adds the constraint too). `CreateModel` with a foreign key to an existing table is not flagged: the new table is empty, so the SHARE ROW EXCLUSIVE lock on the referenced table lasts an instant (a `lock_timeout` covers the wait for it).",
      why: "`ADD CONSTRAINT ... FOREIGN KEY` takes SHARE ROW EXCLUSIVE on both the table and the referenced table (all writes to both wait) and checks every existing row. `AddField` also adds the column under ACCESS EXCLUSIVE and builds the column's index at the end of the migration while that lock is held, so reads wait too. A new column added with no DEFAULT is the exception to the check: all its values are NULL, so PostgreSQL skips it (checked on PostgreSQL 15: no scan of the table, the constraint valid). Dropping a foreign key (Django's first step when it re-adds one) takes ACCESS EXCLUSIVE on both tables, held until the migration commits, so reads of both wait through the check too. On MySQL, adding a foreign key with `foreign_key_checks` on copies the table.",
      recipe: [
        "Add the column without the index: `SeparateDatabaseAndState` with the real field as state and `db_index=False` as the database operation (and `db_constraint=False` when the field has a default, whose rows PostgreSQL would check).",
        "Build the index with `CREATE INDEX CONCURRENTLY` in an `atomic = False` migration.",
        "Where the constraint was left out, add it `NOT VALID` (brief lock, no scan), then `VALIDATE CONSTRAINT` in a later migration (SHARE UPDATE EXCLUSIVE on the table, ROW SHARE on the referenced table: reads and writes go on).",
        "For a `RenameField`, keep the rename in state and rename the column with `RunSQL` in `SeparateDatabaseAndState`: PostgreSQL keeps the constraint on a renamed column, so nothing is checked.",
        "On a partitioned table PostgreSQL refuses a `NOT VALID` foreign key (and `CREATE INDEX CONCURRENTLY`) on the parent: add the constraint `NOT VALID` to each partition and validate it, build the index partition by partition, then add the parent's constraint, which adopts the partitions' without a scan but briefly takes ACCESS EXCLUSIVE on the referenced table (run it after `SET LOCAL lock_timeout`).",
      ],
      severityReason: "Error: writes to both tables (and, for AddField, reads of the table) are blocked while existing rows are checked and the index is built.",
      bad: `migrations.AddField(
    model_name="book",
    name="editor",
    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="library.author"),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="editor",
    # No default: the constraint comes with the column, unchecked. No index (AddIndexConcurrently adds one).
    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="library.author", db_index=False),
)`,
    },
  },
  operationKinds: ["AddField", "AlterField", "RenameField"],
  operation(ctx) {
    if (ctx.target.database === "sqlite") return;
    const found = ctx.op.kind === "RenameField" ? renamedField(ctx) : fieldOperation(ctx);
    if (!found) return;
    const { model, name, before } = found;
    const given = found.after;
    if (!given.relation || given.relation.kind === "m2m" || !given.relation.dbConstraint) return;
    let mode: "add" | "enable" | "readd";
    if (!before) {
      // Added and removed again in the migration (pretalx event 0002's squash): Django's
      // `remove_field` discards the index it would build at the end, and a new column of NULLs
      // has no row to check.
      if (ctx.op.kind === "AddField" && fieldDroppedLater(ctx, model.key, name)) return;
      mode = "add";
    }
    else if (!before.relation || before.relation.kind === "m2m" || !before.relation.dbConstraint) mode = "enable";
    else if (dropsForeignKey(before, given)) mode = "readd";
    else return;
    // A plain column turned into a foreign key moves to `<name>_id` (DefectDojo dojo 0106): the
    // recipe keeps the column where it is, as renaming-column advises.
    const pinned = mode === "enable" && "call" in found ? pinnedColumnChange(ctx, found) : null;
    const renamesColumn = pinned !== null || (mode === "enable" && movesColumnBack(ctx, found));
    const after = pinned?.after ?? given;
    const stateOperation = pinned?.source ?? operationSource(ctx.op);
    const relation = given.relation;
    const renaming = ctx.op.kind === "RenameField";
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(after) ?? `${name}_id`;
    const ref = referenced(ctx, after);
    const refTable = ref.table ?? "<referenced table>";
    const fk = foreignKeyName(ctx, table, after);
    // The constraint Django drops is the one of the field before: another name when the column or
    // the referenced column changes.
    const dropped = mode === "readd" && before ? foreignKeyName(ctx, table, before, true) : fk;
    const oldRef = before ? referenced(ctx, before) : ref;
    const retargeted = oldRef.table !== ref.table || oldRef.column !== ref.column;
    // A foreign key to its own model (a tree's parent) locks one table.
    const selfReference = table === refTable;
    // A table this migration creates has no writers yet: its lock keeps no one waiting (umap 0022).
    const quietRef = selfReference || (ref.model ? ctx.isNewTable(ref.model) : false);
    const both = quietRef ? `\`${table}\`` : `\`${table}\` and \`${refTable}\``;
    const bothWait = quietRef ? "writes to it wait" : "writes to both wait";
    // Dropping a foreign key takes ACCESS EXCLUSIVE on both tables on PostgreSQL (pg_locks, PostgreSQL 15),
    // held until the migration commits: reads wait too. With `atomic = False` each statement commits
    // on its own, so only the validation's SHARE ROW EXCLUSIVE lasts (patchwork 0043).
    const dropLocksBoth = ctx.target.database === "postgresql" && ctx.migration.atomic;
    // The key dropped is the old one: its table is locked, not the new target's (patchwork 0042).
    const oldRefTable = oldRef.table ?? refTable;
    const dropLocked = selfReference || oldRefTable === table ? `\`${table}\`` : `\`${table}\` and \`${oldRefTable}\``;
    const newTargetToo = mode === "readd" && oldRefTable !== refTable && !quietRef ? ` (and writes to \`${refTable}\`)` : "";
    const addSql = `ALTER TABLE ${sqlIdent(table)} ADD CONSTRAINT ${sqlIdent(fk)} FOREIGN KEY (${sqlIdent(column)}) REFERENCES ${sqlIdent(refTable)} (${sqlIdent(ref.column)}) DEFERRABLE INITIALLY DEFERRED NOT VALID;`;
    const dropSql = `ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(fk)};`;
    const validate = `Validate it in a later migration (SHARE UPDATE EXCLUSIVE on \`${table}\`, ROW SHARE on \`${refTable}\`: reads and writes go on):\n${migrationModule(
      [runSqlLines(`ALTER TABLE ${sqlIdent(table)} VALIDATE CONSTRAINT ${sqlIdent(fk)};`, null)],
      { atomic: true },
    )}`;
    const help: string[] = pinned ? [pinnedColumnNote(pinned, table)] : renamesColumn ? [movedBackNote(ctx, found, table)] : [];
    // A plain column turned into an indexed foreign key also gets its index (that finding's recipe
    // builds it); not a unique or primary-key column, which Django does not index
    // (`_field_should_be_indexed`): a one-to-one field has its unique constraint (galaxy_ng 0011).
    if (mode === "enable" && ctx.target.database === "postgresql" && after.dbIndex && !after.unique && !after.primaryKey && relation.kind !== "o2o" && !before?.dbIndex) {
      help.push("The same `AlterField` builds the foreign key's index, which this recipe leaves out: `adding-index-non-concurrently`'s recipe builds it concurrently. Follow both, each in a migration of its own (the state change they repeat is a no-op the second time).");
    }
    const steps: string[] = [];
    // A key moved to a table this migration creates: it is empty until something fills it, so the
    // validation rejects every row that points somewhere (AWX main 0189).
    if (mode === "readd" && retargeted && ref.model && ctx.isNewTable(ref.model)) {
      help.push(
        `\`${refTable}\` is created empty earlier in this migration: adding the constraint fails on every row of \`${table}\` whose \`${column}\` is not NULL ("violates foreign key constraint"), unless a step before this one fills \`${refTable}\` with those ids.${ctx.target.database === "postgresql" ? " A NOT VALID constraint would only move the failure to its VALIDATE." : ""}`,
      );
    }
    if (ref.assumed) {
      help.push(
        `\`${ref.assumed}\` is not in the migrations rollsafe read (its app was not checked, or this migration does not depend on it), so its table is taken to be Django's default name \`${refTable}\` and its key \`${ref.column}\`: \`python manage.py sqlmigrate\` shows the real ones.`,
      );
    }
    const partitioned = ctx.target.database === "postgresql" && mode !== "readd" ? partitionedTable(ctx, model, table) : null;
    const indexed = after.dbIndex || relation.kind === "o2o";
    // A one-to-one field added with AddField gets its UNIQUE inline (`ADD COLUMN ... UNIQUE`), named
    // by PostgreSQL (`<table>_<column>_key`); one made unique by AlterField gets Django's `_uniq`.
    const inlineUnique = mode === "add" && ctx.target.database === "postgresql";
    const index =
      relation.kind !== "o2o"
        ? djangoIndexName(table, [column])
        : inlineUnique
          ? postgresConstraintName(table, column, "key", uniqueConstraintNames(model))
          : djangoIndexName(table, [column], "_uniq");
    // Django 3.0+ adds the constraint inline (`ADD COLUMN ... REFERENCES`), and PostgreSQL does
    // not check a new column's rows when it has no DEFAULT (all NULL): it marks the constraint
    // valid at once. Django writes no DEFAULT when the field has no default of any kind.
    const unchecked = mode === "add" && ctx.target.database === "postgresql" && !partitioned && djangoHas(ctx.target, 3, 0) && fillsExistingRows(after) === false;
    if (unchecked && !indexed) return;
    const fkSteps = partitioned
      ? partitionedForeignKeySteps(partitioned, { name: fk, column, refTable, refColumn: ref.column })
      : null;
    if (ctx.target.database === "mysql") {
      help.push(
        `${mode === "readd" ? `${renaming ? "To rename the column of a constrained foreign key" : "For an `AlterField` that changes the schema of a constrained foreign key"}, Django drops \`${dropped}\` and adds ${dropped === fk ? "it back" : `\`${fk}\``}, and ` : ""}MySQL cannot add a foreign key in place while \`foreign_key_checks\` is on: it copies \`${table}\` (ALGORITHM=COPY), blocking writes for the whole copy, and locks ${both}.`,
      );
      if (mode === "readd" && renaming) {
        // RENAME COLUMN is in place and metadata-only on InnoDB, and MySQL updates the foreign
        // key to the new column name (MySQL 8.0; Django 4.2's MySQL backend emits it too).
        const rename = (from: string, to: string) => `ALTER TABLE ${sqlIdent(table, "mysql")} RENAME COLUMN ${sqlIdent(from, "mysql")} TO ${sqlIdent(to, "mysql")};`;
        const oldColumn = (before && ctx.columnOf(before)) ?? column;
        steps.push(
          `Keep the rename in state and rename the column alone: InnoDB renames it in place without copying the table and updates the constraint to the new column name, so nothing is dropped, added or checked:\n${migrationModule(
            [separateDatabaseAndState([stateOperation + ","], [runSqlLines(rename(oldColumn, column), rename(column, oldColumn))])],
            { atomic: true },
          )}`,
        );
      } else if (mode === "readd" && !retargeted) {
        // MySQL changes the column with the constraint in place (MODIFY keeps it while the type stays).
        steps.push(
          `Keep the change in state and run only the column's own change (\`python manage.py sqlmigrate\` shows it; leave out the DROP FOREIGN KEY and ADD CONSTRAINT of \`${fk}\`), so the constraint stays in place:\n${migrationModule(
            [separateDatabaseAndState([stateOperation + ","], [runSqlLines("<the ALTER TABLE statement sqlmigrate shows for the column, without the foreign key's>", null)])],
            { atomic: true },
          )}`,
        );
      } else {
        steps.push(
          `${mode === "readd" ? "Make the change with `db_constraint=False` now" : "Add the field with `db_constraint=False` now"}, and add the constraint later with an online schema change tool (${onlineSchemaChangeTools(true)}), or in a quiet window.`,
        );
      }
    } else if (mode === "add") {
      const o2o = relation.kind === "o2o";
      help.push(
        `Django adds \`${column}\` with an inline \`REFERENCES ${refTable}\`${o2o ? " and an inline `UNIQUE`" : ""}: ${selfReference ? `ACCESS EXCLUSIVE on \`${table}\`, held` : `ACCESS EXCLUSIVE on \`${table}\` and SHARE ROW EXCLUSIVE on \`${refTable}\` (writes to it wait), both held`} until ${ctx.migration.atomic ? "the migration commits" : "the `ADD COLUMN` commits (`atomic = False`)"}${
          o2o
            ? `; the \`ADD COLUMN\` itself builds the unique index \`${index}\` while holding the ACCESS EXCLUSIVE lock, so even reads of \`${table}\` wait for the build`
            : indexed
              ? ctx.migration.atomic
                ? `; at the end of the migration it builds the column's index while still holding the ACCESS EXCLUSIVE lock, so even reads of \`${table}\` wait for the build`
                : `; at the end of the migration it builds the column's index under a SHARE lock, so writes to \`${table}\` wait for the build`
              : ""
        }.`,
      );
      // NOT NULL without a default: ADD COLUMN fails on a table with rows before the constraint
      // matters (adding-not-nullable-column reports it); the recipe adds the column nullable.
      const failsOnRows = unchecked && after.null === false;
      if (failsOnRows) {
        help.push(
          `The column is NOT NULL without a default, so on a table with rows \`ADD COLUMN\` itself fails ("column "${column}" contains null values"; see adding-not-nullable-column). Added nullable, every row holds NULL and PostgreSQL marks the constraint valid without checking them: the index is what is left.`,
        );
      } else if (unchecked) {
        help.push(`The constraint itself costs no scan: the new column has no default, so every row holds NULL and PostgreSQL marks the constraint valid without checking them. The index is the problem.`);
      }
      // A OneToOneField is always unique (`unique=False` changes nothing): the database side adds
      // the same column as a ForeignKey without its index.
      const written = ctx.op.args.field ?? null;
      const asForeignKey = o2o && written?.kind === "call" && /OneToOneField$/.test(written.callee) ? { ...written, callee: written.callee.replace(/OneToOneField$/, "ForeignKey") } : written;
      const dbField = fieldWith(asForeignKey, { ...(unchecked ? {} : { db_constraint: "False" }), db_index: "False", ...(failsOnRows ? { null: "True" } : {}) });
      steps.push(
        `Add the column ${failsOnRows ? "nullable, " : ""}${unchecked ? "and its constraint without the index (instant: no row is checked)" : "without constraint or index (instant)"}, keeping the real field in state:\n${migrationModule(
          [separateDatabaseAndState([stateOperation + ","], [`migrations.AddField(\n    model_name=${py(model.key)},\n    name=${py(name)},\n    field=${dbField},\n),`])],
          { atomic: true },
        )}`,
      );
      if (after.dbIndex || o2o) {
        const idx = index;
        let statements: string[];
        if (partitioned) {
          statements = o2o
            ? partitionedUniqueConstraintOperations({ parent: table, partitions: partitioned.partitions, name: idx, columns: [column], deferrable: null })
            : partitionedIndexOperations({ parent: table, partitions: partitioned.partitions, index: idx, definition: `(${sqlIdent(column)})`, unique: false });
        } else {
          const { sql, reverse } = createIndexConcurrentlySql(idx, table, [column], { unique: o2o });
          statements = [runSqlLines(sql, reverse)];
          if (o2o) statements.push(runSqlLines(`ALTER TABLE ${sqlIdent(table)} ADD CONSTRAINT ${sqlIdent(idx)} UNIQUE USING INDEX ${sqlIdent(idx)};`, `ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(idx)};`));
        }
        steps.push(`Build Django's ${o2o ? "unique constraint" : "index"} \`${idx}\` ${partitioned ? "partition by partition" : "concurrently"}:\n${migrationModule(statements, { atomic: false, note: "CREATE INDEX CONCURRENTLY cannot run in a transaction" })}`);
      }
      if (failsOnRows) {
        steps.push(
          `Deploy a release that sets \`${name}\` on every save, backfill the existing rows in batches (\`atomic = False\`), then make \`${column}\` NOT NULL as the field says (a validated CHECK first: PostgreSQL 12+ then sets NOT NULL without a scan), in a migration with \`atomic = False\`:\n${migrationModule(notNullWithoutScan(table, column), { atomic: false, note: NOT_NULL_NOTE })}`,
        );
      } else if (unchecked) {
        // Nothing more: the constraint came with the column.
      } else if (fkSteps) {
        steps.push(...fkSteps);
      } else {
        steps.push(`Add the foreign key without checking existing rows (brief SHARE ROW EXCLUSIVE on ${both}, no scan):\n${migrationModule([runSqlLines(addSql, dropSql)], { atomic: true })}`);
        steps.push(validate);
      }
    } else {
      const readded = dropped === fk ? "it back" : `\`${fk}\``;
      help.push(
        mode === "readd"
          ? `${renaming ? "To rename the column of a constrained foreign key" : "For an `AlterField` that changes the schema of a constrained foreign key"}, Django drops \`${dropped}\` first and adds ${readded} afterwards, validated${
              dropLocksBoth
                ? `: dropping a foreign key takes ACCESS EXCLUSIVE on ${dropLocked} (PostgreSQL removes its triggers from both), held until the migration commits, so reads and writes of both wait while every row of \`${table}\` is checked${newTargetToo}.`
                : `: SHARE ROW EXCLUSIVE on ${both} (${bothWait}) while every row of \`${table}\` is checked${ctx.target.database === "postgresql" ? " (with `atomic = False` the drop's ACCESS EXCLUSIVE lock is released as it commits)" : ""}.`
            }`
          : `Django adds \`${fk}\` with a full check of existing rows: SHARE ROW EXCLUSIVE on ${both} (${bothWait}) for the whole scan.`,
      );
      if (mode === "readd" && renaming) {
        const rename = (from: string, to: string) => `ALTER TABLE ${sqlIdent(table)} RENAME COLUMN ${sqlIdent(from)} TO ${sqlIdent(to)};`;
        const oldColumn = (before && ctx.columnOf(before)) ?? column;
        // The column's new name breaks the old release (renaming-column): keeping it, as that
        // finding advises, leaves Django nothing to drop or re-add (DefectDojo dojo 0111).
        if (oldColumn !== column && before?.call) {
          steps.push(
            `Keep the column, as \`renaming-column\` advises: with \`db_column=${py(oldColumn)}\` on the field the rename changes only the attribute, and Django drops, adds and checks nothing:\n${migrationModule([pinnedRenameSource(model.key, name, before.call, oldColumn, literalString(ctx.op.args.new_name) ?? name)], { atomic: true })}`,
          );
        }
        steps.push(
          `${oldColumn !== column && before?.call ? "Or, if the column must take the new name (the old release then breaks, see `renaming-column`), keep" : "Keep"} the rename in state and rename the column alone: PostgreSQL keeps the constraint on the renamed column, so nothing is dropped or checked (a brief ACCESS EXCLUSIVE lock on \`${table}\`):\n${migrationModule(
            [separateDatabaseAndState([stateOperation + ","], [runSqlLines(rename(oldColumn, column), rename(column, oldColumn))])],
            { atomic: true },
          )}`,
        );
      } else if (mode === "readd" && retargeted) {
        // The column changes only when the new target's key has another type, or an option of the
        // column itself changes (BookWyrm's ReadThrough.book, Book -> Edition: nothing but the constraint).
        const needed = before ? databaseChanges(before, after).filter((key) => !["default", "class", "to", "to_field"].includes(key)) : ["the column"];
        // A foreign key's column type is its target key's (`rel_db_type`), as changing-column-type reads it.
        const [beforeType, afterType] = [before && columnTypeOf(before, ctx.state, ctx.target.database), columnTypeOf(after, ctx.state, ctx.target.database)];
        const sameType = !!beforeType && !!afterType && formatColumnType(beforeType) === formatColumnType(afterType);
        const columnSql = sameType && needed.length === 0 ? [] : sameType && needed.length === 1 && needed[0] === "null" ? [nullabilityRunSql(table, column, after.null === true)] : null;
        // Reversed, the old constraint comes back (NOT VALID: the rows were checked against it before).
        const readdOld = oldRef.table
          ? `ALTER TABLE ${sqlIdent(table)} ADD CONSTRAINT ${sqlIdent(dropped)} FOREIGN KEY (${sqlIdent(ctx.columnOf(before ?? after) ?? column)}) REFERENCES ${sqlIdent(oldRef.table)} (${sqlIdent(oldRef.column)}) DEFERRABLE INITIALLY DEFERRED NOT VALID;`
          : null;
        steps.push(
          `The constraint has to change with its target. Keep the change in state ${columnSql === null ? "and run the column change (`python manage.py sqlmigrate` shows it) with" : columnSql.length === 0 ? "and change only the constraint (the column stays as it is):" : `and make the column ${after.null ? "nullable" : "NOT NULL"}, with`} \`${dropped}\` dropped and \`${fk}\` added NOT VALID (brief locks, no scan):\n${migrationModule(
            [
              separateDatabaseAndState(
                [stateOperation + ","],
                [
                  runSqlLines(`ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT ${sqlIdent(dropped)};`, readdOld),
                  ...(columnSql ?? [runSqlLines("<the ALTER TABLE statements sqlmigrate shows for the column, without the foreign key's>", null)]),
                  runSqlLines(addSql, dropSql),
                ],
              ),
            ],
            { atomic: true },
          )}`,
          validate,
        );
      } else if (mode === "readd") {
        // What the column itself needs, without the foreign key's drop and re-add (a new default
        // is Python's alone then, and so is a new class making the same column; a new target with
        // the same table and column, such as a proxy of the old one, changes nothing): nothing, a
        // NOT NULL change, or what sqlmigrate shows.
        const needed = before ? databaseChanges(before, after).filter((key) => !["default", "class", "to"].includes(key)) : [];
        const sql = needed.length === 0 ? [] : needed.length === 1 && needed[0] === "null" ? [nullabilityRunSql(table, column, after.null === true)] : null;
        const notNull = sql !== null && sql.length > 0 && !after.null;
        if (notNull) {
          // Django fills the NULL rows with the default before SET NOT NULL (treeherder perf 0009);
          // without a default they must already be filled.
          const value = after.hasDefault ? sqlConstant(after.default) : null;
          const fill = value !== null ? `UPDATE ${sqlIdent(table)} SET ${sqlIdent(column)} = ${value} WHERE ${sqlIdent(column)} IS NULL` : null;
          steps.push(
            `Ship a release that never writes NULL to \`${name}\`, then fill the rows that are NULL in batches, in a data migration with \`atomic = False\`${fill ? ` (what Django's own step would do in one statement: \`${fill}\`)` : ""}.`,
            // The old release may still write NULL: the NOT NULL step waits for the deploy, as
            // setting-column-not-null's recipe on the same line says (Tandoor cookbook 0138).
            `After the deploy, in a migration marked ${postDeployMarker(ctx.target.markerStyle)}, keep the change in state and make the column NOT NULL with SQL, so the constraint stays in place, without a long lock (a validated CHECK first: PostgreSQL 12+ then sets NOT NULL without a scan; \`setting-column-not-null\` gives the same steps with Django's operations):\n${migrationModule([separateDatabaseAndState([stateOperation + ","], notNullWithoutScan(table, column))], { atomic: false, note: NOT_NULL_NOTE })}`,
          );
        } else if (needed.every((key) => key === "unique" || key === "db_index") && needed.includes("unique") && after.unique) {
          // Only the uniqueness changes (ForeignKey to OneToOneField, python.org users 0006):
          // adding-unique-constraint's recipe builds the unique index concurrently in state-only
          // SQL, which leaves the foreign key alone.
          steps.push(
            `Keep the change in state and build only the unique constraint, concurrently, as \`adding-unique-constraint\`'s recipe for this \`AlterField\` does: its SQL never touches \`${fk}\`, so the constraint stays in place and nothing is re-validated.`,
          );
        } else steps.push(
          sql === null
            ? `Keep the change in state and run only the SQL the change needs (\`python manage.py sqlmigrate\` shows it; leave out the DROP/ADD of \`${fk}\`), so the constraint stays in place:\n${migrationModule(
                [separateDatabaseAndState([stateOperation + ","], [runSqlLines(`<the ALTER TABLE statements sqlmigrate shows for ${needed.join(", ")}, without the foreign key's>`, null)])],
                { atomic: true },
              )}`
            : `Keep the change in state and ${sql.length === 0 ? "run no SQL: the column itself does not change" : "make the column nullable with SQL"}, so the constraint stays in place:\n${migrationModule([separateDatabaseAndState([stateOperation + ","], sql)], { atomic: true })}`,
        );
      } else if (fkSteps) {
        steps.push(`Keep the change in state only, with no SQL yet:\n${migrationModule([separateDatabaseAndState([stateOperation + ","], [])], { atomic: true })}`, ...fkSteps);
      } else {
        steps.push(
          `Keep the change in state and add the constraint NOT VALID (brief lock, no scan):\n${migrationModule([separateDatabaseAndState([stateOperation + ","], [runSqlLines(addSql, dropSql)])], { atomic: true })}`,
          validate,
        );
      }
    }
    if (partitioned) {
      help.push(
        `\`${table}\` is partitioned (${partitionedBecause(partitioned)}): PostgreSQL refuses a NOT VALID foreign key${mode === "add" && (after.dbIndex || relation.kind === "o2o") ? " and CREATE INDEX CONCURRENTLY" : ""} on a partitioned table, so the constraint is added and validated partition by partition, and the parent's constraint then adopts them without a scan.`,
      );
    }
    const verb =
      mode === "add"
        ? `Adding foreign key \`${model.name}.${name}\``
        : mode === "enable"
          ? `Turning on the foreign-key constraint of \`${model.name}.${name}\``
          : `${renaming ? "Renaming" : "Altering"} foreign key \`${model.name}.${name}\``;
    const what = mode !== "readd" ? `adds constraint \`${fk}\`` : dropped === fk ? `drops and re-adds constraint \`${fk}\`` : `drops constraint \`${dropped}\` and adds \`${fk}\``;
    ctx.report({
      range: ctx.op.range,
      message: unchecked
        ? relation.kind !== "o2o" && !ctx.migration.atomic
          ? `${verb} builds its index \`${index}\` under a SHARE lock on \`${table}\`, so writes to \`${table}\` wait for the build.`
          : `${verb} builds its ${relation.kind === "o2o" ? "unique " : ""}index \`${index}\` while holding ACCESS EXCLUSIVE on \`${table}\`, so reads and writes of \`${table}\` wait for the build${quietRef ? "" : ` (writes to \`${refTable}\` too)`}.`
        : mode === "readd" && dropLocksBoth
          ? `${verb} ${what}, checking every row of \`${table}\` while reads and writes of ${dropLocked} are blocked${newTargetToo}.`
          : ctx.target.database === "mysql"
            ? `${verb} ${what}, which makes MySQL copy \`${table}\` (ALGORITHM=COPY) while writes to ${both} are blocked.`
            : mode === "add"
              ? // Django adds the constraint inline (\`ADD COLUMN ... REFERENCES\`): the check runs under the ADD COLUMN's ACCESS EXCLUSIVE lock (pulpcore 0102).
                `${verb} ${what}, checking every row of \`${table}\` while reads and writes of \`${table}\`${quietRef ? "" : ` and writes to \`${refTable}\``} are blocked.`
              : renamesColumn && ctx.migration.atomic
                ? `${verb} ${what}, checking every row of \`${table}\` while reads and writes of \`${table}\`${quietRef ? "" : ` and writes to \`${refTable}\``} are blocked (the column rename's ACCESS EXCLUSIVE lock is held).`
                : `${verb} ${what}, checking every row of \`${table}\` while writes to ${both} are blocked.`,
      help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
      related: [...(before?.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was last defined here`)] : []), ...((partitioned && partitionedOrigin(ctx, partitioned)) || [])],
    });
  },
};

