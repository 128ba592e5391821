/**
 * The rule registry: an explicit list, not a glob, so the set of rules is reviewable and every
 * code is unique (checked by the meta-test).
 */
import type { Rule } from "../src/engine/rule-types.js";
import { ruleCatalog } from "./catalog.js";
import { findRuleEntry } from "./rule-entry.js";
import { parseError } from "./parse-error.js";
import { ioError } from "./io-error.js";
import { unknownOperation } from "./unknown-operation.js";
import { missingDependency } from "./missing-dependency.js";
import { dependencyCycle } from "./dependency-cycle.js";
import { missingMigrationClass } from "./missing-migration-class.js";
import { duplicateAppLabel } from "./duplicate-app-label.js";
import { unresolvedReference } from "./unresolved-reference.js";
import { internalError } from "./internal-error.js";
import { unusedSuppression } from "./unused-suppression.js";
import { missingSuppressionReason } from "./missing-suppression-reason.js";
import { droppingColumn } from "./dropping-column.js";
import { droppingTable } from "./dropping-table.js";
import { renamingColumn } from "./renaming-column.js";
import { renamingTable } from "./renaming-table.js";
import { renamingModelRebuildsForeignKeys } from "./renaming-model-rebuilds-foreign-keys.js";
import { addingNotNullableColumn } from "./adding-not-nullable-column.js";
import { settingColumnNotNull } from "./setting-column-not-null.js";
import { removingNotNullColumnFromState } from "./removing-not-null-column-from-state.js";
import { removingForeignKeyWithConstraint } from "./removing-foreign-key-with-constraint.js";
import { addingNullableColumnWithDefault } from "./adding-nullable-column-with-default.js";
import { changingColumnType } from "./changing-column-type.js";
import { changingPrimaryKeyType } from "./changing-primary-key-type.js";
import { narrowingColumn } from "./narrowing-column.js";
import { changingColumnCollation } from "./changing-column-collation.js";
import { addingColumnWithCallableDefault } from "./adding-column-with-callable-default.js";
import { addingColumnWithVolatileDefault } from "./adding-column-with-volatile-default.js";
import { addingStoredGeneratedColumn } from "./adding-stored-generated-column.js";
import { addingAutoIncrementColumn } from "./adding-auto-increment-column.js";
import { addingIndexNonConcurrently } from "./adding-index-non-concurrently.js";
import { addingUniqueConstraint } from "./adding-unique-constraint.js";
import { addingExclusionConstraint } from "./adding-exclusion-constraint.js";
import { addingForeignKeyConstraint } from "./adding-foreign-key-constraint.js";
import { runningConcurrentOperationInTransaction } from "./running-concurrent-operation-in-transaction.js";
import { mixingConcurrentAndOrdinaryDdl } from "./mixing-concurrent-and-ordinary-ddl.js";
import { buildingIndexConcurrentlyWithoutIfNotExists } from "./building-index-concurrently-without-if-not-exists.js";
import { addingIndexConcurrentlyOnPartitionedTable } from "./adding-index-concurrently-on-partitioned-table.js";
import { removingIndexConcurrentlyOnPartitionedTable } from "./removing-index-concurrently-on-partitioned-table.js";
import { addingUniqueConstraintWithoutPartitionKey } from "./adding-unique-constraint-without-partition-key.js";
import { addingForeignKeyToPartitionedTable } from "./adding-foreign-key-to-partitioned-table.js";
import { changingPartitionKeyColumn } from "./changing-partition-key-column.js";
import { changingPrimaryKey } from "./changing-primary-key.js";
import { removingIndexNonConcurrently } from "./removing-index-non-concurrently.js";
import { validatingConstraintInSameTransaction } from "./validating-constraint-in-same-transaction.js";
import { addingCheckConstraint } from "./adding-check-constraint.js";
import { runsqlUnparsable } from "./runsql-unparsable.js";
import { runsqlUnverifiable } from "./runsql-unverifiable.js";
import { runsqlDroppingColumn } from "./runsql-dropping-column.js";
import { runsqlDroppingTable } from "./runsql-dropping-table.js";
import { runsqlRenamingColumn } from "./runsql-renaming-column.js";
import { runsqlRenamingTable } from "./runsql-renaming-table.js";
import { runsqlAddingIndexNonConcurrently } from "./runsql-adding-index-non-concurrently.js";
import { runsqlAddingConstraintWithoutNotValid } from "./runsql-adding-constraint-without-not-valid.js";
import { runsqlSettingNotNull } from "./runsql-setting-not-null.js";
import { runsqlAlteringColumnType } from "./runsql-altering-column-type.js";
import { runsqlConcurrentlyInAtomicMigration } from "./runsql-concurrently-in-atomic-migration.js";
import { runsqlTruncatingTable } from "./runsql-truncating-table.js";
import { runsqlUpdatingAllRows } from "./runsql-updating-all-rows.js";
import { runsqlTransactionControl } from "./runsql-transaction-control.js";
import { runsqlAddingColumnWithRewrite } from "./runsql-adding-column-with-rewrite.js";
import { runsqlAddingRequiredColumn } from "./runsql-adding-required-column.js";
import { runsqlBlockingMaintenance } from "./runsql-blocking-maintenance.js";
import { runsqlCreatingTrigger } from "./runsql-creating-trigger.js";
import { runsqlAlteringEnum } from "./runsql-altering-enum.js";
import { runsqlDroppingSchemaOrDatabase } from "./runsql-dropping-schema-or-database.js";
import { runsqlDestructiveReverseSql } from "./runsql-destructive-reverse-sql.js";
import { runpythonWithoutReverseCode } from "./runpython-without-reverse-code.js";
import { runsqlWithoutReverseSql } from "./runsql-without-reverse-sql.js";
import { runpythonImportingModels } from "./runpython-importing-models.js";
import { mixingBackfillWithSchemaChanges } from "./mixing-backfill-with-schema-changes.js";
import { runpythonUpdatingAllRows } from "./runpython-updating-all-rows.js";
import { removingAutoIncrement } from "./removing-auto-increment.js";
import { runningNonAtomicRunpythonInAtomicMigration } from "./running-non-atomic-runpython-in-atomic-migration.js";
import { multipleLeafMigrations } from "./multiple-leaf-migrations.js";
import { addingInPostDeployMigration } from "./adding-in-post-deploy-migration.js";
import { mixingDeployStages } from "./mixing-deploy-stages.js";
import { dependingOnPostDeployMigration } from "./depending-on-post-deploy-migration.js";
import { namingIdentifierTooLong } from "./naming-identifier-too-long.js";
import { mismatchingDatabaseAndStateOperations } from "./mismatching-database-and-state-operations.js";
import { pointingFieldAtMissingColumn } from "./pointing-field-at-missing-column.js";
import { pointingRelationAtMissingModel } from "./pointing-relation-at-missing-model.js";
import { reusingIndexNamesOfRenamedTable } from "./reusing-index-names-of-renamed-table.js";
import { addingExistingColumn } from "./adding-existing-column.js";
import { makingFieldNullableOnlyInState } from "./making-field-nullable-only-in-state.js";
import { wideningFieldOnlyInState } from "./widening-field-only-in-state.js";
import { pointingModelAtMissingTable } from "./pointing-model-at-missing-table.js";
import { runningDdlWithoutLockTimeout } from "./running-ddl-without-lock-timeout.js";
import { missingStageMarker } from "./missing-stage-marker.js";
import { addingIndexWithManyColumns } from "./adding-index-with-many-columns.js";
import { creatingModelWithIntegerPrimaryKey } from "./creating-model-with-integer-primary-key.js";
import { removingConstraint } from "./removing-constraint.js";
import { addingForeignKeyWithoutIndex } from "./adding-foreign-key-without-index.js";
import { namingColumnWithReservedKeyword } from "./naming-column-with-reserved-keyword.js";
import { runsqlAddingJsonColumn } from "./runsql-adding-json-column.js";
import { runsqlUsingDiscouragedColumnType } from "./runsql-using-discouraged-column-type.js";
import { reversingMigrationFails } from "./reversing-migration-fails.js";
import { reversingMigrationDropsData } from "./reversing-migration-drops-data.js";
import { alteringHotTable } from "./altering-hot-table.js";
import { runningSlowOperationOnLargeTableBeforeDeploy } from "./running-slow-operation-on-large-table-before-deploy.js";
import { runningSlowOperationUnderExclusiveLock } from "./running-slow-operation-under-exclusive-lock.js";
import { makingColumnNullable } from "./making-column-nullable.js";
import { creatingModelWithoutUuidPrimaryKey } from "./creating-model-without-uuid-primary-key.js";

