/**
 * Turns one libpg_query statement node into {@link SqlStatementFact}s. This is the only module
 * that knows libpg_query's syntax tree shapes (the JSON of PostgreSQL's raw parse tree).
 */
import type {
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  DropStmt,
  Node,
  RangeVar,
  RenameStmt,
  SelectStmt,
  TypeName,
  VariableSetStmt,
} from "libpg-query";
import { expressionVolatility } from "./expression-volatility.js";
import type {
  SqlColumnFact,
  SqlConstraintType,
  SqlForeignKeyFact,
  SqlQualifiedName,
  SqlSettingFact,
  SqlStatementFact,
  SqlStatementKind,
  SqlTransactionAction,
  SqlTypeName,
} from "./sql-facts.js";

/** Where a statement sits in the original SQL. */
export interface StatementSpan {
  offset: number;
  length: number;
  text: string;
}

type FactFields = Partial<Omit<SqlStatementFact, "kind" | "nodeType" | "offset" | "length" | "text">>;

function makeFact(span: StatementSpan, nodeType: string, kind: SqlStatementKind, fields: FactFields): SqlStatementFact {
  return {
    kind,
    nodeType,
    subcommand: null,
    schema: null,
    table: null,
    only: false,
    column: null,
    columns: [],
    newName: null,
    index: null,
    constraint: null,
    constraintType: null,
    inline: false,
    references: [],
    foreignKeys: [],
    objectType: null,
    objectName: null,
    concurrently: false,
    ifExists: false,
    ifNotExists: false,
    notValid: false,
    usingIndex: false,
    cascade: false,
    hasWhere: false,
    unique: false,
    partial: false,
    notNull: false,
    defaultVolatility: "none",
    identity: false,
    serial: false,
    generatedStored: false,
    dataType: null,
    tableColumns: [],
    usingExpression: false,
    enumValue: null,
    setting: null,
    transaction: null,
    lockMode: null,
    notInTransaction: false,
    partitioning: null,
    ...fields,
    offset: span.offset,
    length: span.length,
    text: span.text,
  };
}

/** The single key of a node object, e.g. `AlterTableStmt`. */
export function nodeTypeOf(node: Node): string {
  return Object.keys(node)[0] ?? "unknown";
}

function stringsOf(nodes: Node[] | undefined): string[] {
  const result: string[] = [];
  for (const node of nodes ?? []) {
    if ("String" in node) result.push(node.String.sval ?? "");
  }
  return result;
}

/** Splits `[schema, name]` / `[name]` lists (extra leading parts such as a database are dropped). */
function qualified(parts: string[]): SqlQualifiedName {
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length > 1 ? (parts[parts.length - 2] ?? null) : null;
  return { schema, name };
}

function relationFields(relation: RangeVar | undefined): { schema: string | null; table: string | null; only: boolean } {
  if (relation === undefined) return { schema: null, table: null, only: false };
  // `inh` is false exactly when ONLY was written (the JSON omits false values).
  return { schema: relation.schemaname ?? null, table: relation.relname ?? null, only: relation.inh !== true };
}

function relationName(relation: RangeVar | undefined): SqlQualifiedName | null {
  if (relation?.relname === undefined) return null;
  return { schema: relation.schemaname ?? null, name: relation.relname };
}

function dotted(name: SqlQualifiedName | null): string | null {
  if (name === null) return null;
  return name.schema === null ? name.name : `${name.schema}.${name.name}`;
}

/** `OBJECT_MATVIEW` -> `materialized view`, `OBJECT_FOREIGN_TABLE` -> `foreign table`. */
function objectTypeName(objectType: string | undefined): string | null {
  if (objectType === undefined) return null;
  const special: Record<string, string> = {
    OBJECT_MATVIEW: "materialized view",
    OBJECT_TABCONSTRAINT: "constraint",
    OBJECT_DOMCONSTRAINT: "domain constraint",
    OBJECT_FDW: "foreign data wrapper",
  };
  return special[objectType] ?? objectType.replace(/^OBJECT_/, "").replace(/_/g, " ").toLowerCase();
}

/** The dotted name of a DROP/COMMENT object node (a name list, a bare name, a type, a function). */
function objectNodeName(node: Node | undefined): string | null {
  if (node === undefined) return null;
  if ("List" in node) return stringsOf(node.List.items).join(".");
  if ("String" in node) return node.String.sval ?? null;
  if ("TypeName" in node) return stringsOf(node.TypeName.names).join(".");
  if ("ObjectWithArgs" in node) return stringsOf(node.ObjectWithArgs.objname).join(".");
  return null;
}

/** The text of a constant: `2s`, `0`, `1.5`, `true`; null for NULL and non-constants. */
function constantText(node: Node | undefined): string | null {
  if (node === undefined) return null;
  if ("A_Const" in node) {
    const constant = node.A_Const;
    if (constant.isnull === true) return null;
    // Zero and false are omitted from libpg_query's JSON: `{"ival": {}}` is 0.
    if (constant.ival !== undefined) return String(constant.ival.ival ?? 0);
    if (constant.fval !== undefined) return constant.fval.fval ?? "0";
    if (constant.sval !== undefined) return constant.sval.sval ?? "";
    if (constant.boolval !== undefined) return constant.boolval.boolval === true ? "true" : "false";
    if (constant.bsval !== undefined) return constant.bsval.bsval ?? "";
    return null;
  }
  if ("TypeCast" in node) return constantText(node.TypeCast.arg);
  if ("String" in node) return node.String.sval ?? "";
  if ("Integer" in node) return String(node.Integer.ival ?? 0);
  if ("Float" in node) return node.Float.fval ?? "0";
  if ("Boolean" in node) return node.Boolean.boolval === true ? "true" : "false";
  return null;
}