export const rules: Rule[] = [
  parseError,
  ioError,
  unknownOperation,
  missingDependency,
  dependencyCycle,
  missingMigrationClass,
  duplicateAppLabel,
  unresolvedReference,
  internalError,
  unusedSuppression,
  missingSuppressionReason,
  droppingColumn,
  droppingTable,
  renamingColumn,
  renamingTable,
  renamingModelRebuildsForeignKeys,
  addingNotNullableColumn,
  settingColumnNotNull,
  removingNotNullColumnFromState,
  removingForeignKeyWithConstraint,
  addingNullableColumnWithDefault,
  changingColumnType,
  changingPrimaryKeyType,
  removingAutoIncrement,
  narrowingColumn,
  changingColumnCollation,
  addingColumnWithCallableDefault,
  addingColumnWithVolatileDefault,
  addingStoredGeneratedColumn,
  addingAutoIncrementColumn,
  addingIndexNonConcurrently,
  addingUniqueConstraint,
  addingExclusionConstraint,
  addingForeignKeyConstraint,
  runningConcurrentOperationInTransaction,
  mixingConcurrentAndOrdinaryDdl,
  buildingIndexConcurrentlyWithoutIfNotExists,
  addingIndexConcurrentlyOnPartitionedTable,
  removingIndexConcurrentlyOnPartitionedTable,
  addingUniqueConstraintWithoutPartitionKey,
  addingForeignKeyToPartitionedTable,
  changingPartitionKeyColumn,
  changingPrimaryKey,
  removingIndexNonConcurrently,
  validatingConstraintInSameTransaction,
  addingCheckConstraint,
  runsqlUnparsable,
  runsqlUnverifiable,
  runsqlDroppingColumn,
  runsqlDroppingTable,
  runsqlRenamingColumn,
  runsqlRenamingTable,
  runsqlAddingIndexNonConcurrently,
  runsqlAddingConstraintWithoutNotValid,
  runsqlSettingNotNull,
  runsqlAlteringColumnType,
  runsqlConcurrentlyInAtomicMigration,
  runsqlTruncatingTable,
  runsqlUpdatingAllRows,
  runsqlTransactionControl,
  runsqlAddingColumnWithRewrite,
  runsqlAddingRequiredColumn,
  runsqlBlockingMaintenance,
  runsqlCreatingTrigger,
  runsqlAlteringEnum,
  runsqlDroppingSchemaOrDatabase,
  runsqlDestructiveReverseSql,
  runpythonWithoutReverseCode,
  runsqlWithoutReverseSql,
  runpythonImportingModels,
  mixingBackfillWithSchemaChanges,
  runpythonUpdatingAllRows,
  runningNonAtomicRunpythonInAtomicMigration,
  multipleLeafMigrations,
  addingInPostDeployMigration,
  mixingDeployStages,
  dependingOnPostDeployMigration,
  namingIdentifierTooLong,
  mismatchingDatabaseAndStateOperations,
  pointingFieldAtMissingColumn,
  makingFieldNullableOnlyInState,
  pointingModelAtMissingTable,
  wideningFieldOnlyInState,
  pointingRelationAtMissingModel,
  reusingIndexNamesOfRenamedTable,
  addingExistingColumn,
  runningDdlWithoutLockTimeout,
  missingStageMarker,
  addingIndexWithManyColumns,
  creatingModelWithIntegerPrimaryKey,
  removingConstraint,
  addingForeignKeyWithoutIndex,
  namingColumnWithReservedKeyword,
  runsqlAddingJsonColumn,
  runsqlUsingDiscouragedColumnType,
  reversingMigrationFails,
  reversingMigrationDropsData,
  alteringHotTable,
  runningSlowOperationOnLargeTableBeforeDeploy,
  runningSlowOperationUnderExclusiveLock,
  makingColumnNullable,
  creatingModelWithoutUuidPrimaryKey,
];

/** Finds a rule by code (`RS101`) or name (`dropping-column`), case-insensitively. */
export function findRule(codeOrName: string): Rule | undefined {
  const entry = findRuleEntry(ruleCatalog, codeOrName);
  return entry && rules.find((r) => r.meta.name === entry.name);
}