/** Whether a `(FULL)`/`(CONCURRENTLY false)`-style option list turns `name` on. */
function optionEnabled(options: Node[] | undefined, name: string): boolean {
  for (const option of options ?? []) {
    if (!("DefElem" in option) || option.DefElem.defname !== name) continue;
    const value = constantText(option.DefElem.arg)?.toLowerCase();
    return value === undefined || !["false", "off", "0", "no"].includes(value);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Types

/** SQL spellings of the catalog type names the grammar produces for standard type syntax. */
const TYPE_DISPLAY: Record<string, string> = {
  int2: "smallint",
  int4: "integer",
  int8: "bigint",
  float4: "real",
  float8: "double precision",
  bool: "boolean",
  bpchar: "char",
  varbit: "bit varying",
};

const SERIAL_TYPES = new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);

function typeNameFact(typeName: TypeName | undefined): SqlTypeName | null {
  if (typeName === undefined) return null;
  const names = stringsOf(typeName.names);
  const schemaPart = names.length > 1 ? (names[names.length - 2] ?? null) : null;
  const schema = schemaPart === "pg_catalog" ? null : schemaPart;
  const name = names[names.length - 1] ?? "";
  const modifiers: (number | string)[] = [];
  for (const modifier of typeName.typmods ?? []) {
    if ("A_Const" in modifier && modifier.A_Const.ival !== undefined) modifiers.push(modifier.A_Const.ival.ival ?? 0);
    else modifiers.push(constantText(modifier) ?? "?");
  }
  const arrayDimensions = typeName.arrayBounds?.length ?? 0;
  const display = schemaPart === "pg_catalog" ? (TYPE_DISPLAY[name] ?? name) : name;
  // `interval day to second` stores its field mask as a modifier, which reads as noise.
  const shownModifiers = name === "interval" || modifiers.length === 0 ? "" : `(${modifiers.join(",")})`;
  const text = `${schema === null ? "" : `${schema}.`}${display}${shownModifiers}${"[]".repeat(arrayDimensions)}`;
  return { schema, name, modifiers, arrayDimensions, text };
}

function isSerialType(typeName: TypeName | undefined): boolean {
  // PostgreSQL only expands serial types written as a single unqualified name, not as arrays.
  const names = stringsOf(typeName?.names);
  const only = names[0];
  return names.length === 1 && only !== undefined && SERIAL_TYPES.has(only) && (typeName?.arrayBounds?.length ?? 0) === 0;
}

// ---------------------------------------------------------------------------------------------
// Constraints and columns

const CONSTRAINT_TYPES: Partial<Record<string, SqlConstraintType>> = {
  CONSTR_CHECK: "check",
  CONSTR_UNIQUE: "unique",
  CONSTR_PRIMARY: "primary-key",
  CONSTR_FOREIGN: "foreign-key",
  CONSTR_EXCLUSION: "exclusion",
  CONSTR_NOTNULL: "not-null",
};

function constraintColumns(constraint: Constraint): string[] {
  if (constraint.contype === "CONSTR_FOREIGN") return stringsOf(constraint.fk_attrs);
  if (constraint.contype === "CONSTR_EXCLUSION") {
    const columns: string[] = [];
    for (const pair of constraint.exclusions ?? []) {
      if (!("List" in pair)) continue;
      const element = pair.List.items?.[0];
      if (element !== undefined && "IndexElem" in element && element.IndexElem.name !== undefined) {
        columns.push(element.IndexElem.name);
      }
    }
    return columns;
  }
  return stringsOf(constraint.keys);
}

function constraintFields(constraint: Constraint): FactFields {
  const references = relationName(constraint.pktable);
  return {
    constraint: constraint.conname ?? null,
    constraintType: CONSTRAINT_TYPES[constraint.contype ?? ""] ?? null,
    columns: constraintColumns(constraint),
    references: references === null ? [] : [references],
    foreignKeys: references !== null && constraint.contype === "CONSTR_FOREIGN" ? [{ references, columns: stringsOf(constraint.pk_attrs) }] : [],
    notValid: constraint.skip_validation === true,
    usingIndex: constraint.indexname !== undefined,
    index: constraint.indexname ?? null,
  };
}

/** Facts for ADD COLUMN: the column itself, then one add-constraint per inline constraint. */
function addColumnFacts(
  span: StatementSpan,
  table: FactFields,
  command: AlterTableCmd,
  column: ColumnDef,
): SqlStatementFact[] {
  const columnName = column.colname ?? null;
  const serial = isSerialType(column.typeName);
  const fields: FactFields = {
    ...table,
    subcommand: command.subtype ?? null,
    column: columnName,
    ifNotExists: command.missing_ok === true,
    dataType: typeNameFact(column.typeName),
    serial,
    // A serial column is `DEFAULT nextval(...)`: volatile, so every existing row is rewritten.
    defaultVolatility: serial ? "volatile" : "none",
    notNull: column.is_not_null === true,
  };
  const inlineConstraints: Constraint[] = [];
  for (const node of column.constraints ?? []) {
    if (!("Constraint" in node)) continue;
    const constraint = node.Constraint;
    switch (constraint.contype) {
      case "CONSTR_NOTNULL":
        fields.notNull = true;
        break;
      case "CONSTR_DEFAULT":
        fields.defaultVolatility = constraint.raw_expr ? expressionVolatility(constraint.raw_expr) : "constant";
        break;
      case "CONSTR_IDENTITY":
        fields.identity = true;
        break;
      case "CONSTR_GENERATED":
        fields.generatedStored = constraint.generated_kind === "s";
        break;
      case "CONSTR_PRIMARY":
        fields.notNull = true;
        inlineConstraints.push(constraint);
        break;
      case "CONSTR_UNIQUE":
      case "CONSTR_CHECK":
      case "CONSTR_FOREIGN":
      case "CONSTR_EXCLUSION":
        inlineConstraints.push(constraint);
        break;
      default:
        break;
    }
  }
  const facts = [makeFact(span, "AlterTableStmt", "add-column", fields)];
  for (const constraint of inlineConstraints) {
    facts.push(
      makeFact(span, "AlterTableStmt", "add-constraint", {
        ...table,
        subcommand: command.subtype ?? null,
        ...constraintFields(constraint),
        column: columnName,
        columns: columnName === null ? [] : [columnName],
        inline: true,
      }),
    );
  }
  return facts;
}

/** The columns of a CREATE TABLE, with table-level PRIMARY KEY (...) folded into them. */
function createTableColumns(elements: Node[]): SqlColumnFact[] {
  const tablePrimaryKey = new Set<string>();
  for (const element of elements) {
    if ("Constraint" in element && element.Constraint.contype === "CONSTR_PRIMARY") stringsOf(element.Constraint.keys).forEach((k) => tablePrimaryKey.add(k));
  }
  const columns: SqlColumnFact[] = [];
  for (const element of elements) {
    if (!("ColumnDef" in element)) continue;
    const column = element.ColumnDef;
    const name = column.colname ?? "";
    const inline = (column.constraints ?? []).flatMap((node) => ("Constraint" in node ? [node.Constraint.contype] : []));
    columns.push({
      name,
      dataType: typeNameFact(column.typeName),
      serial: isSerialType(column.typeName),
      identity: inline.includes("CONSTR_IDENTITY"),
      primaryKey: inline.includes("CONSTR_PRIMARY") || tablePrimaryKey.has(name),
    });
  }
  return columns;
}

// ---------------------------------------------------------------------------------------------
// ALTER TABLE

function alterTableFacts(span: StatementSpan, statement: AlterTableStmt): SqlStatementFact[] {
  const objectType = statement.objtype ?? "OBJECT_TABLE";
  const isTable = objectType === "OBJECT_TABLE" || objectType === "OBJECT_FOREIGN_TABLE";
  const relation = relationFields(statement.relation);
  const target: FactFields = isTable
    ? { ...relation, ifExists: statement.missing_ok === true }
    : objectType === "OBJECT_INDEX"
      ? { schema: relation.schema, index: relation.table, objectType: "index", ifExists: statement.missing_ok === true }
      : {
          schema: relation.schema,
          objectName: relation.table,
          objectType: objectTypeName(objectType),
          ifExists: statement.missing_ok === true,
        };
  const facts: SqlStatementFact[] = [];
  for (const node of statement.cmds ?? []) {
    if (!("AlterTableCmd" in node)) continue;
    const command = node.AlterTableCmd;
    const base: FactFields = { ...target, subcommand: command.subtype ?? null };
    const add = (kind: SqlStatementKind, fields: FactFields = {}): void => {
      facts.push(makeFact(span, "AlterTableStmt", kind, { ...base, ...fields }));
    };
    const cascade = command.behavior === "DROP_CASCADE";
    const def = command.def;
    if (!isTable) {
      if (command.subtype === "AT_SetTableSpace") add("set-tablespace", { objectName: command.name ?? null });
      else add("other");
      continue;
    }
    switch (command.subtype) {
      case "AT_AddColumn":
        if (def !== undefined && "ColumnDef" in def) facts.push(...addColumnFacts(span, base, command, def.ColumnDef));
        else add("other");
        break;
      case "AT_DropColumn":
        add("drop-column", { column: command.name ?? null, ifExists: command.missing_ok === true, cascade });
        break;
      case "AT_AddConstraint":
        if (def !== undefined && "Constraint" in def) add("add-constraint", constraintFields(def.Constraint));
        else add("other");
        break;
      case "AT_ValidateConstraint":
        add("validate-constraint", { constraint: command.name ?? null });
        break;
      case "AT_DropConstraint":
        add("drop-constraint", { constraint: command.name ?? null, ifExists: command.missing_ok === true, cascade });
        break;
      case "AT_SetNotNull":
        add("set-not-null", { column: command.name ?? null });
        break;
      case "AT_DropNotNull":
        add("drop-not-null", { column: command.name ?? null });
        break;
      case "AT_AlterColumnType": {
        const column = def !== undefined && "ColumnDef" in def ? def.ColumnDef : undefined;
        add("alter-column-type", {
          column: command.name ?? null,
          dataType: typeNameFact(column?.typeName),
          usingExpression: column?.raw_default !== undefined,
        });
        break;
      }
      case "AT_ColumnDefault":
        if (def === undefined) add("drop-default", { column: command.name ?? null });
        else add("set-default", { column: command.name ?? null, defaultVolatility: expressionVolatility(def) });
        break;
      case "AT_AttachPartition":
      case "AT_DetachPartition":
      case "AT_DetachPartitionFinalize": {
        const partition = def !== undefined && "PartitionCmd" in def ? def.PartitionCmd : undefined;
        const attach = command.subtype === "AT_AttachPartition";
        // FINALIZE completes an interrupted DETACH ... CONCURRENTLY and takes the same weak lock.
        const concurrently = command.subtype === "AT_DetachPartitionFinalize" || partition?.concurrent === true;
        add(attach ? "attach-partition" : "detach-partition", {
          objectName: dotted(relationName(partition?.name)),
          objectType: "partition",
          concurrently: !attach && concurrently,
          notInTransaction: command.subtype === "AT_DetachPartition" && concurrently,
        });
        break;
      }
      case "AT_SetTableSpace":
        add("set-tablespace", { objectName: command.name ?? null });
        break;
      case "AT_SetLogged":
        add("set-logged");
        break;
      case "AT_SetUnLogged":
        add("set-unlogged");
        break;
      case "AT_SetAccessMethod":
        add("set-access-method", { objectName: command.name ?? null });
        break;
      default:
        add("other", { column: command.name ?? null });
        break;
    }
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Other statements

function renameFacts(span: StatementSpan, statement: RenameStmt): SqlStatementFact {
  const relation = relationFields(statement.relation);
  const common: FactFields = { newName: statement.newname ?? null, ifExists: statement.missing_ok === true };
  switch (statement.renameType) {
    case "OBJECT_TABLE":
      return makeFact(span, "RenameStmt", "rename-table", { ...common, ...relation });
    case "OBJECT_COLUMN":
      return makeFact(span, "RenameStmt", "rename-column", { ...common, ...relation, column: statement.subname ?? null });
    case "OBJECT_INDEX":
      return makeFact(span, "RenameStmt", "rename-index", { ...common, schema: relation.schema, index: relation.table });
    case "OBJECT_TABCONSTRAINT":
      return makeFact(span, "RenameStmt", "rename-constraint", {
        ...common,
        ...relation,
        constraint: statement.subname ?? null,
      });
    default:
      return makeFact(span, "RenameStmt", "other", {
        ...common,
        objectType: objectTypeName(statement.renameType),
        objectName: dotted(relationName(statement.relation)) ?? objectNodeName(statement.object),
      });
  }
}

function dropFacts(span: StatementSpan, statement: DropStmt): SqlStatementFact[] {
  const common: FactFields = {
    ifExists: statement.missing_ok === true,
    cascade: statement.behavior === "DROP_CASCADE",
  };
  return (statement.objects ?? []).map((object) => {
    const name = objectNodeName(object);
    const parts = object !== undefined && "List" in object ? stringsOf(object.List.items) : name === null ? [] : [name];
    const split = qualified(parts);
    switch (statement.removeType) {
      case "OBJECT_TABLE":
        return makeFact(span, "DropStmt", "drop-table", { ...common, schema: split.schema, table: split.name });
      case "OBJECT_INDEX":
        return makeFact(span, "DropStmt", "drop-index", {
          ...common,
          schema: split.schema,
          index: split.name,
          concurrently: statement.concurrent === true,
          notInTransaction: statement.concurrent === true,
        });
      case "OBJECT_SCHEMA":
        return makeFact(span, "DropStmt", "drop-schema", { ...common, objectType: "schema", objectName: name });
      case "OBJECT_TRIGGER": {
        // `DROP TRIGGER name ON [schema.]table`: the table's parts, then the trigger's name.
        const table = qualified(parts.slice(0, -1));
        return makeFact(span, "DropStmt", "other", { ...common, objectType: "trigger", objectName: parts[parts.length - 1] ?? null, schema: table.schema, table: table.name });
      }
      default:
        return makeFact(span, "DropStmt", "other", {
          ...common,
          objectType: objectTypeName(statement.removeType),
          objectName: name,
        });
    }
  });
}

const LOCK_MODES = [
  "",
  "ACCESS SHARE",
  "ROW SHARE",
  "ROW EXCLUSIVE",
  "SHARE UPDATE EXCLUSIVE",
  "SHARE",
  "SHARE ROW EXCLUSIVE",
  "EXCLUSIVE",
  "ACCESS EXCLUSIVE",
];

const TRANSACTION_ACTIONS: Partial<Record<string, SqlTransactionAction>> = {
  TRANS_STMT_BEGIN: "begin",
  TRANS_STMT_START: "begin",
  TRANS_STMT_COMMIT: "commit",
  TRANS_STMT_ROLLBACK: "rollback",
  TRANS_STMT_SAVEPOINT: "savepoint",
  TRANS_STMT_RELEASE: "release",
  TRANS_STMT_ROLLBACK_TO: "rollback-to",
  TRANS_STMT_PREPARE: "prepare",
  TRANS_STMT_COMMIT_PREPARED: "commit-prepared",
  TRANS_STMT_ROLLBACK_PREPARED: "rollback-prepared",
};

/** `SELECT set_config('lock_timeout', '2s', true)`: the function form of SET / SET LOCAL. */
function setConfigCalls(statement: SelectStmt): SqlSettingFact[] {
  const settings: SqlSettingFact[] = [];
  for (const target of statement.targetList ?? []) {
    if (!("ResTarget" in target)) continue;
    const value = target.ResTarget.val;
    if (value === undefined || !("FuncCall" in value)) continue;
    const name = stringsOf(value.FuncCall.funcname);
    const last = name[name.length - 1];
    if (last !== "set_config" || (name.length > 1 && name[0] !== "pg_catalog")) continue;
    const [parameter, setting, isLocal] = value.FuncCall.args ?? [];
    const parameterName = constantText(parameter);
    if (parameterName === null) continue;
    settings.push({
      name: parameterName.toLowerCase(),
      value: constantText(setting),
      local: constantText(isLocal) === "true",
      reset: false,
    });
  }
  return settings;
}

function variableSetFact(span: StatementSpan, set: VariableSetStmt): SqlStatementFact {
  const name = (set.name ?? "all").toLowerCase();
  const local = set.is_local === true;
  let setting: SqlSettingFact;
  switch (set.kind) {
    case "VAR_SET_VALUE": {
      const values = (set.args ?? []).map((arg) => constantText(arg) ?? "NULL");
      setting = { name, value: values.join(", "), local, reset: false };
      break;
    }
    case "VAR_SET_DEFAULT":
    case "VAR_RESET":
      setting = { name, value: null, local, reset: true };
      break;
    case "VAR_RESET_ALL":
      setting = { name: "all", value: null, local, reset: true };
      break;
    default:
      // SET ... FROM CURRENT, SET TRANSACTION ..., SET SESSION CHARACTERISTICS ...
      setting = { name, value: null, local, reset: false };
      break;
  }
  return makeFact(span, "VariableSetStmt", "set", { setting });
}

/** All facts for one parsed statement. Unrecognised statements give one `other` fact. */
export function statementFacts(span: StatementSpan, node: Node): SqlStatementFact[] {
  const nodeType = nodeTypeOf(node);
  const single = (kind: SqlStatementKind, fields: FactFields = {}): SqlStatementFact[] => [
    makeFact(span, nodeType, kind, fields),
  ];

  if ("AlterTableStmt" in node) return alterTableFacts(span, node.AlterTableStmt);
  if ("RenameStmt" in node) return [renameFacts(span, node.RenameStmt)];
  if ("DropStmt" in node) return dropFacts(span, node.DropStmt);

  if ("IndexStmt" in node) {
    const index = node.IndexStmt;
    const columns: string[] = [];
    for (const element of index.indexParams ?? []) {
      if ("IndexElem" in element && element.IndexElem.name !== undefined) columns.push(element.IndexElem.name);
    }
    return single("create-index", {
      ...relationFields(index.relation),
      index: index.idxname ?? null,
      columns,
      unique: index.unique === true,
      partial: index.whereClause !== undefined,
      concurrently: index.concurrent === true,
      ifNotExists: index.if_not_exists === true,
      notInTransaction: index.concurrent === true,
    });
  }

  if ("CreateStmt" in node) {
    const create = node.CreateStmt;
    const references: SqlQualifiedName[] = [];
    const foreignKeys: SqlForeignKeyFact[] = [];
    const collect = (constraintNode: Node): void => {
      if ("Constraint" in constraintNode && constraintNode.Constraint.contype === "CONSTR_FOREIGN") {
        const target = relationName(constraintNode.Constraint.pktable);
        if (target !== null) {
          references.push(target);
          foreignKeys.push({ references: target, columns: stringsOf(constraintNode.Constraint.pk_attrs) });
        }
      }
    };
    for (const element of create.tableElts ?? []) {
      if ("ColumnDef" in element) (element.ColumnDef.constraints ?? []).forEach(collect);
      else collect(element);
    }
    return single("create-table", {
      ...relationFields(create.relation),
      only: false,
      ifNotExists: create.if_not_exists === true,
      references,
      foreignKeys,
      tableColumns: createTableColumns(create.tableElts ?? []),
    });
  }

  if ("CreateTableAsStmt" in node) {
    const create = node.CreateTableAsStmt;
    const isTable = create.objtype === undefined || create.objtype === "OBJECT_TABLE";
    const relation = relationFields(create.into?.rel);
    if (isTable) return single("create-table", { ...relation, only: false, ifNotExists: create.if_not_exists === true });
    return single("other", {
      schema: relation.schema,
      objectName: relation.table,
      objectType: objectTypeName(create.objtype),
      ifNotExists: create.if_not_exists === true,
    });
  }

  if ("AlterObjectSchemaStmt" in node) {
    const alter = node.AlterObjectSchemaStmt;
    if (alter.objectType === "OBJECT_TABLE") {
      return single("set-schema", {
        ...relationFields(alter.relation),
        newName: alter.newschema ?? null,
        ifExists: alter.missing_ok === true,
      });
    }
    return single("other", {
      objectType: objectTypeName(alter.objectType),
      objectName: dotted(relationName(alter.relation)) ?? objectNodeName(alter.object),
      newName: alter.newschema ?? null,
    });
  }

  if ("ReindexStmt" in node) {
    const reindex = node.ReindexStmt;
    const concurrently = optionEnabled(reindex.params, "concurrently");
    const relation = relationFields(reindex.relation);
    const common: FactFields = { concurrently, notInTransaction: concurrently };
    switch (reindex.kind) {
      case "REINDEX_OBJECT_INDEX":
        return single("reindex", { ...common, schema: relation.schema, index: relation.table, objectType: "index" });
      case "REINDEX_OBJECT_TABLE":
        return single("reindex", { ...common, ...relation, objectType: "table" });
      default:
        // REINDEX SCHEMA/DATABASE/SYSTEM always refuse to run in a transaction block.
        return single("reindex", {
          ...common,
          objectType: (reindex.kind ?? "").replace("REINDEX_OBJECT_", "").toLowerCase(),
          objectName: reindex.name ?? null,
          notInTransaction: true,
        });
    }
  }

  if ("TruncateStmt" in node) {
    const truncate = node.TruncateStmt;
    const cascade = truncate.behavior === "DROP_CASCADE";
    return (truncate.relations ?? []).map((relation) =>
      makeFact(span, nodeType, "truncate", {
        ...("RangeVar" in relation ? relationFields(relation.RangeVar) : {}),
        cascade,
      }),
    );
  }

  if ("VacuumStmt" in node) {
    const vacuum = node.VacuumStmt;
    const kind: SqlStatementKind = vacuum.is_vacuumcmd !== true
      ? "analyze"
      : optionEnabled(vacuum.options, "full")
        ? "vacuum-full"
        : "vacuum";
    const fields: FactFields = { notInTransaction: vacuum.is_vacuumcmd === true };
    const relations = (vacuum.rels ?? []).flatMap((relation) =>
      "VacuumRelation" in relation ? [relationFields(relation.VacuumRelation.relation)] : [],
    );
    if (relations.length === 0) return single(kind, fields);
    return relations.map((relation) => makeFact(span, nodeType, kind, { ...fields, ...relation }));
  }

  if ("ClusterStmt" in node) {
    const cluster = node.ClusterStmt;
    return single("cluster", {
      ...relationFields(cluster.relation),
      only: false,
      index: cluster.indexname ?? null,
      // A bare CLUSTER (re-cluster every table) refuses to run in a transaction block.
      notInTransaction: cluster.relation === undefined,
    });
  }

  if ("CreateTrigStmt" in node) {
    const trigger = node.CreateTrigStmt;
    return single("create-trigger", {
      ...relationFields(trigger.relation),
      only: false,
      objectType: "trigger",
      objectName: trigger.trigname ?? null,
    });
  }

  if ("AlterEnumStmt" in node) {
    const alter = node.AlterEnumStmt;
    const type = qualified(stringsOf(alter.typeName));
    const common: FactFields = { schema: type.schema, objectName: type.name, objectType: "type" };
    if (alter.oldVal !== undefined) {
      return single("alter-enum-rename-value", {
        ...common,
        enumValue: { value: alter.newVal ?? "", oldValue: alter.oldVal, position: null, neighbor: null },
      });
    }
    const neighbor = alter.newValNeighbor ?? null;
    return single("alter-enum-add-value", {
      ...common,
      ifNotExists: alter.skipIfNewValExists === true,
      enumValue: {
        value: alter.newVal ?? "",
        oldValue: null,
        position: neighbor === null ? null : alter.newValIsAfter === true ? "after" : "before",
        neighbor,
      },
    });
  }

  if ("DropdbStmt" in node) {
    return single("drop-database", {
      objectType: "database",
      objectName: node.DropdbStmt.dbname ?? null,
      ifExists: node.DropdbStmt.missing_ok === true,
      notInTransaction: true,
    });
  }

  if ("CommentStmt" in node) {
    const comment = node.CommentStmt;
    const objectType = objectTypeName(comment.objtype);
    const parts = comment.object !== undefined && "List" in comment.object ? stringsOf(comment.object.List.items) : [];
    if (comment.objtype === "OBJECT_TABLE") {
      const table = qualified(parts);
      return single("comment", { objectType, schema: table.schema, table: table.name });
    }
    if (comment.objtype === "OBJECT_COLUMN") {
      const table = qualified(parts.slice(0, -1));
      return single("comment", { objectType, schema: table.schema, table: table.name, column: parts[parts.length - 1] ?? null });
    }
    return single("comment", { objectType, objectName: objectNodeName(comment.object) });
  }

  if ("CreateExtensionStmt" in node) {
    return single("create-extension", {
      objectType: "extension",
      objectName: node.CreateExtensionStmt.extname ?? null,
      ifNotExists: node.CreateExtensionStmt.if_not_exists === true,
    });
  }

  if ("DoStmt" in node) {
    let language = "plpgsql";
    for (const arg of node.DoStmt.args ?? []) {
      if ("DefElem" in arg && arg.DefElem.defname === "language") language = constantText(arg.DefElem.arg) ?? language;
    }
    return single("do-block", { objectType: "language", objectName: language });
  }

  if ("LockStmt" in node) {
    const lock = node.LockStmt;
    const lockMode = LOCK_MODES[lock.mode ?? 8] ?? null;
    return (lock.relations ?? []).map((relation) =>
      makeFact(span, nodeType, "lock-table", {
        ...("RangeVar" in relation ? relationFields(relation.RangeVar) : {}),
        lockMode,
      }),
    );
  }

  if ("TransactionStmt" in node) {
    const transaction = node.TransactionStmt;
    return single("transaction-control", {
      transaction: TRANSACTION_ACTIONS[transaction.kind ?? ""] ?? null,
      objectName: transaction.savepoint_name ?? transaction.gid ?? null,
    });
  }

  if ("VariableSetStmt" in node) return [variableSetFact(span, node.VariableSetStmt)];

  if ("SelectStmt" in node) {
    const select = node.SelectStmt;
    if (select.intoClause !== undefined) return single("create-table", { ...relationFields(select.intoClause.rel), only: false });
    const settings = setConfigCalls(select);
    if (settings.length > 0) return settings.map((setting) => makeFact(span, nodeType, "set", { setting }));
    return single("select");
  }

  if ("InsertStmt" in node) return single("insert", relationFields(node.InsertStmt.relation));
  if ("UpdateStmt" in node) {
    // The columns it sets (`SET uuid = gen_random_uuid()`: umap 0018's per-row values after an AddField).
    const set = (node.UpdateStmt.targetList ?? []).flatMap((target) => ("ResTarget" in target && target.ResTarget.name ? [target.ResTarget.name] : []));
    return single("update", { ...relationFields(node.UpdateStmt.relation), hasWhere: node.UpdateStmt.whereClause !== undefined, columns: set });
  }
  if ("DeleteStmt" in node) {
    return single("delete", { ...relationFields(node.DeleteStmt.relation), hasWhere: node.DeleteStmt.whereClause !== undefined });
  }

  // Checked against PostgreSQL 15: each of these is refused inside a transaction block.
  if ("CreatedbStmt" in node) {
    return single("other", { objectType: "database", objectName: node.CreatedbStmt.dbname ?? null, notInTransaction: true });
  }
  if ("AlterSystemStmt" in node || "CreateTableSpaceStmt" in node || "DropTableSpaceStmt" in node) {
    return single("other", { notInTransaction: true });
  }
  return single("other");
}
