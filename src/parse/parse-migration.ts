/**
 * tree-sitter -> MigrationFile. This is the only module that imports tree-sitter: the rest of
 * rollsafe sees plain data (`src/model/types.ts`).
 */
import type Parser from "tree-sitter";
import { parsePython } from "./python-parser.js";
import { lightTree, type LightNode } from "./light-tree.js";
import type {
  DependencyRef,
  ForcedKeyword,
  ForcedKeywords,
  MigrationFile,
  Operation,
  PyValue,
  SourceRange,
  StageMarker,
  SyntaxErrorRange,
} from "../model/types.js";
import { builtinOperation } from "../model/django-operations.js";
import { builtinParams, lookupOperation, resolveThirdParty, type OperationCatalog, type OperationEntry } from "../model/third-party-operations.js";
import { modelSettingDefault } from "../model/model-settings.js";
import { LineIndex, universalNewlines } from "./source-text.js";
import { getModelCalls } from "./get-model-calls.js";
import { joinDedentedContinuations, mayNestTooDeep, python3Violations, separateFormatSpecs, tooDeeplyIndented, type Python3Violation } from "./python3-syntax.js";
import { intern } from "../util/intern.js";
import { listIn } from "../util/collections.js";
import { nestedName } from "./nested-functions.js";

type SyntaxNode = LightNode;

/** Deeper expressions than this become opaque values; keeps recursion bounded on hostile input. */
const MAX_VALUE_DEPTH = 60;
/** Deeper `SeparateDatabaseAndState` nesting becomes an unknown operation; keeps recursion bounded. */
const MAX_OPERATION_DEPTH = 32;
/** Cap on the text kept for opaque values. */
const MAX_OPAQUE_TEXT = 400;

/** A function defined in the migration module (used by RunPython checks). */
export interface FunctionFacts {
  name: string;
  range: SourceRange;
  /** Callee texts of the calls in the body, e.g. `apps.get_model`, `Book.objects.update`. */
  calls: string[];
  /** Model classes imported inside the function (`from shop.models import Order`). */
  modelImports: string[];
  /**
   * Names the function binds to a historical model (`Book = apps.get_model("library", "Book")`),
   * which shadow an imported class of the same name; absent when it binds none.
   */
  historicalModels?: string[];
  /**
   * The names the function's own imports bind (`from ._data import fill` in its body), as
   * `ctx.imports` holds the module's; absent when it imports nothing. Its calls are resolved
   * through them first (`functionImports`).
   */
  imports?: Record<string, string>;
  /**
   * Its parameters, for advice that shows its `def`: as written, on one line (`apps, value=""`),
   * whether one is named `apps`, and the first one's name unless it is `*args` or `**kwargs`;
   * absent when they are `RunPython`'s own, `apps, schema_editor` (`RUN_PYTHON_PARAMS`).
   */
  params?: FunctionParameters;
  /**
   * A function of another module of the project that a `RunPython` of the migration runs
   * (`from .utils import backfill`), read there: its `range` is the name in the migration's
   * `RunPython`, and it is found by `key` (the name as the migration writes it, or the
   * module's own key for a function it calls) rather than by `name`.
   */
  imported?: ImportedFunction;
  /**
   * The function whose body defines this one (`def make_renamer(...)` holding `def
   * operation(apps, schema_editor)` and returning `RunPython(operation)`), of the migration or
   * of a helper module (then with `imported`), read when an operation is made by calling it;
   * found by its qualified name, `make_renamer.<locals>.operation`.
   */
  nestedIn?: string;
}

/** Where a function a migration imports is defined, and what rules would read in its text. */
export interface ImportedFunction {
  key: string;
  /** The module's file, as messages name it. */
  file: string;
  /** The module's own model imports at its top level (`from shop.models import Order`). */
  moduleModelImports: { name: string; module: string }[];
  /** `apps.get_model("app", "Model")` (or `"app.Model"`) with literal arguments in the body, as `[app, model]`. */
  getModels: [string, string][];
}

/** The parser's output: the migration model plus facts the rules read. */
export interface ParsedMigration extends MigrationFile {
  functions: FunctionFacts[];
  /** Module-level imports of model classes (`from shop.models import Order`). */
  modelImports: { name: string; module: string; range: SourceRange }[];
  /** Every comment in the file, wherever it is (suppressions are matched against these). */
  allComments: { text: string; line: number }[];
}

interface Ctx {
  /** What is being read, in reasons: "migration", or "module" for a helper module. */
  where: "migration" | "module";
  /** The migration's app label (a migration only). */
  appLabel?: string;
  index: LineIndex;
  imports: Record<string, string>;
  /** The module's tree, for `constants`. */
  root: SyntaxNode;
  /**
   * Module-level names bound once, by a plain `NAME = value` (`EMAIL_MAX_LENGTH = 254`), to the
   * value's node; null for a name bound more than once or also bound elsewhere (an import, a
   * def, an `if` block, `+=`), which is not read. Collected on the first bare name read.
   */
  constants: Map<string, SyntaxNode | null> | null;
  /** Constants being read, against `A = B` / `B = A` loops. */
  reading: Set<string>;
  /** Custom operations declared in the configuration. */
  operations?: OperationCatalog;
  /** Operation classes the module itself defines by subclassing a built-in one (`localOperations`). */
  local?: OperationCatalog;
  /**
   * Inside a function being read for the operations it returns (`returnedOperations`, for a
   * function of the migration or of a `HelperModule`): the names its body binds, which hide the
   * module's. A parameter holds the caller's value (an opaque one when unknown); a local name the
   * node assigned to it, or null when it is bound otherwise (a nested `def`, twice).
   */
  scope?: { values: Map<string, PyValue>; nodes: Map<string, SyntaxNode | null>; parts?: Map<string, ListPart[]> };
  /** The module's top-level functions (not decorated), by name: those that return an operation are read (`returnedOperations`). */
  functions?: Map<string, SyntaxNode>;
  /**
   * Names the branches of a module-level `if` that tests the database bind to different imports
   * (`if IS_SQLITE: from django.db.migrations import AddIndex` / `else: from
   * django.contrib.postgres.operations import AddIndexConcurrently as AddIndex`; Label Studio
   * tasks 0045): each target with the vendors it is bound on. An operation called through one is
   * read once per target (`vendorSplit`). `imports` keeps the last binding.
   */
  vendorImports?: Map<string, { target: string; vendors: string[] }[]>;
  /**
   * The module's decorated top-level functions, by name. A decorator may change what a function
   * returns, so none is read for operations; a `RunPython` still runs the body's SQL whenever the
   * wrapper calls it (wger's `@postgres_only`), which `executedSql` reads.
   */
  decorated?: Map<string, SyntaxNode>;
  /** How many function calls deep this read is (`returnedOperations`; 0 at the module's level). */
  factoryDepth?: number;
  /**
   * What reading values may still cost (one per expression read, one per 100 characters a `+`
   * joins), shared by every read of the module. A name read again costs what its first read did,
   * so a module whose constants double each other (`B = A + A`, `C = B + B` ...) ends in opaque
   * values instead of exponential time and memory.
   */
  budget: { left: number };
  /** Values of names already read here, by depth and name, with what they cost (`memoized`). */
  memo: Map<string, { value: PyValue; cost: number } | null>;
  /** Operation lists of module constants already read (`operationLists`). */
  lists: Map<string, ListPart[] | string>;
  /**
   * The functions defined inside the functions read for the operations they return, by
   * qualified name (`nestedFunction`): in a migration they join its `functions`; a helper
   * module gives their facts to the migrations that run them (`HelperModule.functionFacts`).
   */
  nested: Map<string, { facts: FunctionFacts; def: SyntaxNode }>;
}

/** The reading budget of a module of `length` characters (see `Ctx.budget`). */
function valueBudget(length: number): { left: number } {
  return { left: 200_000 + length };
}

/** Longest string a `+` of literals makes, in characters; longer is opaque. */
const MAX_JOINED_STRING = 1 << 22;
/** Most items a `+` of lists makes; more is opaque. */
const MAX_JOINED_ITEMS = 100_000;
/** Most literal lists an `operations` is read from. */
const MAX_OPERATION_LISTS = 10_000;

/**
 * What an operation list is made of (`operationLists`): a node (a list or tuple, a call that
 * makes operations, a list comprehension), one item a function appended to a list
 * (`ops.append(...)`), or a `for` loop of a function that appends.
 */
type ListPart = SyntaxNode | { item: SyntaxNode } | { loop: OperationLoop };

/** `Operation.builtBy` of what a list comprehension makes, and the name reasons give it. */
const LIST_COMPREHENSION = "a list comprehension";
/** `Operation.builtBy` of what a function's `for` loop makes (before the function's name replaces it). */
const FOR_LOOP = "a for loop";
/** The `builtBy` of an operation a loop makes once per item. */
export const LOOP_BUILDERS: ReadonlySet<string> = new Set([LIST_COMPREHENSION, FOR_LOOP]);

/** A loop that makes one operation per item and body: a list comprehension, or a `for` whose body only appends. */
interface OperationLoop {
  /** Where unknown operations are placed. */
  node: SyntaxNode;
  /** In reasons and `builtBy`. */
  what: typeof LIST_COMPREHENSION | typeof FOR_LOOP;
  target: SyntaxNode | null;
  sources: SyntaxNode[];
  /** The expressions each item makes an operation of, in order. */
  bodies: SyntaxNode[];
}

/** A comment's text without the CR of a CRLF line end (tree-sitter keeps it in the token). */
function commentText(node: SyntaxNode): string {
  return node.text.replace(/\r$/, "");
}

function rangeOf(ctx: Ctx, node: SyntaxNode): SourceRange {
  return rangeBetween(ctx.index, node.startIndex, node.endIndex);
}

/** The range between two offsets of the text `index` covers. */
function rangeBetween(index: LineIndex, startOffset: number, endOffset: number): SourceRange {
  const start = index.position(startOffset);
  const end = index.position(endOffset);
  return { line: start.line, column: start.column, endLine: end.line, endColumn: end.column, startOffset, endOffset };
}

/**
 * Parses a migration's source into a `ParsedMigration`. Never throws on bad Python: syntax
 * errors are recorded with their locations, and whatever could be read is kept.
 */
export function parseMigrationSource(
  source: string,
  file: { path: string; app: string; name: string },
  options: {
    operations?: OperationCatalog;
    /** Read from a copy of every node (tests check that leaving punctuation out changes nothing). */
    fullTree?: boolean;
  } = {},
): ParsedMigration {
  const { text, deep, ctx } = readModule(source, "migration", options.fullTree === true, options.operations);
  ctx.appLabel = file.app;
  const { index, root } = ctx;
  const result: ParsedMigration = {
    path: file.path,
    app: file.app,
    name: file.name,
    id: `${file.app}.${file.name}`,
    hasMigrationClass: false,
    classRange: null,
    dependencies: [],
    runBefore: [],
    replaces: [],
    initial: null,
    atomic: true,
    atomicRange: null,
    stage: null,
    operations: [],
    operationsUnknown: null,
    syntaxErrors: deep ? [violationError(index, deep)] : syntaxErrorsOf(ctx, root, text),
    fileComments: [],
    allComments: root.descendantsOfType("comment").map((c) => ({ text: commentText(c), line: index.position(c.startIndex).line })),
    imports: ctx.imports,
    source,
    functions: [],
    modelImports: [],
  };

  const classes: SyntaxNode[] = [];
  readModuleLevel(ctx, result.modelImports, (child) => {
    if (child.type === "comment") result.fileComments.push({ text: commentText(child), line: index.position(child.startIndex).line });
    const def = definitionOf(child);
    if (def?.type === "class_definition") classes.push(def);
    if (def?.type === "function_definition") result.functions.push(readFunction(ctx, def));
  });

  ctx.local = localOperations(ctx, classes);
  const migrationClass = pickMigrationClass(ctx, classes);
  if (migrationClass) {
    inheritFromBases(ctx, migrationClass, classes, result);
    readMigrationClass(ctx, migrationClass, result);
  }
  for (const { facts } of ctx.nested.values()) result.functions.push(facts);
  return result;
}

/**
 * A module's text (a lone CR made a line break, as `decodePythonSource` makes it for files; the
 * parse takes any text), the indentation CPython refuses in it, and the context its reads start
 * from, with its copied tree.
 */
function readModule(source: string, where: Ctx["where"], fullTree: boolean, operations: OperationCatalog | undefined): { text: string; deep: Python3Violation | null; ctx: Ctx } {
  const text = universalNewlines(source);
  const index = new LineIndex(text);
  // Indentation CPython refuses is never handed to tree-sitter, whose scanner can abort on it.
  const deep = tooDeeplyIndented(text);
  const parsed = deep ? "" : text;
  const { tree, read } = parsedAsCPython(parsed);
  const root = lightTree(tree, read, { full: fullTree, brackets: mayNestTooDeep(read) });
  const ctx: Ctx = { where, index, imports: {}, root, constants: null, reading: new Set(), operations, budget: valueBudget(text.length), memo: new Map(), lists: new Map(), nested: new Map() };
  return { text, deep, ctx };
}

/**
 * `text`'s tree, and the text it is of (`read`). Valid Python that tree-sitter's grammar fails on
 * is first made a text of the same length that it parses, so every offset holds: a format spec
 * after `:=` in an f-string (`separateFormatSpecs`: exact, so taken whatever else is wrong), then
 * a line inside brackets indented less than its statement (`joinDedentedContinuations`: taken
 * only when the text then parses).
 */
function parsedAsCPython(text: string): { tree: Parser.Tree; read: string } {
  const parsed = withFormatSpecs(text);
  const joined = parsed.tree.rootNode.hasError ? joinDedentedContinuations(parsed.read) : null;
  if (joined === null) return parsed;
  // The line breaks joined, an f-string the broken tree did not show may be read too.
  const again = withFormatSpecs(joined);
  return again.tree.rootNode.hasError ? parsed : again;
}

/** `text`'s tree, or, when it has an error and `separateFormatSpecs` changes the text, that text's. */
function withFormatSpecs(text: string): { tree: Parser.Tree; read: string } {
  const tree = parsePython(text);
  const specs = tree.rootNode.hasError ? separateFormatSpecs(text, tree.rootNode) : null;
  return specs === null ? { tree, read: text } : { tree: parsePython(specs), read: specs };
}

/**
 * What every module is read for at its top level: its imports, also inside `if` and `try` blocks
 * (`try: from x import y except ImportError: ...`, `if TYPE_CHECKING:`), with the model classes
 * among them in `modelImports`, and its functions (`ctx.functions`, `ctx.decorated`). `each` gets
 * every top-level statement.
 */
function readModuleLevel(ctx: Ctx, modelImports: ParsedMigration["modelImports"] | null, each: (child: SyntaxNode) => void): void {
  ctx.functions = new Map();
  ctx.decorated = new Map();
  for (const child of ctx.root.namedChildren) {
    if (child.type === "import_statement" || child.type === "import_from_statement") readImport(ctx, child, modelImports);
    else if (child.type === "if_statement" || child.type === "try_statement") {
      for (const node of child.descendantsOfType(["import_statement", "import_from_statement"])) readImport(ctx, node, modelImports);
      if (child.type === "if_statement") readVendorImports(ctx, child);
    } else if (child.type === "function_definition") {
      const name = child.childForFieldName("name")?.text ?? "";
      ctx.functions.set(name, child);
      ctx.decorated.delete(name);
    } else if (child.type === "decorated_definition") {
      const def = child.childForFieldName("definition");
      const name = def?.type === "function_definition" ? def.childForFieldName("name")?.text : undefined;
      if (def && name !== undefined) {
        ctx.decorated.set(name, def);
        ctx.functions.delete(name);
      }
    }
    each(child);
  }
}

/** Node types that bind a name at module level other than by a plain assignment. */
const BINDINGS = new Set(["import_statement", "import_from_statement", "function_definition", "class_definition", "decorated_definition"]);

/** See `Ctx.constants`. */
function moduleConstants(root: SyntaxNode): Map<string, SyntaxNode | null> {
  const constants = new Map<string, SyntaxNode | null>();
  const rebound = (name: string | undefined) => {
    if (name !== undefined) constants.set(name, null);
  };
  for (const stmt of root.namedChildren) {
    if (stmt.type === "expression_statement") {
      const assignment = stmt.namedChildren[0];
      const left = assignment?.childForFieldName("left");
      const right = assignment?.childForFieldName("right");
      if (assignment?.type === "assignment" && left?.type === "identifier" && right && !assignment.childForFieldName("type")) {
        constants.set(left.text, constants.has(left.text) ? null : right);
        continue;
      }
      // `A = B = 1`, `A, B = ...`, `A += 1`: every name bound there.
      for (const target of stmt.descendantsOfType("identifier")) if (target.parent?.type !== "attribute" && target.parent?.type !== "call") rebound(target.text);
      continue;
    }
    if (BINDINGS.has(stmt.type)) {
      const def = definitionOf(stmt);
      rebound(def?.childForFieldName("name")?.text);
      if (stmt.type.startsWith("import")) for (const name of stmt.descendantsOfType(["dotted_name", "identifier"])) rebound(name.text.split(".")[0]);
      continue;
    }
    // Names bound inside a module-level `if`, `try`, `for` or `with` block may be bound either way.
    for (const node of stmt.descendantsOfType(["assignment", "augmented_assignment", "import_from_statement", "import_statement", "for_statement"])) {
      const target = node.type.startsWith("import") ? null : node.childForFieldName("left");
      for (const name of target ? target.descendantsOfType("identifier") : node.descendantsOfType(["dotted_name", "identifier"])) rebound(name.text.split(".")[0]);
    }
  }
  return constants;
}

/** `read` of the node a module constant is bound to (see `Ctx.constants`), or null; never in a loop through names. */
function withConstant<T>(ctx: Ctx, name: string, read: (bound: SyntaxNode) => T): T | null {
  ctx.constants ??= moduleConstants(ctx.root);
  const bound = ctx.constants.get(name);
  return bound ? guarded(ctx, name, bound, read) : null;
}

/** `read(bound)`, unless `key` is being read already (a loop through names: null). */
function guarded<T>(ctx: Ctx, key: string, bound: SyntaxNode, read: (bound: SyntaxNode) => T): T | null {
  if (ctx.reading.has(key)) return null;
  ctx.reading.add(key);
  try {
    return read(bound);
  } finally {
    ctx.reading.delete(key);
  }
}

/**
 * The value `compute` reads for `key` (a name at a depth), read once: a later read of the same
 * key gives the same value and charges the budget what the first read cost, or is opaque when
 * the budget cannot pay it. Null when `compute` finds no value.
 */
function memoized(ctx: Ctx, key: string, name: string, range: SourceRange, compute: () => PyValue | null): PyValue | null {
  const known = ctx.memo.get(key);
  if (known === undefined) {
    const before = ctx.budget.left;
    const value = compute();
    ctx.memo.set(key, value ? { value, cost: Math.max(0, before - ctx.budget.left) } : null);
    return value;
  }
  if (known === null) return null;
  if (known.cost > ctx.budget.left) return { kind: "opaque", text: name, range };
  ctx.budget.left -= known.cost;
  return known.value;
}

/** `withConstant` for a function's local name, bound to `node`. */
function withLocal<T>(ctx: Ctx, name: string, node: SyntaxNode, read: (bound: SyntaxNode) => T): T | null {
  return guarded(ctx, `local ${name}`, node, read);
}

/** `left + right` (the operands; null for any other operator). */
function plusOperands(node: SyntaxNode): [SyntaxNode, SyntaxNode] | null {
  const left = node.childForFieldName("left");
  const right = node.childForFieldName("right");
  return left && right && node.childForFieldName("operator")?.type === "+" ? [left, right] : null;
}

/** The operands of `a + b + c ...` (left to right), or null when an operator of the chain is not `+`. */
function plusChain(node: SyntaxNode): SyntaxNode[] | null {
  const operands: SyntaxNode[] = [];
  let left: SyntaxNode = node;
  while (left.type === "binary_operator") {
    const pair = plusOperands(left);
    if (!pair) return null;
    operands.push(pair[1]);
    left = pair[0];
  }
  operands.push(left);
  return operands.reverse();
}

/** The two branches of `a if condition else b`, or null. */
function branches(node: SyntaxNode): [SyntaxNode, SyntaxNode] | null {
  const [then, , otherwise] = node.namedChildren.filter((c) => c.type !== "comment");
  return then && otherwise ? [then, otherwise] : null;
}

/** Python's truth value of a literal, or null when it cannot be known statically. */
function truthy(value: PyValue): boolean | null {
  switch (value.kind) {
    case "none":
      return false;
    case "bool":
      return value.value;
    case "int":
    case "float":
      return value.value !== 0;
    case "str":
    case "bytes":
      return value.value !== "";
    case "list":
    case "tuple":
      return value.items.length > 0;
    case "dict":
      return value.entries.length > 0;
    default:
      return null;
  }
}

/** tree-sitter's errors plus what its lenient grammar accepts and CPython 3 refuses. */
function syntaxErrorsOf(ctx: Ctx, root: SyntaxNode, text: string): SyntaxErrorRange[] {
  const errors = root.hasError ? collectSyntaxErrors(ctx, root) : [];
  for (const v of python3Violations(root, text)) errors.push(violationError(ctx.index, v));
  return errors.sort((a, b) => a.startOffset - b.startOffset);
}

/** A construct CPython refuses, as a syntax error. */
function violationError(index: LineIndex, v: Python3Violation): SyntaxErrorRange {
  return { ...rangeBetween(index, v.startIndex, v.endIndex), message: v.message };
}

/** Longest excerpt of the source quoted in a syntax error. */
const MAX_QUOTED = 40;

/** What tree-sitter found wrong at an ERROR or MISSING node, in CPython's words where they match. */
function errorMessage(node: SyntaxNode): string {
  if (node.isMissing) {
    if (node.type === "") return "invalid syntax";
    if (!node.isNamed) return `expected \`${node.type}\``;
    const what = node.type.replace(/_/g, " ");
    return `expected ${/^[aeiou]/.test(what) ? "an" : "a"} ${what}`;
  }
  const firstLine = node.text.trim().split(/\r?\n/)[0] ?? "";
  if (firstLine === "") return "invalid syntax";
  const quoted = firstLine.length > MAX_QUOTED ? `${firstLine.slice(0, MAX_QUOTED)}…` : firstLine;
  return `invalid syntax at \`${quoted.replace(/`/g, "'")}\``;
}

function collectSyntaxErrors(ctx: Ctx, root: SyntaxNode): SyntaxErrorRange[] {
  const errors: SyntaxErrorRange[] = [];
  // Iterative walk that only descends into subtrees that contain an error.
  const stack: SyntaxNode[] = [root];
  while (stack.length > 0 && errors.length < 20) {
    const node = stack.pop() as SyntaxNode;
    if (node.type === "ERROR" || node.isMissing) {
      errors.push({ ...rangeOf(ctx, node), message: errorMessage(node) });
      continue;
    }
    if (!node.hasError) continue;
    const children = node.children;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child && (child.hasError || child.isMissing || child.type === "ERROR")) stack.push(child);
    }
  }
  // Only a hidden token is missing (a line break, an indented block).
  if (errors.length === 0) errors.push({ ...rangeOf(ctx, root), message: "invalid syntax (an incomplete statement or block)" });
  errors.sort((a, b) => a.startOffset - b.startOffset);
  return errors;
}

/**
 * The branches of an `if`/`elif`/`else`, each with the vendors it runs on, when every condition
 * tests the database (`vendorCondition`); null otherwise. Read for the imports of a module-level
 * `if` (`readVendorImports`) and the operations of one in the class body (`readVendorBranches`).
 */
function vendorBranches(stmt: SyntaxNode): { block: SyntaxNode | null; vendors: Set<string> }[] | null {
  const clauses = [
    { block: stmt.childForFieldName("consequence"), condition: stmt.childForFieldName("condition") },
    ...stmt.childrenForFieldName("alternative").map((a) => ({
      block: a.type === "elif_clause" ? a.childForFieldName("consequence") : (a.childForFieldName("body") ?? a.namedChildren.find((c) => c.type === "block") ?? null),
      condition: a.type === "elif_clause" ? a.childForFieldName("condition") : null,
    })),
  ];
  let remaining = new Set<string>(VENDORS);
  const branches: { block: SyntaxNode | null; vendors: Set<string> }[] = [];
  for (const clause of clauses) {
    const test = clause.condition ? vendorCondition(clause.condition) : null;
    if (clause.condition && !test) return null;
    const vendors = new Set([...remaining].filter((v) => !test || test.has(v)));
    remaining = new Set([...remaining].filter((v) => !vendors.has(v)));
    branches.push({ block: clause.block, vendors });
  }
  return branches;
}

/**
 * Records in `ctx.vendorImports` the names a module-level `if` that tests the database binds to
 * different imports in its branches, on every vendor (an `else`, or conditions that cover them all).
 */
function readVendorImports(ctx: Ctx, stmt: SyntaxNode): void {
  const branches = vendorBranches(stmt);
  if (!branches) return;
  const bound = new Map<string, { target: string; vendors: string[] }[]>();
  for (const { block, vendors } of branches) {
    if (!block || vendors.size === 0) continue;
    const imports: Record<string, string> = {};
    for (const node of block.descendantsOfType(["import_statement", "import_from_statement"])) readImport(ctx, node, null, imports);
    for (const [name, target] of Object.entries(imports)) {
      const list = listIn(bound, name);
      const same = list.find((b) => b.target === target);
      if (same) same.vendors.push(...vendors);
      else list.push({ target, vendors: [...vendors] });
    }
  }
  for (const [name, list] of bound) {
    if (list.length < 2 || list.reduce((n, b) => n + b.vendors.length, 0) !== VENDORS.length) continue;
    (ctx.vendorImports ??= new Map()).set(name, list);
  }
}

/**
 * `read` once per import an operation's class name has on each vendor (`ctx.vendorImports`), each
 * operation kept for those vendors (`Operation.vendors`); `read` alone for any other name.
 */
function vendorSplit(ctx: Ctx, node: SyntaxNode, read: () => Operation): Operation[] {
  // Nearly every module has none: nothing to look up for each operation.
  if (!ctx.vendorImports) return [read()];
  const fn = node.type === "call" ? node.childForFieldName("function") : null;
  const head = fn ? dottedName(fn)?.split(".")[0] : undefined;
  const alternatives = head === undefined || ctx.scope?.values.has(head) || ctx.scope?.nodes.has(head) ? undefined : ctx.vendorImports?.get(head);
  if (!head || !alternatives) return [read()];
  const bound = ctx.imports[head];
  const ops: Operation[] = [];
  try {
    for (const { target, vendors } of alternatives) {
      ctx.imports[head] = target;
      const op = read();
      const allowed = op.vendors ? vendors.filter((v) => op.vendors?.includes(v)) : vendors;
      if (allowed.length > 0) ops.push({ ...op, index: op.index + ops.length, comments: [...op.comments], vendors: allowed });
    }
  } finally {
    if (bound === undefined) delete ctx.imports[head];
    else ctx.imports[head] = bound;
  }
  return ops;
}

/**
 * Binds the names an import statement imports in `imports` (the module's, `ctx.imports`, unless a
 * function's own); model classes also go to `modelImports`.
 */
function readImport(ctx: Ctx, node: SyntaxNode, modelImports: ParsedMigration["modelImports"] | null, imports: Record<string, string> = ctx.imports): void {
  if (node.type === "import_statement") {
    for (const name of node.childrenForFieldName("name")) {
      if (name.type === "aliased_import") {
        const target = name.childForFieldName("name")?.text ?? "";
        const alias = name.childForFieldName("alias")?.text ?? "";
        if (alias) imports[alias] = target;
      } else {
        // `import django.db.models.deletion` binds `django`, which resolves to itself.
        const first = name.text.split(".")[0] ?? "";
        if (first) imports[first] = first;
      }
    }
    return;
  }
  const moduleNode = node.childForFieldName("module_name");
  const module = moduleNode?.text ?? "";
  for (const name of node.childrenForFieldName("name")) {
    let target: string;
    let alias: string;
    if (name.type === "aliased_import") {
      target = name.childForFieldName("name")?.text ?? "";
      alias = name.childForFieldName("alias")?.text ?? target;
    } else {
      target = name.text;
      alias = target;
    }
    if (!alias) continue;
    // `from . import x` is `.x`; `from .m import x` is `.m.x`.
    imports[alias] = /^\.*$/.test(module) ? `${module}${target}` : `${module}.${target}`;
    if (modelModule(module, target)) {
      modelImports?.push({ name: alias, module, range: rangeOf(ctx, name) });
    }
  }
}

/** The concrete models of Django's contrib apps, by module (not its abstract classes, managers or `AnonymousUser`). */
const CONTRIB_MODELS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["django.contrib.auth.models", new Set(["User", "Group", "Permission"])],
  ["django.contrib.contenttypes.models", new Set(["ContentType"])],
  ["django.contrib.sites.models", new Set(["Site"])],
  ["django.contrib.admin.models", new Set(["LogEntry"])],
  ["django.contrib.sessions.models", new Set(["Session"])],
  ["django.contrib.flatpages.models", new Set(["FlatPage"])],
  ["django.contrib.redirects.models", new Set(["Redirect"])],
]);

/** Modules of a `models` package that hold other things than models (`app.models.fields`). */
const NOT_MODEL_MODULES = new Set(["fields", "managers", "manager", "querysets", "queryset", "mixins", "utils", "constants", "choices", "enums", "validators", "signals", "base"]);

/**
 * Whether `name` imported from `module` is taken for a model class: anything from a `models`
 * module of the project (not Django's), and a class name from a module of a `models` package (`from ephios.core.models.events
 * import PlaceholderParticipation`, ephios guests 0007), but not from its `fields` or `managers`.
 */
function modelModule(module: string, name: string): boolean {
  // Django's own contrib apps' concrete models are models like any other: the live `Group`
  // (EvaP grades 0002) is the current code's, not the migration's.
  if (module.startsWith("django.")) return CONTRIB_MODELS.get(module)?.has(name.replace(/^.*\s+as\s+/, "")) === true;
  if (/(^|\.)models$/.test(module)) return true;
  const sub = /(?:^|\.)models\.(\w+)$/.exec(module)?.[1];
  return sub !== undefined && !NOT_MODEL_MODULES.has(sub) && /^[A-Z]/.test(name.replace(/^.*\s+as\s+/, ""));
}

function readFunction(ctx: Ctx, node: SyntaxNode): FunctionFacts {
  const calls: string[] = [];
  const modelImports: string[] = [];
  let historicalModels: string[] | undefined;
  let imports: Record<string, string> | null = null;
  const body = node.childForFieldName("body");
  if (body) {
    for (const call of body.descendantsOfType("call")) {
      if (calls.length >= 500) break;
      const fn = call.childForFieldName("function");
      if (fn) calls.push(calleeText(fn));
    }
    for (const imp of body.descendantsOfType(["import_statement", "import_from_statement"])) {
      readImport(ctx, imp, null, (imports ??= {}));
      if (imp.type !== "import_from_statement") continue;
      const module = imp.childForFieldName("module_name")?.text ?? "";
      for (const name of imp.childrenForFieldName("name")) if (modelModule(module, name.text)) modelImports.push(name.text);
    }
    // `X = apps.get_model(...)`: the historical model under a name an import may also bind (Tandoor
    // cookbook 0157). Looked for only in functions that call it (or have more calls than are kept).
    const getsModels = calls.length >= 500 || calls.some((c) => c.endsWith(".get_model"));
    for (const assignment of getsModels ? body.descendantsOfType("assignment") : []) {
      const left = assignment.childForFieldName("left");
      const right = assignment.childForFieldName("right");
      const callee = right?.type === "call" ? right.childForFieldName("function") : null;
      if (left?.type === "identifier" && callee?.type === "attribute" && callee.childForFieldName("attribute")?.text === "get_model") (historicalModels ??= []).push(left.text);
    }
  }
  const text = writtenParameters(node);
  const list = text === RUN_PYTHON_PARAMS.text ? [] : parameterList(node);
  const first = list[0]?.kind === "positional" || list[0]?.kind === "keyword" ? list[0].name : null;
  return {
    name: node.childForFieldName("name")?.text ?? "",
    range: rangeOf(ctx, node),
    calls,
    modelImports,
    ...(historicalModels ? { historicalModels } : {}),
    ...(imports ? { imports } : {}),
    ...(text !== RUN_PYTHON_PARAMS.text ? { params: { text, apps: list.some((p) => p.name === "apps"), first } } : {}),
  };
}

/** What `FunctionFacts.params` records of a function's parameters. */
export interface FunctionParameters {
  text: string;
  apps: boolean;
  first: string | null;
}

/** The parameters of the function `RunPython` calls, as Django's docs and `makemigrations --empty` write them. */
export const RUN_PYTHON_PARAMS: FunctionParameters = { text: "apps, schema_editor", apps: true, first: "apps" };

/** A function's parameters as written, on one line, without the parentheses (`apps, value=""`). */
function writtenParameters(node: SyntaxNode): string {
  const text = node.childForFieldName("parameters")?.text ?? "()";
  return text
    .slice(1, -1)
    .replace(/#[^\n]*/g, "")
    .replace(/\s+/g, " ")
    .replace(/\(\s/g, "(")
    .replace(/\s\)/g, ")")
    .replace(/,\s*$/, "")
    .trim();
}

/** `Book.objects.filter(x=1).update` -> `Book.objects.filter().update`. */
function calleeText(node: SyntaxNode): string {
  if (node.type === "identifier") return node.text;
  if (node.type === "attribute") {
    const object = node.childForFieldName("object");
    const attr = node.childForFieldName("attribute")?.text ?? "";
    return object ? `${calleeText(object)}.${attr}` : attr;
  }
  if (node.type === "call") {
    const fn = node.childForFieldName("function");
    return fn ? `${calleeText(fn)}()` : "()";
  }
  return node.type;
}

function qualify(ctx: Ctx, dotted: string): string {
  const dot = dotted.indexOf(".");
  const head = dot < 0 ? dotted : dotted.slice(0, dot);
  const mapped = ctx.imports[head];
  if (mapped === undefined) return dotted;
  return dot < 0 ? mapped : `${mapped}${dotted.slice(dot)}`;
}

/** Dotted name text of an identifier/attribute chain, or null for anything else. */
function dottedName(node: SyntaxNode): string | null {
  if (node.type === "identifier") return node.text;
  if (node.type === "attribute") {
    const object = node.childForFieldName("object");
    const attr = node.childForFieldName("attribute");
    if (!object || !attr) return null;
    const head = dottedName(object);
    return head === null ? null : `${head}.${attr.text}`;
  }
  return null;
}

const MIGRATION_BASES = new Set([
  "django.db.migrations.Migration",
  "django.db.migrations.migration.Migration",
]);

function pickMigrationClass(ctx: Ctx, classes: SyntaxNode[]): SyntaxNode | null {
  // Django's loader takes the module attribute `Migration`, whatever its base.
  const named = classes.filter((c) => c.childForFieldName("name")?.text === "Migration");
  if (named.length > 0) return named[named.length - 1] ?? null;
  for (const cls of classes) {
    const bases = cls.childForFieldName("superclasses");
    for (const base of bases?.namedChildren ?? []) {
      const name = dottedName(base);
      if (name && (MIGRATION_BASES.has(qualify(ctx, name)) || name === "Migration")) return cls;
    }
  }
  return null;
}

/**
 * `atomic = <value>` in a class body: false for a literal False, true for anything else (as
 * Django takes it), undefined when the body does not set it.
 */
export function classBodyAtomic(cls: SyntaxNode): boolean | undefined {
  let atomic: boolean | undefined;
  for (const stmt of cls.childForFieldName("body")?.namedChildren ?? []) {
    const assignment = stmt.type === "expression_statement" ? stmt.namedChildren[0] : undefined;
    if (assignment?.type !== "assignment" || assignment.childForFieldName("left")?.text !== "atomic") continue;
    const right = assignment.childForFieldName("right");
    if (right) atomic = right.type !== "false";
  }
  return atomic;
}

/** The truth of an `atomic = ...` value as Python takes it: a literal, or a module constant bound to one; undefined when computed. */
function atomicValue(ctx: Ctx, node: SyntaxNode): boolean | undefined {
  switch (node.type) {
    case "true":
      return true;
    case "false":
    case "none":
      return false;
    case "integer":
      return Number(node.text.replace(/_/g, "")) !== 0;
    case "identifier":
      return withConstant(ctx, node.text, (bound) => atomicValue(ctx, bound)) ?? undefined;
    case "parenthesized_expression":
      return node.namedChildren[0] ? atomicValue(ctx, node.namedChildren[0]) : undefined;
    default:
      return undefined;
  }
}

/** The first base of a class as a dotted name (`CheckedMigration`, `base.CheckedMigration`), or null. */
export function firstBaseName(cls: SyntaxNode): string | null {
  const base = (cls.childForFieldName("superclasses")?.namedChildren ?? []).find((b) => b.type !== "comment" && b.type !== "keyword_argument");
  return base ? dottedName(base) : null;
}

/**
 * The `atomic` a class sets, or the nearest of its bases that `classNamed` finds (a class of the
 * same module) sets; else the dotted name of the first base it cannot follow (`base`), if any.
 */
function atomicAlongBases(cls: SyntaxNode, classNamed: (name: string, from: SyntaxNode) => SyntaxNode | undefined): { atomic?: boolean; base?: string } {
  const seen = new Set<SyntaxNode>();
  for (let current = cls; !seen.has(current); ) {
    seen.add(current);
    const atomic = classBodyAtomic(current);
    if (atomic !== undefined) return { atomic };
    const name = firstBaseName(current);
    if (name === null) return {};
    const local = name.includes(".") ? undefined : classNamed(name, current);
    if (!local) return { base: name };
    current = local;
  }
  return {};
}

/**
 * What the `Migration` class inherits: `atomic` from a base class of the same file that sets it
 * (`class Base(migrations.Migration): atomic = False`, then `class Migration(Base)`), following
 * bases in the file; a base imported from another module that is not Django's is recorded
 * (`migrationBase`) for `resolveHelperCalls` to read. The class's own `atomic` (read after, by
 * `readMigrationClass`) overrides both.
 */
function inheritFromBases(ctx: Ctx, cls: SyntaxNode, classes: SyntaxNode[], result: ParsedMigration): void {
  const definedBefore = (name: string, from: SyntaxNode) => classes.filter((c) => c.childForFieldName("name")?.text === name && c.startIndex < from.startIndex).pop();
  const { atomic, base } = atomicAlongBases(cls, definedBefore);
  if (atomic !== undefined) result.atomic = atomic;
  else if (base !== undefined) {
    const qualified = qualify(ctx, base);
    if (!MIGRATION_BASES.has(qualified) && qualified.includes(".")) result.migrationBase = qualified;
  }
}

/** The class attributes read as dependency lists, and where each goes in the model. */
const DEPENDENCY_LISTS: Record<string, "dependencies" | "runBefore" | "replaces" | undefined> = { dependencies: "dependencies", run_before: "runBefore", replaces: "replaces" };

/**
 * Functions defined in the `Migration` class body (`def forwards(apps, schema_editor)` above
 * `operations = [migrations.RunPython(forwards)]`: babybuddy's core 0035). Python runs the class
 * body top to bottom, so `operations` names the class attribute, a plain function (or, since Python
 * 3.10, a callable `staticmethod`), and it shadows a module function of the same name there. They
 * join the module's functions: what a `RunPython` runs is read from them like from a module
 * function. `__init__` and the methods that take `self` (`apply`, `unapply`) are not candidates.
 */
function readClassFunctions(ctx: Ctx, body: SyntaxNode, result: ParsedMigration): Set<string> {
  const names = new Set<string>();
  for (const stmt of body.namedChildren) {
    const def = definitionOf(stmt);
    const name = def?.type === "function_definition" ? def.childForFieldName("name")?.text : undefined;
    if (!def || !name || parameterList(def)[0]?.name === "self") continue;
    names.add(name);
    const existing = result.functions.findIndex((f) => f.name === name && !f.nestedIn && !f.imported);
    if (existing >= 0) result.functions.splice(existing, 1);
    result.functions.push(readFunction(ctx, def));
    if (stmt.type === "decorated_definition") {
      ctx.decorated?.set(name, def);
      ctx.functions?.delete(name);
    } else {
      ctx.functions?.set(name, def);
      ctx.decorated?.delete(name);
    }
  }
  return names;
}

function withoutNames<V>(map: Map<string, V>, names: ReadonlySet<string>): Map<string, V> {
  for (const name of names) map.delete(name);
  return map;
}

function readMigrationClass(ctx: Ctx, cls: SyntaxNode, result: ParsedMigration): void {
  result.hasMigrationClass = true;
  result.classRange = rangeOf(ctx, cls.childForFieldName("name") ?? cls);
  const body = cls.childForFieldName("body");
  if (!body) return;
  let init: SyntaxNode | null = null;
  // The names the class body binds (see `moduleConstants`), found once when `operations` is read.
  let classNames: Map<string, SyntaxNode | null> | undefined;
  const classFunctions = readClassFunctions(ctx, body, result);
  for (const stmt of body.namedChildren) {
    if (stmt.type === "comment") {
      result.fileComments.push({ text: commentText(stmt), line: ctx.index.position(stmt.startIndex).line });
      continue;
    }
    const def = definitionOf(stmt);
    if (def?.type === "function_definition" && def.childForFieldName("name")?.text === "__init__") init = def;
    // `for name in [...]: operations.append(...)`: an operation per item, as in a function.
    const loop = stmt.type === "for_statement" && !result.operationsUnknown ? operationsLoop(ctx, stmt) : null;
    if (loop) {
      result.operations = readOperationLists(ctx, loop, 0, result.operations);
      continue;
    }
    const assignment = stmt.type === "expression_statement" ? stmt.namedChildren[0] : undefined;
    // `operations.append(...)`, `dependencies.extend(...)`, and any other `if`, `for`, `try` ...
    // of the class body: read like those of `__init__` (what a block does may or may not happen).
    if (CONDITIONAL_BLOCKS.has(stmt.type) || assignment?.type === "call") {
      readListStatement(ctx, stmt, result, false, CLASS_BODY);
      continue;
    }
    if (!assignment) continue;
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (!left || !right || left.type !== "identifier") continue;
    // `operations += [...]`, `dependencies += [...]`: the class attribute, extended.
    const extend = assignment.type === "augmented_assignment";
    if (extend ? assignment.childForFieldName("operator")?.type !== "+=" : assignment.type !== "assignment") continue;
    const dependencyList = DEPENDENCY_LISTS[left.text];
    if (dependencyList) {
      const deps = readDependencies(ctx, right);
      result[dependencyList] = extend ? [...result[dependencyList], ...deps] : deps;
      continue;
    }
    if (left.text === "operations") {
      // Names the class body binds before (`state_operations = [...]` as a class attribute) are
      // read where they are bound, as Python runs the class body; the module's otherwise.
      // A function of the class body is a name, read as a module function's (`readClassFunctions`).
      classNames ??= withoutNames(moduleConstants(body), classFunctions);
      const scope = classNames.size > 0 ? { values: new Map<string, PyValue>(), nodes: classNames } : undefined;
      readOperations(scope ? { ...ctx, scope, memo: new Map(), lists: new Map() } : ctx, right, result, extend);
      continue;
    }
    if (extend) continue;
    switch (left.text) {
      case "initial":
        result.initial = right.type === "true" ? true : right.type === "false" ? false : null;
        break;
      case "atomic": {
        // Django takes the value's truth (`schema_editor(atomic=...)`); one computed when the
        // migration loads (Label Studio's `atomic = IS_SQLITE`) is kept as written, and the
        // migration counts as atomic, Django's default, for the rules that cannot know.
        const value = atomicValue(ctx, right);
        // A test of the database (`atomic = IS_SQLITE`, Label Studio tasks 0045) holds on its vendors.
        const vendors = value === undefined ? vendorCondition(right) : null;
        result.atomic = value ?? true;
        if (value === undefined && !vendors) result.atomicComputed = right.text.replace(/\s+/g, " ").slice(0, 80);
        else delete result.atomicComputed;
        if (vendors) result.atomicOn = [...vendors];
        else delete result.atomicOn;
        result.atomicRange = rangeOf(ctx, stmt);
        break;
      }
      case "safe":
      case "stage":
      case "is_post_deployment": {
        const marker = readStageMarker(ctx, left.text, right, stmt);
        if (marker) result.stage = marker;
        break;
      }
      default:
        break;
    }
  }
  // The last `__init__` the class body defines is the one Python keeps.
  if (init) readInitMethod(ctx, init, result);
}

/**
 * `def __init__(self, ...)` of the migration class. Django's `Migration.__init__` copies the
 * class's lists onto the instance, and a subclass can change them after calling it:
 * `self.dependencies = [...]`, `self.dependencies.append(...)`, `self.operations += [...]`.
 * What follows the last `super().__init__(...)` at the method's top level is read like the class
 * attributes, and so is `self.atomic = ...` (what comes before that call is overwritten by it).
 * Statements inside `if`, `try`, `with` or a loop may or may not run: their dependencies are all
 * counted, as for a condition in the class body, and a change to `operations` there makes the
 * operations unknown.
 */
function readInitMethod(ctx: Ctx, fn: SyntaxNode, result: ParsedMigration): void {
  const statements = (fn.childForFieldName("body")?.namedChildren ?? []).filter((s) => s.type !== "comment");
  let first = 0;
  statements.forEach((stmt, i) => {
    if (isBaseInit(stmt)) first = i + 1;
  });
  for (const stmt of statements.slice(first)) readListStatement(ctx, stmt, result, false, INIT_METHOD);
}

/** `super().__init__(...)`, `migrations.Migration.__init__(self, ...)`: the base's `__init__`. */
function isBaseInit(stmt: SyntaxNode): boolean {
  const call = stmt.type === "expression_statement" ? stmt.namedChildren[0] : null;
  const fn = call?.type === "call" ? call.childForFieldName("function") : null;
  return fn?.type === "attribute" && fn.childForFieldName("attribute")?.text === "__init__";
}

/** Block-holding statements whose body may run or not (every branch is read). */
const CONDITIONAL_BLOCKS = new Set(["if_statement", "elif_clause", "else_clause", "try_statement", "except_clause", "finally_clause", "with_statement", "for_statement", "while_statement", "block"]);

/**
 * A `for` loop of the class body whose body only appends to `operations` (`growList`'s reading
 * of a function's loop), as the list part it adds; null for any other statement.
 */
function operationsLoop(ctx: Ctx, stmt: SyntaxNode): ListPart[] | null {
  const parts = new Map<string, ListPart[]>([["operations", []]]);
  const scope = { values: new Map<string, PyValue>(), nodes: new Map<string, SyntaxNode | null>(), parts };
  return growList({ ...ctx, scope }, stmt) ? (parts.get("operations") ?? null) : null;
}

type MigrationList = "dependencies" | "runBefore" | "replaces" | "operations";

/** The list of the migration a name is (`list`): `self.<name>` in `__init__`, `<name>` in the class body; and where that is, in reasons. */
interface ListScope {
  list: (node: SyntaxNode | null) => MigrationList | null;
  where: string;
}

const INIT_METHOD: ListScope = { list: instanceList, where: "in `__init__`" };
const CLASS_BODY: ListScope = {
  list: (node) => (node?.type === "identifier" ? listNamed(node.text) : null),
  where: "in the class body",
};

/** The list of the migration class an attribute `name` is, or null. */
function listNamed(name: string): MigrationList | null {
  return name === "operations" ? "operations" : (DEPENDENCY_LISTS[name] ?? null);
}

/** `self.<name>` for a list `Migration.__init__` copies from the class, or null. */
function instanceList(node: SyntaxNode | null): MigrationList | null {
  if (node?.type !== "attribute" || node.childForFieldName("object")?.text !== "self") return null;
  return listNamed(node.childForFieldName("attribute")?.text ?? "");
}

/** Whether a block has a statement that binds or changes the migration's `operations` (`scope` says how it names it). */
function changesOperations(block: SyntaxNode, scope: ListScope): boolean {
  return block.descendantsOfType("expression_statement").some((stmt) => {
    const expr = stmt.namedChildren[0];
    if (expr?.type === "assignment" || expr?.type === "augmented_assignment") return scope.list(expr.childForFieldName("left")) === "operations";
    const fn = expr?.type === "call" ? expr.childForFieldName("function") : null;
    return fn?.type === "attribute" && scope.list(fn.childForFieldName("object")) === "operations";
  });
}

/**
 * The condition under which the block of an `if`, `elif` or `else` runs, as written (`not (...)`
 * for an `else`), shortened for messages; null for other statements.
 */
function branchCondition(stmt: SyntaxNode): string | null {
  const text = (node: SyntaxNode | null | undefined) => (node ? truncate(node.text.replace(/\s+/g, " "), 80) : null);
  if (stmt.type === "if_statement" || stmt.type === "elif_clause") return text(stmt.childForFieldName("condition"));
  if (stmt.type === "else_clause" && stmt.parent?.type === "if_statement") {
    const condition = text(stmt.parent.childForFieldName("condition"));
    return condition ? `not (${condition})` : null;
  }
  return null;
}

/** Blocks that run once per item, whose appends depend on the loop's names. */
const LOOPS = new Set(["for_statement", "while_statement"]);

/**
 * A statement of `__init__` (after the base's) or of the class body that may change the
 * migration's lists (`scope` says how it names them): assignments and `+=`, `.append`, `.extend`
 * and `.insert` read as Python runs them. In a block that may or may not run (`conditional`:
 * `maybe` in an `if`, `try` or `with`, `loop` in a loop), every dependency is counted; operations
 * added by `+=`, `.append` or `.extend` in a `maybe` block are read as added (Django applies them
 * where the condition holds, as for `[...] + ([...] if settings.X else [])`), and any other change
 * to `operations` there makes them unknown.
 */
function readListStatement(ctx: Ctx, stmt: SyntaxNode, result: ParsedMigration, conditional: false | "maybe" | "loop", scope: ListScope): void {
  if (stmt.type === "if_statement" && !result.operationsUnknown && conditional !== "loop" && readVendorBranches(ctx, stmt, result, scope)) return;
  if (stmt.type === "if_statement" && !result.operationsUnknown) {
    // One branch runs: operations added in two of them are not all applied (as for
    // `[...] if settings.X else [...]` with both lists non-empty).
    const branches = [stmt.childForFieldName("consequence"), ...stmt.childrenForFieldName("alternative")];
    const changing = branches.filter((branch) => branch && changesOperations(branch, scope));
    if (changing.length > 1) {
      const where = changing[1] as SyntaxNode;
      result.operationsUnknown = { reason: `\`operations\` is changed ${scope.where} in more than one branch of an \`if\`, of which one runs`, range: rangeOf(ctx, where) };
    }
  }
  if (stmt.type === "try_statement" && !result.operationsUnknown) {
    // The body runs whole (then its `else`), or stops at an exception and one handler runs:
    // operations added in a handler and anywhere else but `finally` are not all applied, and
    // which are depends on where, and whether, something raises.
    // `except*` is an `except_clause` too.
    const handlers = stmt.namedChildren.filter((c) => c.type === "except_clause" && changesOperations(c, scope));
    const inBody = [stmt.childForFieldName("body"), ...stmt.namedChildren.filter((c) => c.type === "else_clause")].some((b) => b && changesOperations(b, scope));
    const second = inBody ? handlers[0] : handlers[1];
    if (second) {
      const where = inBody ? "both in a `try` and in one of its `except` clauses, of which not all run" : "in more than one `except` clause of a `try`, of which at most one runs";
      result.operationsUnknown = { reason: `\`operations\` is changed ${scope.where} ${where}`, range: rangeOf(ctx, second) };
    }
  }
  if (CONDITIONAL_BLOCKS.has(stmt.type)) {
    const inner = conditional === "loop" || LOOPS.has(stmt.type) ? "loop" : "maybe";
    // A block's statements, a compound statement's blocks and clauses (not its condition).
    for (const child of stmt.namedChildren) {
      if (stmt.type !== "block" && !CONDITIONAL_BLOCKS.has(child.type)) continue;
      const condition = child.type === "block" ? branchCondition(stmt) : null;
      const before = condition ? result.operations.slice() : null;
      readListStatement(ctx, child, result, inner, scope);
      // Operations an `if` adds run only when its condition holds (evennia comms 0013 adds
      // AddFields under `if _table_exists(...)`, for very old databases only): they keep it, and
      // their findings say so.
      if (before && condition) {
        const old = new Set(before);
        result.operations = result.operations.map((op) => (old.has(op) || op.condition ? op : { ...op, condition }));
      }
    }
    return;
  }
  if (stmt.type !== "expression_statement") return;
  const expr = stmt.namedChildren[0];
  if (!expr) return;
  const unknownOperations = () => {
    result.operationsUnknown ??= { reason: `\`operations\` is changed ${scope.where} in a way rollsafe does not read (\`${truncate(expr.text, 80)}\`)`, range: rangeOf(ctx, expr) };
  };
  if (expr.type === "assignment" || expr.type === "augmented_assignment") {
    const left = expr.childForFieldName("left");
    const list = scope.list(left);
    const right = expr.childForFieldName("right");
    if (!list && !conditional && right && expr.type === "assignment" && left?.text === "self.atomic") {
      // As in the class body: anything but a literal False keeps the migration atomic.
      result.atomic = right.type !== "false";
      result.atomicRange = rangeOf(ctx, stmt);
      return;
    }
    if (!list || !right) return;
    const extend = expr.type === "augmented_assignment";
    if (extend && expr.childForFieldName("operator")?.type !== "+=") {
      if (list === "operations") unknownOperations();
      return;
    }
    if (list === "operations") {
      // `if settings.X: operations = [...]` over an empty list (django-filer 0007): the operations
      // when the condition holds, none otherwise, read like `[...] if settings.X else []`.
      const overEmpty = conditional === "maybe" && !extend && result.operations.length === 0;
      if (conditional === "loop" || (conditional && !extend && !overEmpty)) unknownOperations();
      else readOperations(ctx, right, result, extend);
      return;
    }
    // A conditional assignment may or may not replace the class's list: both are counted.
    const deps = readDependencies(ctx, right);
    result[list] = extend || conditional ? [...result[list], ...deps] : deps;
    return;
  }
  // `self.dependencies.append(x)`, `.insert(0, x)`, `.extend([...])`.
  if (expr.type !== "call") return;
  const fn = expr.childForFieldName("function");
  const list = fn?.type === "attribute" ? scope.list(fn.childForFieldName("object")) : null;
  if (!fn || !list) return;
  const method = fn.childForFieldName("attribute")?.text;
  const args = (expr.childForFieldName("arguments")?.namedChildren ?? []).filter((a) => a.type !== "comment");
  if (list === "operations") {
    const item = args[0];
    if (conditional === "loop" || !item || args.length !== 1) unknownOperations();
    else if (method === "extend") readOperations(ctx, item, result, true);
    else if (method === "append" && !result.operationsUnknown) result.operations.push(...vendorSplit(ctx, item, () => readOperation(ctx, item, result.operations.length, 0)));
    else unknownOperations();
    return;
  }
  if (method === "extend" && args.length === 1 && args[0]) result[list] = [...result[list], ...readDependencies(ctx, args[0])];
  else if ((method === "append" && args.length === 1) || (method === "insert" && args.length === 2)) {
    const dep = dependencyOf(toValue(ctx, args[args.length - 1] as SyntaxNode, 0));
    if (dep) result[list] = [...result[list], dep];
  }
}

/**
 * The vendors on which a condition of the class body or `__init__` holds, when it tests the
 * database: `connection.vendor` (see `vendorTest`), a setting or constant named after one
 * (`settings.USE_POSTGRESQL`, `IS_SQLITE`: KoboToolbox logger 0017, Label Studio), a test of the
 * `ENGINE` setting (`"postgresql" in settings.DATABASES["default"]["ENGINE"]`), and `not`,
 * `and`, `or` of those. Null for any other condition.
 */
function vendorCondition(node: SyntaxNode | null): Set<string> | null {
  if (!node) return null;
  switch (node.type) {
    case "parenthesized_expression":
      return vendorCondition(node.namedChildren.find((c) => c.type !== "comment") ?? null);
    case "not_operator": {
      const inner = vendorCondition(node.childForFieldName("argument"));
      return inner && otherVendors(inner);
    }
    case "boolean_operator": {
      const a = vendorCondition(node.childForFieldName("left"));
      const b = vendorCondition(node.childForFieldName("right"));
      if (!a || !b) return null;
      const and = node.childForFieldName("operator")?.type === "and";
      return new Set(VENDORS.filter((v) => (and ? a.has(v) && b.has(v) : a.has(v) || b.has(v))));
    }
    case "identifier":
    case "attribute": {
      const last = node.type === "identifier" ? node.text : (node.childForFieldName("attribute")?.text ?? "");
      const vendor = VENDOR_FLAG.exec(last)?.[1]?.toLowerCase();
      return vendor ? new Set([vendorOf(vendor)]) : null;
    }
    case "comparison_operator": {
      const direct = vendorTest(node);
      if (direct) return direct;
      const [left, right] = node.namedChildren;
      const operator = node.children.filter((c) => !c.isNamed).map((c) => c.text).join(" ");
      if (!left || !right || node.namedChildren.length !== 2) return null;
      // `"postgresql" in settings.DATABASES["default"]["ENGINE"]`, `...["ENGINE"] == "django.db.backends.mysql"`.
      const [literal, subject] = left.type === "string" ? [left, right] : right.type === "string" ? [right, left] : [null, null];
      if (!literal || !subject || !/ENGINE/.test(subject.text)) return null;
      const text = decodeString(literal.text)?.value.toLowerCase() ?? "";
      const vendor = VENDORS.find((v) => text.includes(v === "postgresql" ? "postgres" : v));
      if (!vendor) return null;
      const matching = new Set([vendor]);
      if (operator === "in" || operator === "==") return matching;
      if (operator === "not in" || operator === "!=") return otherVendors(matching);
      return null;
    }
    default:
      return null;
  }
}

/** Names of flags that say which database runs (`USE_POSTGRESQL`, `IS_SQLITE`, `USING_MYSQL`, `POSTGRES`). */
const VENDOR_FLAG = /^(?:USE_|IS_|USING_|ON_)?(POSTGRES(?:QL)?|PG|MYSQL|MARIADB|SQLITE3?)$/i;

function vendorOf(flag: string): string {
  if (flag.startsWith("postgres") || flag === "pg") return "postgresql";
  if (flag === "mysql" || flag === "mariadb") return "mysql";
  return "sqlite";
}

/**
 * An `if`/`elif`/`else` of the class body or `__init__` whose every condition tests the database
 * (`vendorCondition`): each branch is read as running on the vendors where its condition holds and
 * no earlier one does, and the operations it adds keep those vendors (`Operation.vendors`); an
 * assignment of `operations` in a branch replaces the list on those vendors only. The replay
 * applies an operation only on its vendors, as Django would see it. False when a condition is not
 * such a test (the caller reads the statement as before).
 */
function readVendorBranches(ctx: Ctx, stmt: SyntaxNode, result: ParsedMigration, scope: ListScope): boolean {
  const branches = vendorBranches(stmt);
  if (!branches || !branches.some((b) => b.block && changesOperations(b.block, scope))) return false;
  for (const { block, vendors } of branches) {
    if (!block) continue;
    for (const child of block.namedChildren) {
      if (child.type === "comment") continue;
      const before = result.operations.slice();
      readListStatement(ctx, child, result, false, scope);
      if (result.operations.length === before.length && result.operations.every((op, k) => op === before[k])) continue;
      const kept = new Set(result.operations);
      const only = (op: Operation, allowed: ReadonlySet<string>): Operation => ({ ...op, vendors: (op.vendors ?? [...VENDORS]).filter((v) => allowed.has(v)) });
      const previous = new Set(before);
      // Operations the statement added run on this branch's vendors; those it replaced, on the others.
      const replaced = before.filter((op) => !kept.has(op)).map((op) => only(op, otherVendors(vendors)));
      result.operations = [...replaced, ...result.operations.map((op) => (previous.has(op) ? op : only(op, vendors)))];
    }
  }
  return true;
}

/**
 * A `dependencies`, `run_before` or `replaces` list: a literal, or literals joined with `+` and
 * chosen by a condition (`[...] + ([...] if settings.X else [])`, every branch counted).
 */
function readDependencies(ctx: Ctx, node: SyntaxNode): DependencyRef[] {
  const deps: DependencyRef[] = [];
  const list = toValue(ctx, node, 0);
  if (list.kind !== "list" && list.kind !== "tuple") return deps;
  for (const value of list.items) {
    const dep = dependencyOf(value);
    if (dep) deps.push(dep);
  }
  return deps;
}

/** One item of a dependency list: `("app", "0001_x")` or `swappable_dependency(...)`; null for anything else. */
function dependencyOf(value: PyValue): DependencyRef | null {
  if (value.kind === "tuple" || value.kind === "list") {
    const [app, name] = value.items;
    return app?.kind === "str" && name?.kind === "str" ? { app: app.value, name: name.value, range: value.range } : null;
  }
  if (value.kind === "call" && /(^|\.)swappable_dependency$/.test(value.qualified)) {
    const setting = value.args[0];
    // A third-party app's model setting: its default model's app, as Django resolves it.
    const model = setting?.kind === "name" ? modelSettingDefault(setting.qualified) : null;
    if (model) return { app: model.slice(0, model.indexOf(".")), name: "__first__", range: value.range };
    const settingName = setting?.kind === "name" ? setting.name.replace(/^settings\./, "") : "AUTH_USER_MODEL";
    return { app: "__setting__", name: "__first__", swappable: settingName, range: value.range };
  }
  return null;
}

function readStageMarker(ctx: Ctx, attr: string, right: SyntaxNode, stmt: SyntaxNode): StageMarker | null {
  const text = right.text;
  const range = rangeOf(ctx, stmt);
  if (attr === "is_post_deployment") {
    if (right.type === "true") return { stage: "post", source: "sentry", text: stmt.text, range };
    if (right.type === "false") return { stage: "pre", source: "sentry", text: stmt.text, range };
    return null;
  }
  if (attr === "stage") {
    if (/\bPOST_DEPLOY\b/.test(text)) return { stage: "post", source: "syzygy", text: stmt.text, range };
    if (/\bPRE_DEPLOY\b/.test(text)) return { stage: "pre", source: "syzygy", text: stmt.text, range };
    return null;
  }
  // django-safemigrate: `Safe.before_deploy()`, `Safe.after_deploy(delay=...)`, `Safe.always()`,
  // and the pre-4.0 attribute forms `Safe.before_deploy` / `Safe.after_deploy`.
  if (/\bbefore_deploy\b/.test(text)) return { stage: "pre", source: "safemigrate", text: stmt.text, range };
  if (/\bafter_deploy\b/.test(text)) return { stage: "post", source: "safemigrate", text: stmt.text, range };
  if (/\balways\b/.test(text)) return { stage: "always", source: "safemigrate", text: stmt.text, range };
  return null;
}

/** `operations = ...` (or, with `append`, `operations += ...`) in the migration class. */
function readOperations(ctx: Ctx, node: SyntaxNode, result: ParsedMigration, append = false): void {
  if (append && result.operationsUnknown) return;
  const lists = operationLists(ctx, node);
  if (typeof lists === "string") {
    if (!append) result.operations = [];
    result.operationsUnknown = { reason: `\`operations\` ${lists} (\`${truncate(node.text, 80)}\`)`, range: rangeOf(ctx, node) };
    return;
  }
  result.operations = readOperationLists(ctx, lists, 0, append ? result.operations : []);
  if (!append) result.operationsUnknown = null;
}

/**
 * The operations of `lists` (see `operationLists`), read in order after `ops` (their indexes go
 * on from there).
 */
function readOperationLists(ctx: Ctx, lists: ListPart[], depth: number, ops: Operation[] = []): Operation[] {
  for (const list of lists) {
    if ("item" in list) {
      const { item } = list;
      for (const op of vendorSplit(ctx, item, () => readOperation(ctx, item, ops.length, depth))) ops.push(...spreadOperations(ctx, op, ops.length));
    }
    else if ("loop" in list) ops.push(...loopOperations(ctx, list.loop, depth, ops.length));
    else if (list.type === "call") ops.push(...spreadOperations(ctx, readSpread(ctx, list, list, ops.length, "operations returned by", `operations returned by a call (\`${truncate(list.text, 60)}\`)`), ops.length));
    else if (list.type === "list_comprehension") ops.push(...comprehensionOperations(ctx, list, depth, ops.length));
    else ops.push(...readOperationList(ctx, list, depth, ops.length));
  }
  return ops;
}

/**
 * The lists an operation list is made of: a list or tuple, a module constant bound to one,
 * lists joined with `+`, and of `[...] if condition else []` the branch that holds operations
 * (Django runs them in the configurations where the condition holds, so they are checked). A
 * call (`make_operations(...)`) and a list comprehension stand for the operations they make
 * (`readOperationLists` reads them, or leaves an unknown operation saying why). Otherwise why
 * not (a reason that follows "`operations` ..."): two non-empty branches cannot both run, and
 * any other name is not read.
 */
function operationLists(ctx: Ctx, node: SyntaxNode): ListPart[] | string {
  switch (node.type) {
    case "list":
    case "tuple":
    case "list_comprehension":
      return [node];
    case "call":
      return chainedLists(ctx, node) ?? [node];
    case "parenthesized_expression": {
      const inner = node.namedChildren.find((c) => c.type !== "comment");
      return inner ? operationLists(ctx, inner) : NOT_A_LIST;
    }
    case "binary_operator": {
      // A chain `a + b + c ...` nests to the left as deep as it is long: read without recursion.
      const operands = plusChain(node);
      if (!operands) return NOT_A_LIST;
      const lists: ListPart[] = [];
      for (const operand of operands) {
        const read = operationLists(ctx, operand);
        if (typeof read === "string") return read;
        for (const list of read) lists.push(list);
        if (lists.length > MAX_OPERATION_LISTS) return `joins more than ${MAX_OPERATION_LISTS} lists`;
      }
      return lists;
    }
    case "conditional_expression": {
      // A literal condition (`if False`) picks its branch. Not a name: even a constant may come
      // from the project's settings (`getattr(settings, "X", False)` reads as its default).
      const condition = node.namedChildren.filter((c) => c.type !== "comment")[1];
      const either = branches(node);
      const truth = condition && either && LITERALS.has(condition.type) ? truthy(toValue(ctx, condition, 0)) : null;
      if (either && truth !== null) return operationLists(ctx, either[truth ? 0 : 1]);
      const both = branchLists(ctx, either);
      if (typeof both === "string") return both;
      const [a, b] = both;
      const empty = (lists: ListPart[]) => lists.every((l) => "type" in l && l.namedChildren.every((c) => c.type === "comment"));
      if (empty(b)) return a;
      if (empty(a)) return b;
      return "depends on a condition rollsafe cannot evaluate, and both branches hold operations";
    }
    case "identifier": {
      // A module constant (`operations = OPERATIONS`), read where it is bound.
      if (ctx.scope?.values.has(node.text)) return NOT_A_LIST;
      // A function's list that statements before have grown (`ops.append(...)`).
      const grown = ctx.scope?.parts?.get(node.text);
      if (grown) return grown;
      const local = ctx.scope?.nodes.get(node.text);
      if (local !== undefined) return local ? withLocal(ctx, node.text, local, (bound) => operationLists(ctx, bound)) ?? NOT_A_LIST : NOT_A_LIST;
      let lists = ctx.lists.get(node.text);
      if (lists === undefined) ctx.lists.set(node.text, (lists = withConstant(ctx, node.text, (bound) => operationLists(ctx, bound)) ?? NOT_A_LIST));
      return lists;
    }
    default:
      return NOT_A_LIST;
  }
}

const NOT_A_LIST = "is not a literal list";

/**
 * The lists of operations `itertools.chain(...)`, `chain.from_iterable(...)` or `list(...)` of
 * them joins (TabbyCat draw 0010: `list(chain(*[[...] for table in [...]]))`, adjfeedback 0016:
 * `*chain.from_iterable(answer_migrations)`), or why they cannot be read; null for another call.
 */
function chainedLists(ctx: Ctx, call: SyntaxNode): ListPart[] | string | null {
  const fn = call.childForFieldName("function");
  const callee = fn ? dottedName(fn) : null;
  if (!callee) return null;
  const args = (call.childForFieldName("arguments")?.namedChildren ?? []).filter((a) => a.type !== "comment");
  const qualified = qualify(ctx, callee);
  const shadowed = (name: string) => ctx.imports[name] !== undefined || ctx.scope?.values.has(name) || ctx.scope?.nodes.has(name) || ctx.functions?.has(name);
  // The operation lists of a joined iterable (`*chain(...)`'s splat included), of one list.
  const ofIterable = (node: SyntaxNode) => listsOfLists(ctx, node);
  const ofList = (node: SyntaxNode) => (node.type === "list_splat" ? listsOfLists(ctx, node.namedChildren.find((c) => c.type !== "comment") ?? node) : operationLists(ctx, node));
  if (qualified === "itertools.chain.from_iterable" && args.length === 1) return joinedLists(args, ofIterable);
  if (qualified === "itertools.chain") return joinedLists(args, ofList);
  if (callee === "list" && !shadowed("list") && args.length === 1 && args[0]?.type !== "list_splat") return joinedLists(args, ofList);
  return null;
}

/**
 * The lists `read` finds in each of `nodes`, one after the other, or the first reason one cannot be
 * read (the nodes after it are not read); at most `MAX_OPERATION_LISTS`.
 */
function joinedLists(nodes: readonly SyntaxNode[], read: (node: SyntaxNode) => ListPart[] | string): ListPart[] | string {
  const lists: ListPart[] = [];
  for (const node of nodes) {
    const part = read(node);
    if (typeof part === "string") return part;
    lists.push(...part);
    if (lists.length > MAX_OPERATION_LISTS) return `joins more than ${MAX_OPERATION_LISTS} lists`;
  }
  return lists;
}

/**
 * The lists of operations an iterable of lists holds, for `chain`: a literal list of lists, a
 * list comprehension whose body is a literal list (one loop, each item making those operations),
 * or a module constant bound to one of them.
 */
function listsOfLists(ctx: Ctx, node: SyntaxNode): ListPart[] | string {
  switch (node.type) {
    case "list":
    case "tuple":
      return joinedLists(
        node.namedChildren.filter((c) => c.type !== "comment"),
        (item) => operationLists(ctx, item),
      );
    case "list_comprehension": {
      const clause = comprehensionClause(node);
      if (typeof clause === "string") return `is made by ${LIST_COMPREHENSION} ${clause}`;
      const body = clause.bodies[0];
      if (clause.bodies.length !== 1 || (body?.type !== "list" && body?.type !== "tuple")) return `is made by ${LIST_COMPREHENSION} whose items are not literal lists`;
      return [{ loop: { node, what: LIST_COMPREHENSION, ...clause, bodies: body.namedChildren.filter((c) => c.type !== "comment") } }];
    }
    case "parenthesized_expression": {
      const inner = node.namedChildren.find((c) => c.type !== "comment");
      return inner ? listsOfLists(ctx, inner) : NOT_A_LIST;
    }
    case "identifier":
      if (ctx.scope?.values.has(node.text) || ctx.scope?.nodes.has(node.text)) return NOT_A_LIST;
      return withConstant(ctx, node.text, (bound) => listsOfLists(ctx, bound)) ?? NOT_A_LIST;
    default:
      return NOT_A_LIST;
  }
}

/** Node types of literals whose truth `truthy` knows. */
const LITERALS = new Set(["true", "false", "none", "integer", "float", "string"]);

/** `operationLists` of a condition's two branches, or the first reason one is not read. */
function branchLists(ctx: Ctx, operands: [SyntaxNode, SyntaxNode] | null): [ListPart[], ListPart[]] | string {
  if (!operands) return NOT_A_LIST;
  const a = operationLists(ctx, operands[0]);
  if (typeof a === "string") return a;
  const b = operationLists(ctx, operands[1]);
  if (typeof b !== "string" && a.length + b.length > MAX_OPERATION_LISTS) return `joins more than ${MAX_OPERATION_LISTS} lists`;
  return typeof b === "string" ? b : [a, b];
}

function readOperationList(ctx: Ctx, list: SyntaxNode, depth = 0, first = 0): Operation[] {
  const ops: Operation[] = [];
  let pendingComments: { text: string; line: number }[] = [];
  let lastEndLine = -1;
  for (const item of list.namedChildren) {
    if (item.type === "comment") {
      const line = ctx.index.position(item.startIndex).line;
      // A trailing comment on the previous operation's last line belongs to that operation.
      const previous = ops[ops.length - 1];
      if (previous && line === lastEndLine) previous.comments.push({ text: commentText(item), line });
      else pendingComments.push({ text: commentText(item), line });
      continue;
    }
    // `*chain.from_iterable(...)`, `*chain(...)`: the operations of the lists it joins, in place.
    const splatted = item.type === "list_splat" ? item.namedChildren.find((c) => c.type !== "comment") : undefined;
    const joined = depth <= MAX_OPERATION_DEPTH && splatted?.type === "call" ? chainedLists(ctx, splatted) : null;
    if (joined !== null && typeof joined !== "string") {
      const made = readOperationLists(ctx, joined, depth);
      made[0]?.comments.unshift(...pendingComments);
      for (const op of made) {
        op.index = first + ops.length;
        ops.push(op);
      }
      lastEndLine = made[made.length - 1]?.range.endLine ?? lastEndLine;
      pendingComments = [];
      continue;
    }
    const read = depth > MAX_OPERATION_DEPTH
      ? [unknownOperation(ctx, item, first + ops.length, `nested more than ${MAX_OPERATION_DEPTH} operations deep`)]
      : vendorSplit(ctx, item, () => readOperation(ctx, item, first + ops.length, depth));
    for (const op of read) {
      const made = spreadOperations(ctx, op, first + ops.length);
      made[0]?.comments.unshift(...pendingComments);
      lastEndLine = op.range.endLine;
      ops.push(...made);
    }
    pendingComments = [];
  }
  return ops;
}

/** Most items a list comprehension of operations is read for. */
const MAX_COMPREHENSION_ITEMS = 1_000;
/** What each item of a list comprehension costs the module's reading budget (`Ctx.budget`). */
const COMPREHENSION_ITEM_COST = 50;

/**
 * `[migrations.AddField("book", name, ...) for name in ("a", "b")]`: the operation the body makes
 * for each item of a literal iterable (a list or tuple, a dict's keys, or its `.keys()`,
 * `.values()` or `.items()`, a constant bound to one), with the loop's names bound to the item or
 * unpacked from it, as Python runs it. Each operation has the body's range, and no fix is offered
 * on it: an edit there would change every item's. Otherwise one unknown operation saying why not.
 */
function comprehensionOperations(ctx: Ctx, node: SyntaxNode, depth: number, first: number): Operation[] {
  const clause = comprehensionClause(node);
  if (typeof clause === "string") return [unknownOperation(ctx, node, first, `operations made by ${LIST_COMPREHENSION} ${clause}`)];
  return loopOperations(ctx, { node, what: LIST_COMPREHENSION, ...clause }, depth, first);
}

/** A list comprehension's one `for` (its target and iterables) and its body, or why it is not read. */
function comprehensionClause(node: SyntaxNode): Pick<OperationLoop, "target" | "sources" | "bodies"> | string {
  const body = node.childForFieldName("body");
  const clauses = node.namedChildren.filter((c) => c !== body && c.type !== "comment");
  const clause = clauses[0];
  if (clauses.some((c) => c.type === "if_clause")) return "that filters its items with `if`";
  if (!body || clause?.type !== "for_in_clause" || clauses.length !== 1) return "with more than one `for`";
  if (clause.children.some((c) => c.type === "async")) return "over an asynchronous iterable";
  return { target: clause.childForFieldName("left"), sources: clause.childrenForFieldName("right"), bodies: [body] };
}

/**
 * The operations a loop makes: for each item of its iterable (see `loopScopes`), one per body
 * expression. Otherwise one unknown operation saying why.
 */
function loopOperations(ctx: Ctx, loop: OperationLoop, depth: number, first: number): Operation[] {
  const scopes = loopScopes(ctx, loop, depth);
  if (typeof scopes === "string") return [unknownOperation(ctx, loop.node, first, `operations made by ${loop.what} ${scopes}`)];
  const ops: Operation[] = [];
  for (const inner of scopes) {
    for (const body of loop.bodies) {
      for (const read of vendorSplit(inner, body, () => readOperation(inner, body, first + ops.length, depth))) {
        for (const op of spreadOperations(inner, read, first + ops.length)) {
          op.builtBy ??= loop.what;
          ops.push(op);
        }
      }
    }
  }
  return ops;
}

/**
 * The scope a loop's body is read in for each item of its iterable (a literal list or tuple, a
 * dict's keys, or its `.keys()`, `.values()` or `.items()`, a constant bound to one), with the
 * loop's names bound to the item or unpacked from it, as Python runs it; or why not (a reason
 * that follows "made by a list comprehension ...").
 */
function loopScopes(ctx: Ctx, loop: Pick<OperationLoop, "target" | "sources" | "bodies">, depth: number): Ctx[] | string {
  const { target, sources, bodies } = loop;
  const names = target ? loopNames(target) : null;
  if (!names) return `whose loop target (\`${truncate(target?.text ?? "", 60)}\`) is not a name or a flat tuple of names`;
  const source = sources.length === 1 ? sources[0] : undefined;
  const items = source ? iteratedItems(ctx, source) : null;
  if (!items) return `over \`${truncate(sources.map((n) => n.text).join(", "), 60)}\`, which is not a literal list, tuple or dict`;
  if (items.length > MAX_COMPREHENSION_ITEMS) return `over more than ${MAX_COMPREHENSION_ITEMS} items`;
  // Each item makes an operation or a value: charged to the module's reading budget, so that
  // many loops joined together cannot make them without end.
  ctx.budget.left -= items.length * bodies.length * COMPREHENSION_ITEM_COST;
  if (ctx.budget.left < 0) return "in a module that makes more operations than rollsafe reads";
  // The body runs in a scope of its own: the loop's names, then the enclosing function's names
  // as they are when the loop runs (read here, before the loop's names can hide them from a
  // local's definition), then the module's.
  const outer = ctx.scope;
  const values = new Map(outer?.values);
  if (outer) {
    for (const id of bodies.flatMap((body) => body.descendantsOfType("identifier"))) {
      if (!names.includes(id.text) && !values.has(id.text) && outer.nodes.has(id.text)) values.set(id.text, toValue(ctx, id, depth + 1));
    }
  }
  const scopes: Ctx[] = [];
  for (const item of items) {
    const bound = new Map(values);
    if (names.length === 1) bound.set(names[0] as string, item);
    else if ((item.kind === "tuple" || item.kind === "list") && item.items.length === names.length) names.forEach((name, i) => bound.set(name, item.items[i] as PyValue));
    else return `whose items do not all unpack into \`${names.join(", ")}\``;
    scopes.push({ ...ctx, scope: { values: bound, nodes: new Map() }, memo: new Map(), lists: new Map() });
  }
  return scopes;
}

/** The names a comprehension's `for` binds: one name, or a flat tuple or list of two or more. */
function loopNames(target: SyntaxNode): string[] | null {
  if (target.type === "identifier") return [target.text];
  if (target.type !== "pattern_list" && target.type !== "tuple_pattern" && target.type !== "list_pattern") return null;
  const parts = target.namedChildren.filter((c) => c.type !== "comment");
  // `for (x) in ...` binds `x` and `for (x,) in ...` unpacks: one name in brackets is not read.
  if (parts.length < 2 || parts.some((c) => c.type !== "identifier")) return null;
  const names = parts.map((c) => c.text);
  return new Set(names).size === names.length ? names : null;
}

/**
 * The items a `for` takes from `source`, in order: a literal list or tuple, a dict's keys, or
 * its `.keys()`, `.values()` or `.items()` (as `(key, value)` tuples); null for anything else (a
 * set's order is not the source's).
 */
function iteratedItems(ctx: Ctx, source: SyntaxNode): PyValue[] | null {
  const fn = source.type === "call" ? source.childForFieldName("function") : null;
  const args = source.type === "call" ? source.childForFieldName("arguments") : null;
  if (fn?.type === "attribute" && args?.type === "argument_list" && args.namedChildren.every((c) => c.type === "comment")) {
    const method = fn.childForFieldName("attribute")?.text;
    const object = fn.childForFieldName("object");
    const dict = object && (method === "keys" || method === "values" || method === "items") ? toValue(ctx, object, 0) : null;
    if (dict?.kind !== "dict" || repeatsKey(dict)) return null;
    if (method === "keys") return dict.entries.map((e) => e.key);
    if (method === "values") return dict.entries.map((e) => e.value);
    return dict.entries.map((e) => ({ kind: "tuple", items: [e.key, e.value], range: e.key.range }));
  }
  const value = toValue(ctx, source, 0);
  if (value.kind === "list" || value.kind === "tuple") return value.items;
  if (value.kind === "dict" && !repeatsKey(value)) return value.entries.map((e) => e.key);
  return null;
}

/** Whether a dict literal writes a key twice (Python keeps the first place and the last value). */
function repeatsKey(dict: Extract<PyValue, { kind: "dict" }>): boolean {
  const seen = new Set<string>();
  for (const { key } of dict.entries) {
    const id = key.kind === "str" || key.kind === "int" ? `${key.kind}:${String(key.value)}` : null;
    if (id === null) continue;
    if (seen.has(id)) return true;
    seen.add(id);
  }
  return false;
}

/**
 * `op` itself, or for operations spread from a call of a function of this module
 * (`*make_operations(...)`, `operations = make_operations(...)`) the operations it returns, in
 * its place. A call that cannot be read keeps its place as an unknown operation, with the reason.
 */
function spreadOperations(ctx: Ctx, op: Operation, index: number): Operation[] {
  const spread = op.spread && !op.unpacked && ctx.functions?.has(op.callee) ? operationsFromFactory(ctx, op.callee, op, index) : null;
  if (typeof spread === "string" && op.unknown) op.unknown.reason = `${op.unknown.reason} (${spread}, in this ${ctx.where})`;
  return Array.isArray(spread) ? spread : [op];
}

/**
 * An unknown operation standing for the operations a call makes (`node` is `*call(...)` in a
 * list, or the call itself where a list is expected), kept as the call for the function's
 * operations to be read in its place (`spreadOperations`, or a helper module's after the load).
 */
function readSpread(ctx: Ctx, node: SyntaxNode, inner: SyntaxNode | undefined, index: number, what: string, otherwise: string): Operation {
  const op = unknownOperation(ctx, node, index, otherwise);
  const fn = inner?.type === "call" ? inner.childForFieldName("function") : null;
  const callee = fn ? dottedName(fn) : null;
  const call = inner && callee ? toValue(ctx, inner, 0) : null;
  if (callee && call?.kind === "call" && op.unknown) {
    op.unknown.reason = `${what} \`${callee}(...)\``;
    op.callee = callee.includes(".") ? qualify(ctx, callee) : ctx.imports[callee] ?? callee;
    op.args = mapArguments(call, []);
    op.spread = true;
    if (call.hasSplat) op.unpacked = true;
  }
  return op;
}

function unknownOperation(ctx: Ctx, node: SyntaxNode, index: number, reason: string): Operation {
  return {
    kind: "Unknown",
    origin: "unknown",
    callee: "",
    args: {},
    range: rangeOf(ctx, node),
    unknown: { reason, text: truncate(node.text, MAX_OPAQUE_TEXT) },
    comments: [],
    index,
  };
}

function readOperation(ctx: Ctx, node: SyntaxNode, index: number, depth = 0): Operation {
  if (node.type === "list_splat") {
    return readSpread(ctx, node, node.namedChildren.find((c) => c.type !== "comment"), index, "operations spread from", "operations spread from another list (`*...`)");
  }
  if (node.type !== "call") {
    return unknownOperation(ctx, node, index, "not a call to an operation class");
  }
  const fn = node.childForFieldName("function");
  const callee = fn ? dottedName(fn) : null;
  if (!fn || callee === null) {
    return unknownOperation(ctx, node, index, "the operation class is not a plain name");
  }
  const qualified = qualify(ctx, callee);
  const call = toValue(ctx, node, 0);
  if (call.kind !== "call") return unknownOperation(ctx, node, index, "unreadable call");
  const catalogued = builtinOperation(qualified) ? null : readThirdParty(ctx, qualified, call);
  if (catalogued && !catalogued.ok) {
    const op = unknownOperation(ctx, node, index, `\`${callee}\` ${catalogued.reason}`);
    const stateOf = "behavesAs" in catalogued ? catalogued.behavesAs : undefined;
    return {
      ...op,
      kind: callee.slice(callee.lastIndexOf(".") + 1),
      origin: "third-party",
      callee: qualified,
      args: mapArguments(call, stateOf?.params ?? []),
      ...(stateOf ? { behavesAs: stateOf.kind } : {}),
    };
  }
  const builtin = builtinOperation(qualified) ?? (catalogued?.ok ? catalogued.builtin : null);
  const kind = builtin?.kind ?? callee.slice(callee.lastIndexOf(".") + 1);
  const op: Operation = {
    kind,
    origin: builtin ? builtin.origin : catalogued?.ok || ctx.imports[callee.split(".")[0] ?? ""] ? "third-party" : "unknown",
    callee: qualified,
    args: mapArguments(call, builtin?.params ?? (catalogued?.ok ? catalogued.params : [])),
    range: rangeOf(ctx, node),
    comments: [],
    index,
  };
  if (catalogued?.ok) op.thirdParty = catalogued.info;
  if (!builtin) {
    if (catalogued?.ok) return op;
    op.unknown = { reason: `custom operation \`${callee}\``, text: truncate(node.text, MAX_OPAQUE_TEXT) };
    if (call.hasSplat) op.unpacked = true;
    // A function of this module that returns an operation.
    else if (ctx.functions?.has(callee)) {
      const made = operationFromFactory(ctx, callee, op);
      if (typeof made !== "string") return made;
      op.unknown.reason = `custom operation \`${callee}\` (${made}, in this ${ctx.where})`;
    }
    return op;
  }
  if (call.hasSplat) {
    op.unknown = { reason: "arguments are unpacked with `*` or `**`", text: truncate(node.text, MAX_OPAQUE_TEXT) };
  }
  if (kind === "SeparateDatabaseAndState") {
    op.databaseOperations = nestedOperations(ctx, node, op, "database_operations", 0, depth);
    op.stateOperations = nestedOperations(ctx, node, op, "state_operations", 1, depth);
  } else if (kind === "RunSQL") {
    op.stateOperations = nestedOperations(ctx, node, op, "state_operations", 2, depth);
  } else if (kind === "RunPython" && !op.unknown) {
    const executes = executedSql(ctx, op);
    if (executes.length > 0) op.executes = executes;
  }
  return op;
}

/** The `name=` of an index call, as `RemoveIndex` takes it; opaque when it has none. */
function indexName(index: PyValue, range: SourceRange): PyValue {
  const name = index.kind === "call" ? index.kwargs.name : undefined;
  return name ?? { kind: "opaque", text: "<index name>", range };
}

/** `RunSQL.noop`, as the reverse of the SQL a `RunPython`'s function executes (`Operation.executes`). */
const NOOP_NAME = "migrations.RunSQL.noop";

/**
 * At most this many operations are read from what one `RunPython` function runs: loops over a
 * list of statements, at many call sites, would otherwise make a small file hold millions (2,000
 * loops over one list of 2,000 took 19 s and 1 GB). The rest of the function is not read.
 */
const MAX_EXECUTED = 1000;

/**
 * The SQL the function a `RunPython` runs (a function of this migration, by name) executes
 * itself: `schema_editor.execute(sql)` on its second parameter, and `cursor.execute(sql)` on a
 * cursor it opens (`with schema_editor.connection.cursor() as cursor`, `cursor =
 * connection.cursor()`), with a string literal (`params` kept, as `RunSQL` takes them). Django
 * runs that SQL as it runs a `RunSQL`'s, inside the migration's transaction when it is atomic:
 * each becomes a `RunSQL` for the rules (`Operation.executes`). `schema_editor.add_index(Model,
 * Index(...))` and `remove_index` on a model of this app the function fetches
 * (`Model = apps.get_model("shop", "Model")`) run what `AddIndex` and `RemoveIndex` run, and
 * become those (database side only). The SQL may be a literal, a name the function binds once
 * to one (anywhere in its body), a module constant, or the loop variable of a `for` over a list
 * or tuple of them (`for sql in STATEMENTS: schema_editor.execute(sql)`: each item, in order).
 * SQL built at run time is not read; functions of other modules and of helpers the function
 * calls are not followed.
 */
function executedSql(ctx: Ctx, op: Operation): Operation[] {
  const code = op.args.code;
  if (ctx.where !== "migration" || code?.kind !== "name") return [];
  const def = ctx.functions?.get(code.name) ?? ctx.decorated?.get(code.name);
  const body = def?.childForFieldName("body");
  if (!def || !body) return [];
  const editor = parameterList(def)[1];
  const executors = new Map<string, string>();
  if (editor?.kind === "positional") executors.set(editor.name, `${editor.name}.execute`);
  const isCursor = (value: SyntaxNode | null | undefined) => {
    const fn = value?.type === "call" ? value.childForFieldName("function") : null;
    return fn?.type === "attribute" && fn.childForFieldName("attribute")?.text === "cursor";
  };
  // Names bound to a cursor (`with ... .cursor() as cursor`, `cursor = ... .cursor()`), and to a
  // model of this app (`Account = apps.get_model("shop", "Account")`), in one pass.
  const models = new Map<string, string>();
  for (const node of body.descendantsOfType(["as_pattern", "assignment"])) {
    const value = node.type === "as_pattern" ? node.namedChildren[0] : node.childForFieldName("right");
    const target = node.type === "as_pattern" ? node.childForFieldName("alias")?.namedChildren[0] : node.childForFieldName("left");
    if (target?.type !== "identifier") continue;
    if (isCursor(value)) executors.set(target.text, `${target.text}.execute`);
    const fetched = node.type === "assignment" ? getModelCalls(value?.text ?? "") : [];
    const [app, model] = fetched.length === 1 ? (fetched[0] as [string, string]) : [null, null];
    if (model !== null && app === ctx.appLabel) models.set(target.text, model);
  }
  const executes: Operation[] = [];
  let locals: FunctionLocals | undefined;
  /** One operation the function runs, at the call's range, after the `RunPython` (its `index`). */
  const executed = (kind: "RunSQL" | "AddIndex" | "RemoveIndex", args: Record<string, PyValue>, range: SourceRange, via: string): Operation => ({
    kind,
    origin: "django",
    callee: `django.db.migrations.${kind}`,
    args,
    range,
    comments: [],
    index: op.index,
    executedBy: `\`${via}\` in \`${code.name}\``,
  });
  for (const call of body.descendantsOfType("call")) {
    if (executes.length >= MAX_EXECUTED) break;
    const fn = call.childForFieldName("function");
    const method = fn?.type === "attribute" ? fn.childForFieldName("attribute")?.text : undefined;
    const on = fn?.type === "attribute" ? fn.childForFieldName("object") : null;
    const args = (call.childForFieldName("arguments")?.namedChildren ?? []).filter((a) => a.type !== "comment");
    if ((method === "add_index" || method === "remove_index") && on?.type === "identifier" && on.text === editor?.name) {
      // `schema_editor.add_index(Account, Index(...))`: what `AddIndex` runs, without its state change.
      const [modelNode, indexNode] = args;
      const model = modelNode?.type === "identifier" ? models.get(modelNode.text) : undefined;
      if (model === undefined || !indexNode || indexNode.type === "keyword_argument") continue;
      const range = rangeOf(ctx, call);
      const modelName: PyValue = { kind: "str", value: model.toLowerCase(), range };
      const index = toValue(ctx, indexNode, 0);
      executes.push(
        method === "add_index"
          ? executed("AddIndex", { model_name: modelName, index }, range, `${on.text}.add_index`)
          : executed("RemoveIndex", { model_name: modelName, name: indexName(index, range) }, range, `${on.text}.remove_index`),
      );
      continue;
    }
    // On a named executor, or straight on a cursor (`connection.cursor().execute(...)`).
    const via = method !== "execute" ? undefined : on?.type === "identifier" ? executors.get(on.text) : isCursor(on) ? `${on?.text}.execute` : undefined;
    if (via === undefined) continue;
    const keyword = (name: string) => args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === name)?.childForFieldName("value");
    const positional = args.filter((a) => a.type !== "keyword_argument");
    const sqlNode = positional[0] ?? keyword("sql");
    if (!sqlNode) continue;
    locals ??= functionLocals(ctx, def, body);
    const read = executedStrings(locals, sqlNode, call).slice(0, MAX_EXECUTED - executes.length);
    // SQL built at run time (`TRIGGER.format(table=...)`, Funkwhale music 0045): still SQL the
    // function runs, which runsql-unverifiable says it cannot read.
    const sqls = read.length > 0 ? read : [toValue(locals.ctx, sqlNode, 0)];
    const paramsNode = positional[1] ?? keyword("params");
    const params = paramsNode ? toValue(locals.ctx, paramsNode, 0) : null;
    const range = rangeOf(ctx, call);
    const vendors = vendorsRunning(call, body);
    for (const sql of sqls) {
      const statements: PyValue = params && params.kind !== "none" ? { kind: "list", items: [{ kind: "tuple", items: [sql, params], range: sql.range }], range: sql.range } : sql;
      const run = executed("RunSQL", { sql: statements, reverse_sql: { kind: "name", name: NOOP_NAME, qualified: "django.db.migrations.RunSQL.noop", range } }, range, via);
      if (vendors) run.vendors = vendors;
      executes.push(run);
    }
  }
  return executes;
}

/** Django's database vendors (`connection.vendor`). */
const VENDORS = ["postgresql", "mysql", "sqlite", "oracle"] as const;

/** The vendors not in `set`. */
function otherVendors(set: ReadonlySet<string>): Set<string> {
  return new Set(VENDORS.filter((v) => !set.has(v)));
}

/**
 * The vendors a test of `connection.vendor` lets through (`x.vendor == "mysql"`, `!=`, `in (...)`,
 * `not in`, `not (...)`), or null when `condition` is not such a test.
 */
function vendorTest(condition: SyntaxNode | null): Set<string> | null {
  if (!condition) return null;
  if (condition.type === "parenthesized_expression") return vendorTest(condition.namedChildren[0] ?? null);
  if (condition.type === "not_operator") {
    const inner = vendorTest(condition.childForFieldName("argument"));
    return inner && otherVendors(inner);
  }
  if (condition.type !== "comparison_operator") return null;
  const [left, right] = condition.namedChildren;
  if (!left || !right || condition.namedChildren.length !== 2) return null;
  const operator = condition.children.filter((c) => !c.isNamed).map((c) => c.text).join(" ");
  const isVendor = (node: SyntaxNode) => node.type === "attribute" && node.childForFieldName("attribute")?.text === "vendor";
  const [subject, value] = isVendor(left) ? [left, right] : isVendor(right) ? [right, left] : [null, null];
  if (!subject || !value) return null;
  // One string, or a tuple/list/set of them.
  const items = value.type === "string" ? [value] : ["tuple", "list", "set"].includes(value.type) ? value.namedChildren : [];
  const named = items.map((c) => (c.type === "string" ? (decodeString(c.text)?.value ?? null) : null));
  if (named.length === 0 || named.some((n) => n === null)) return null;
  const matching = new Set(VENDORS.filter((v) => named.includes(v)));
  if (operator === "==" || operator === "in") return matching;
  if (operator === "!=" || operator === "not in") return otherVendors(matching);
  return null;
}

/** Whether a block only returns (an early `return` guard), ignoring comments and `pass`. */
function onlyReturns(block: SyntaxNode | null): boolean {
  const statements = (block?.namedChildren ?? []).filter((c) => c.type !== "comment" && c.type !== "pass_statement");
  return statements.length > 0 && statements.every((c) => c.type === "return_statement");
}

/**
 * The vendors on which a call in a function body runs, as its enclosing `if`/`elif`/`else`
 * tests of `connection.vendor` and early-return guards before it decide (patchwork 0042 and
 * 0043 run MySQL's SQL in one branch and PostgreSQL's in another); null when on every one.
 */
function vendorsRunning(call: SyntaxNode, body: SyntaxNode): string[] | null {
  let allowed = new Set<string>(VENDORS);
  const restrict = (to: Set<string> | null) => {
    if (to) allowed = new Set([...allowed].filter((v) => to.has(v)));
  };
  const not = (test: Set<string> | null) => test && otherVendors(test);
  for (let node: SyntaxNode = call; node !== body && node.parent; node = node.parent) {
    const parent = node.parent;
    if (parent.type === "block") {
      // An `if <vendor test>: return` before the statement: it runs only when the test fails.
      for (const sibling of parent.namedChildren) {
        if (sibling === node || sibling.startIndex >= node.startIndex) break;
        if (sibling.type === "if_statement" && sibling.childrenForFieldName("alternative").length === 0 && onlyReturns(sibling.childForFieldName("consequence"))) {
          restrict(not(vendorTest(sibling.childForFieldName("condition"))));
        }
      }
    }
    const statement = parent.type === "if_statement" ? parent : parent.parent?.type === "if_statement" && (parent.type === "elif_clause" || parent.type === "else_clause") ? parent.parent : null;
    if (!statement || node.type === "comment") continue;
    const tests = [statement.childForFieldName("condition"), ...statement.childrenForFieldName("alternative").filter((a) => a.type === "elif_clause").map((a) => a.childForFieldName("condition"))].map(vendorTest);
    if (parent === statement) {
      // In the `if`'s own block (not its condition).
      if (node === statement.childForFieldName("consequence")) restrict(tests[0] ?? null);
      continue;
    }
    const branch = statement.childrenForFieldName("alternative").indexOf(parent);
    const earlier = parent.type === "elif_clause" ? tests.slice(0, branch + 1) : tests;
    for (const test of earlier) restrict(not(test));
    if (parent.type === "elif_clause" && node === parent.childForFieldName("consequence")) restrict(tests[branch + 1] ?? null);
  }
  return allowed.size === VENDORS.length ? null : [...allowed];
}

/**
 * The names a function binds, for reading the values its calls pass (`executedSql`): `ctx`
 * reads a name as Python finds it there (a parameter: unknown; a name the body changes only
 * once, by `name = value` anywhere in it: that value; one changed any other way or more than
 * once, a list it appends to included: unknown; any other: the module's constant), and `loops`
 * has each name changed only as the variable of a `for` statement, with that statement.
 */
interface FunctionLocals {
  ctx: Ctx;
  loops: Map<string, SyntaxNode>;
}

function functionLocals(ctx: Ctx, def: SyntaxNode, body: SyntaxNode): FunctionLocals {
  const values = new Map<string, PyValue>();
  const range = rangeOf(ctx, def);
  for (const p of parameterList(def)) if (p.name) values.set(p.name, { kind: "opaque", text: p.name, range });
  // What changes each name in the body (`eachChange`): a name changed once, by `name = value`
  // or as a `for` variable, is read; any other is not.
  const changes = new Map<string, SyntaxNode[]>();
  eachChange(body, (name, by) => {
    const list = changes.get(name);
    if (list) list.push(by);
    else changes.set(name, [by]);
  }, false);
  const nodes = new Map<string, SyntaxNode | null>();
  const loops = new Map<string, SyntaxNode>();
  for (const [name, by] of changes) {
    if (values.has(name)) continue;
    const only = by.length === 1 ? (by[0] as SyntaxNode) : null;
    const left = only?.childForFieldName("left");
    const right = only?.childForFieldName("right");
    const plain = left?.type === "identifier" && right;
    nodes.set(name, only?.type === "assignment" && plain && right.type !== "assignment" ? right : null);
    if (only?.type === "for_statement" && plain) loops.set(name, only);
  }
  ctx.constants ??= moduleConstants(ctx.root);
  return { ctx: { ...ctx, scope: { values, nodes }, reading: new Set(), memo: new Map(), lists: new Map() }, loops };
}

/**
 * The SQL strings a call inside a function passes as `sqlNode` (`functionLocals`): one, or each
 * item of the list or tuple a `for` around the call iterates over; none when any is not a string.
 */
function executedStrings(locals: FunctionLocals, sqlNode: SyntaxNode, call: SyntaxNode): Extract<PyValue, { kind: "str" }>[] {
  const loop = sqlNode.type === "identifier" ? locals.loops.get(sqlNode.text) : undefined;
  if (loop) {
    // Only inside the loop's body: after it, the name holds the last item alone.
    const loopBody = loop.childForFieldName("body");
    if (!loopBody || call.startIndex < loopBody.startIndex || call.endIndex > loopBody.endIndex) return [];
    const iterable = toValue(locals.ctx, loop.childForFieldName("right") as SyntaxNode, 0);
    if (iterable.kind !== "list" && iterable.kind !== "tuple") return [];
    const items = iterable.items.filter((item): item is Extract<PyValue, { kind: "str" }> => item.kind === "str");
    // At the place each runs, as a constant's value is (messages, suppressions).
    const range = rangeOf(locals.ctx, sqlNode);
    return items.length === iterable.items.length ? items.map((item) => ({ ...item, range })) : [];
  }
  const sql = toValue(locals.ctx, sqlNode, 0);
  return sql.kind === "str" ? [sql] : [];
}

/**
 * A third-party or configured custom operation: the built-in it behaves like (its kind and
 * signature), or, without one, its own class name and parameters.
 */
function readThirdParty(
  ctx: Ctx,
  qualified: string,
  call: Extract<PyValue, { kind: "call" }>,
):
  | { ok: true; builtin: { kind: string; origin: "third-party"; params: readonly string[] } | null; params: readonly string[]; info: NonNullable<Operation["thirdParty"]> }
  | { ok: false; reason: string; behavesAs?: { kind: string; params: readonly string[] } }
  | null {
  const entry = ctx.local?.get(qualified) ?? lookupOperation(qualified, ctx.operations);
  if (!entry) return null;
  if (entry.unsafe) return { ok: false, reason: "is declared `unsafe` in the configuration" };
  const resolved = resolveThirdParty(qualified, entry, mapArguments(call, entry.params ?? []));
  if (!resolved.ok) {
    const kind = resolved.stateKnown ? entry.sameAs : null;
    return kind ? { ok: false, reason: resolved.reason, behavesAs: { kind, params: entry.params ?? builtinParams(kind) } } : { ok: false, reason: resolved.reason };
  }
  const kind = resolved.info.sameAs;
  return { ok: true, builtin: kind ? { kind, origin: "third-party", params: resolved.params } : null, params: resolved.params, info: resolved.info };
}

/**
 * Operation classes the migration module defines by subclassing a built-in operation, such as
 * django-celery-results' `class FakeAddIndex(migrations.AddIndex)` whose `database_forwards`
 * does nothing. Each behaves like its base, except for what it overrides: a `state_forwards` or
 * `database_forwards` whose body does nothing (a docstring, `pass`, a bare `return`) changes
 * nothing on that side; one that only calls the base's (`super().database_forwards(...)`, maybe
 * inside `try`) is the base's. Any other override, or an `__init__` of its own (the call's
 * arguments would not be the base's), makes a call of the class an operation rollsafe cannot
 * verify, saying why. A subclass of another such class is read through it. A subclass of
 * Django's `Operation` itself is read the same way, with no built-in behind it: one whose
 * `database_forwards` does nothing and whose `state_forwards` does nothing or only reloads a
 * model (debusine's `ReloadModel`) changes neither side.
 */
function localOperations(ctx: Ctx, classes: SyntaxNode[], where = "this migration"): OperationCatalog {
  const local = new Map<string, OperationEntry>();
  const byName = new Map(classes.map((c) => [c.childForFieldName("name")?.text ?? "", c] as const));
  for (const cls of classes) {
    const name = cls.childForFieldName("name")?.text;
    const bases = (cls.childForFieldName("superclasses")?.namedChildren ?? []).filter((b) => b.type !== "comment");
    // With several bases, the operation is the last; those before it must be mixins of this
    // module (`class HqRunSQL(HqOpMixin, RunSQL)`, commcare-hq), whose methods come first in
    // Python's method order.
    const last = bases[bases.length - 1];
    const base = last && (bases.length === 1 || last.type !== "keyword_argument") ? dottedName(last) : null;
    if (!name || base === null || name === "Migration") continue;
    const mixins = bases.slice(0, -1).map((b) => mixinBody(byName.get(b.type === "identifier" ? b.text : "")));
    if (mixins.some((m) => m === null)) continue;
    const builtin = builtinOperation(qualify(ctx, base));
    // Django's `Operation` itself: its `state_forwards` and `database_forwards` raise, so a
    // subclass says what each does, and an `__init__` of its own maps no built-in's arguments.
    const abstract = !builtin && OPERATION_BASES.has(qualify(ctx, base));
    const parent = builtin || abstract ? null : local.get(base);
    if (!builtin && !parent && !abstract) continue;
    const methods = new Map<string, SyntaxNode | null>();
    let stateParameter: string | null = null;
    // The first mixin's methods win over the later ones', the class's own over all.
    for (const stmt of [...[...mixins].reverse().flatMap((m) => m ?? []), ...(cls.childForFieldName("body")?.namedChildren ?? [])]) {
      const def = definitionOf(stmt);
      const method = def?.type === "function_definition" ? def.childForFieldName("name")?.text : undefined;
      if (def && method) methods.set(method, def.childForFieldName("body"));
      // `state_forwards(self, app_label, state)`: the name its body calls `reload_model` on.
      if (def && method === "state_forwards") stateParameter = parameterList(def)[2]?.name ?? null;
      // `database_forwards = helper`: a method rollsafe does not read (no body: "other").
      const assigned = stmt.type === "expression_statement" ? stmt.namedChildren[0] : null;
      const left = assigned?.type === "assignment" ? assigned.childForFieldName("left") : null;
      if (left?.type === "identifier") methods.set(left.text, null);
    }
    // Each side: the parent's (a local entry is "same" or "none"), or null when not read.
    const side = (method: string, inherited: OperationEntry["state"] | OperationEntry["database"] | null = "same") => {
      if (!methods.has(method)) return inherited;
      const kind = overrideKind(methods.get(method) ?? null, method, base, method === "state_forwards" ? stateParameter : null);
      return kind === "empty" ? "none" : kind === "base" ? inherited : null;
    };
    const sameAs = builtin?.kind ?? parent?.sameAs ?? null;
    const state = side("state_forwards", abstract ? null : parent?.state);
    const database = side("database_forwards", abstract ? null : parent?.database);
    const what = `a subclass of \`${base}\` defined in ${where}`;
    const unknown = methods.has("__init__") && !abstract
      ? `is ${what} with its own \`__init__\``
      : state === null
        ? `is ${what} whose \`state_forwards\` rollsafe does not read`
        : database === null
          ? `is ${what} whose \`database_forwards\` rollsafe does not read`
          : parent?.refine
            ? `is ${what}, which rollsafe does not read`
            : null;
    const note =
      database === "none" && state === "none"
        ? `is ${what} that changes neither the state nor the database`
        : database === "none"
          ? `is ${what} that changes only Django's state (its \`database_forwards\` does nothing)`
          : state === "none"
            ? `is ${what} that changes only the database (its \`state_forwards\` does nothing)`
            : `is ${what} that behaves like it`;
    // Only `database_forwards` unread (`AddFieldIfNotExists` checking the column first): Django's
    // state still changes as the built-in's, which later operations read.
    const stateKnown = unknown !== null && sameAs !== null && state === "same" && database === null && !methods.has("__init__") && !parent?.refine;
    // A `database_backwards` of its own (kolibri auth 0019's MPTTRemoveField re-adds the column
    // with a default): its reversal is not the built-in's.
    const ownBackwards = (methods.has("database_backwards") && overrideKind(methods.get("database_backwards") ?? null, "database_backwards", base, null) !== "base") || parent?.ownBackwards === true;
    local.set(name, {
      source: where,
      sameAs,
      state: state === "none" ? "none" : "same",
      database: database === "none" ? "none" : "same",
      ...(ownBackwards ? { ownBackwards: true as const } : {}),
      note,
      ...(unknown ? { refine: () => (stateKnown ? { unknown, stateKnown: true as const } : { unknown }) } : {}),
    });
  }
  return local;
}

/**
 * The statements of a mixin class of the module (no base, or `object`), or null for anything else:
 * an unknown class, or one with bases of its own, whose methods could come from anywhere.
 */
function mixinBody(cls: SyntaxNode | undefined): SyntaxNode[] | null {
  if (!cls) return null;
  const bases = (cls.childForFieldName("superclasses")?.namedChildren ?? []).filter((b) => b.type !== "comment");
  if (bases.some((b) => b.text !== "object")) return null;
  return cls.childForFieldName("body")?.namedChildren ?? [];
}

/** Django's base class of every operation, where migrations import it from. */
const OPERATION_BASES = new Set(["django.db.migrations.Operation", "django.db.migrations.operations.Operation", "django.db.migrations.operations.base.Operation"]);

/** One parameter of a `def`. */
interface Parameter {
  name: string;
  kind: "positional" | "keyword" | "rest" | "keywords";
  /** The default's node. */
  fallback: SyntaxNode | null;
}

/** The parameters of a `def`, in order. */
function parameterList(def: SyntaxNode): Parameter[] {
  const list: Parameter[] = [];
  let keywordOnly = false;
  for (const p of def.childForFieldName("parameters")?.namedChildren ?? []) {
    const inner = p.type === "typed_parameter" ? p.namedChildren.find((c) => c.type !== "comment" && c !== p.childForFieldName("type")) ?? p : p;
    switch (inner.type) {
      case "identifier":
        list.push({ name: inner.text, kind: keywordOnly ? "keyword" : "positional", fallback: null });
        break;
      case "default_parameter":
      case "typed_default_parameter":
        list.push({ name: inner.childForFieldName("name")?.text ?? "", kind: keywordOnly ? "keyword" : "positional", fallback: inner.childForFieldName("value") });
        break;
      case "list_splat_pattern":
        keywordOnly = true;
        list.push({ name: inner.namedChildren[0]?.text ?? "", kind: "rest", fallback: null });
        break;
      case "dictionary_splat_pattern":
        list.push({ name: inner.namedChildren[0]?.text ?? "", kind: "keywords", fallback: null });
        break;
      case "keyword_separator":
        keywordOnly = true;
        break;
      default:
        break;
    }
  }
  return list;
}

/** The clauses of a `try` statement besides its body. */
const CLAUSES = new Set(["except_clause", "else_clause", "finally_clause"]);

/**
 * What an override of `method` does: nothing (`empty`: docstrings, `pass`, a bare `return`), only
 * the base's method (`base`: `super().method(...)` or `Base.method(self, ...)`, maybe inside
 * `try`/`except`), or anything else (`other`).
 */
function overrideKind(body: SyntaxNode | null, method: string, base: string, stateParameter: string | null = null): "empty" | "base" | "other" {
  let callsBase = false;
  // `state.reload_model(...)` re-renders a model Django already has: the state stays the same.
  const reloads = (node: SyntaxNode | undefined): boolean => {
    const fn = node?.type === "call" ? node.childForFieldName("function") : null;
    const object = fn?.type === "attribute" ? fn.childForFieldName("object") : null;
    const attribute = fn?.childForFieldName("attribute")?.text;
    return stateParameter !== null && object?.type === "identifier" && object.text === stateParameter && (attribute === "reload_model" || attribute === "reload_models");
  };
  const isBaseCall = (node: SyntaxNode | undefined): boolean => {
    if (node?.type !== "call") return false;
    const fn = node.childForFieldName("function");
    if (fn?.type !== "attribute" || fn.childForFieldName("attribute")?.text !== method) return false;
    const object = fn.childForFieldName("object");
    if (!object) return false;
    if (object.type === "call") return object.childForFieldName("function")?.text === "super";
    return dottedName(object) === base;
  };
  const quiet = (stmt: SyntaxNode): boolean => {
    switch (stmt.type) {
      case "comment":
      case "pass_statement":
        return true;
      case "expression_statement":
      case "return_statement": {
        const value = stmt.namedChildren.find((c) => c.type !== "comment");
        if (!value || value.type === "string" || (stmt.type === "return_statement" && value.type === "none")) return true;
        // `db_alias = schema_editor.connection.alias`: a name bound to an attribute, no call.
        if (value.type === "assignment" && value.childForFieldName("left")?.type === "identifier" && value.childForFieldName("right")?.type === "attribute") return true;
        if (isBaseCall(value)) return (callsBase = true);
        return stmt.type === "expression_statement" && reloads(value);
      }
      case "try_statement":
        return stmt.namedChildren.every((c) => (c.type === "block" ? c.namedChildren.every(quiet) : CLAUSES.has(c.type) && quiet(c)));
      case "if_statement": {
        // The router's gate, which Django's own operations apply (`if router.allow_migrate(...)`,
        // `self.allow_migrate_model(...)`, commcare-hq's `allow_migrate(db_alias, app_label)`):
        // where it lets the operation run, the operation runs as the built-in.
        const condition = stmt.childForFieldName("condition");
        const gate = condition?.type === "call" && /(^|\.)allow_migrate(_model)?$/.test(condition.childForFieldName("function")?.text ?? "");
        return gate && stmt.childrenForFieldName("alternative").length === 0 && (stmt.childForFieldName("consequence")?.namedChildren ?? []).every(quiet);
      }
      case "except_clause":
      case "else_clause":
      case "finally_clause":
        // The exception caught (`except DatabaseError:`) names no call; the block must be quiet.
        return stmt.namedChildren.every((c) => c.type !== "block" || c.namedChildren.every(quiet));
      default:
        return false;
    }
  };
  if (!body || !body.namedChildren.every(quiet)) return "other";
  return callsBase ? "base" : "empty";
}

/** Reads a nested operation list argument (by keyword or position) as operations. */
function nestedOperations(ctx: Ctx, call: SyntaxNode, op: Operation, keyword: string, position: number, depth: number): Operation[] {
  const argsNode = call.childForFieldName("arguments");
  if (!argsNode) return [];
  let target: SyntaxNode | null = null;
  let positional = 0;
  for (const arg of argsNode.namedChildren) {
    if (arg.type === "comment") continue;
    if (arg.type === "keyword_argument") {
      if (arg.childForFieldName("name")?.text === keyword) target = arg.childForFieldName("value");
    } else if (arg.type !== "list_splat" && arg.type !== "dictionary_splat") {
      if (positional === position) target = arg;
      positional++;
    }
  }
  if (!target || target.type === "none") return [];
  const lists = operationLists(ctx, target);
  if (typeof lists !== "string") return readOperationLists(ctx, lists, depth + 1);
  op.unknown = {
    reason: `\`${keyword}\` ${lists}`,
    text: truncate(target.text, MAX_OPAQUE_TEXT),
  };
  return [];
}

/** How deep helper functions may call each other before the operation they return is not read. */
const MAX_FACTORY_DEPTH = 8;

/**
 * Reads a function a helper module imports (`qualified` as the import names it, `._common.fill`)
 * where its module is a file of the project, with the functions it calls there, sharing `seen`:
 * its key (which the caller's calls are mapped to) and its facts (none when `seen` has them
 * already). Null when the module is not the project's or has no such function.
 */
export type ReadImported = (qualified: string, site: SourceRange, seen: Set<string>) => { key: string; facts: FunctionFacts[] } | null;

/**
 * The qualified name a call's text has through the module's imports (`fill` after `from ._data
 * import fill`: `._data.fill`; `_data.fill` after `from . import _data`), when it may name a
 * function of another module of the project; null for a name the module does not import, a call
 * on a call's result (`Book.objects.filter().update`) and Django's own.
 */
export function importedFunctionName(imports: Readonly<Record<string, string>>, call: string): string | null {
  if (call.includes("(")) return null;
  const dot = call.indexOf(".");
  const target = imports[dot < 0 ? call : call.slice(0, dot)];
  const qualified = target && (dot < 0 ? target : `${target}${call.slice(dot)}`);
  return qualified?.includes(".") && !qualified.startsWith("django.") ? qualified : null;
}

/** The names a function's calls resolve through: its own imports over its module's. */
export function functionImports(moduleImports: Readonly<Record<string, string>>, facts: Pick<FunctionFacts, "imports">): Readonly<Record<string, string>> {
  return facts.imports ? { ...moduleImports, ...facts.imports } : moduleImports;
}

/** Whether a call's first name is one the function imports itself (which hides a function of its module named so). */
export function importedByFunction(facts: Pick<FunctionFacts, "imports">, call: string): boolean {
  return facts.imports !== undefined && Object.hasOwn(facts.imports, call.split(".")[0] ?? "");
}

/** Bases that make a class something other than a Django model: enums, choices, typed records, plain objects, exceptions. */
const NON_MODEL_BASES = /(^|\.)(object|Enum|IntEnum|StrEnum|Flag|IntFlag|TextChoices|IntegerChoices|Choices|NamedTuple|TypedDict|Protocol|ABC|Exception|ValueError|str|int|dict|list)$/;

/**
 * What a model field class of the project stores, read in its module (`HelperModule.fieldClass`):
 * the Django field class whose column it has (`type`: the class it reaches along its bases, or
 * what its `get_internal_type` returns, as Django's backends look the column type up by it); a
 * base imported from another module, to be read there (`imported`, with the `get_internal_type`
 * read so far); or why it cannot be known (`unknown`), and whether that is because the class
 * decides its column itself (`decides`: `db_type`, a computed `get_internal_type`...) rather than
 * because a base cannot be read.
 */
export type FieldClassBase = { type: string; forced: ForcedKeywords } | ({ imported: string } & FieldClassCarried) | { unknown: string; decides: boolean; dbType?: string };

/** The keyword arguments a field class's `__init__` may force that decide the column (see `ForcedKeywords`). */
const FORCED_KEYWORDS: readonly string[] = ["max_length", "max_digits", "decimal_places", "unique", "null", "db_index", "primary_key", "default"] satisfies ForcedKeyword[];

/** What a field class's subclasses say, carried to its bases in another module: `get_internal_type`'s class, the first class that defines `deconstruct` or sets a size in `__init__`, and the keywords forced on the way. */
export interface FieldClassCarried {
  internal: string | null;
  deconstructs: string | null;
  forced: ForcedKeywords;
}

/** An `__init__` that makes the field nullable whatever the call says: `kwargs["null"] = True` (also chained). */
const NULL_FORCED = /\bkwargs\[\s*(['"])null\1\s*\](\s*=\s*kwargs\[\s*(['"])\w+\3\s*\])*\s*=\s*True\b/;

/** Bases of a field class that decide nothing about its column (`object`, typing's `Generic[...]`). */
const NON_FIELD_BASES = /^(object|Generic|typing\.Generic|abc\.ABC|ABC)$/;

/** Methods with which a field class decides its own column type or CHECK. */
const COLUMN_METHODS = ["db_type", "rel_db_type", "db_parameters", "cast_db_type", "db_check", "db_type_suffix"];

/**
 * Django field classes whose column depends on arguments (`max_length`, `max_digits`,
 * `base_field`) that a subclass's own `deconstruct` may leave out of the migration, or its
 * `__init__` set (`SIZE_ARGUMENT`): the migration's call does not say what the column is then.
 */
const SIZED_FIELDS = /^(Char|Slug|Email|URL|File|Image|FilePath|Decimal|Array|CommaSeparatedInteger|CIChar|CIEmail)Field$/;

/** The arguments that size a column of `SIZED_FIELDS`, as an `__init__` may set them. */
const SIZE_ARGUMENT = /\b(max_length|max_digits|decimal_places|base_field|size)\b/;

/**
 * Whether an expression a default function returns is the same on every call: a literal, a setting
 * (`settings.DEFAULT_EDIT_STATUS`), a constant by its upper-case name (`Layer.OWNER`, `MAX_SIZE`),
 * and `or`/`and`/`if ... else` of those (umap's `get_default_edit_status`:
 * `return settings.DEFAULT_EDIT_STATUS or DataLayer.OWNER`). No call: a call may differ each time.
 */
function sameOnEveryCall(node: SyntaxNode): boolean {
  if (isLiteralTree(node)) return true;
  switch (node.type) {
    case "parenthesized_expression":
      return node.namedChildren.length === 1 && sameOnEveryCall(node.namedChildren[0] as SyntaxNode);
    case "boolean_operator":
    case "conditional_expression":
    case "not_operator":
    case "comparison_operator":
      return node.namedChildren.every(sameOnEveryCall);
    case "identifier":
      return /^[A-Z][A-Z0-9_]*$/.test(node.text);
    case "attribute": {
      const parts = node.text.split(".");
      if (!/^[A-Za-z_][\w.]*$/.test(node.text) || parts.length < 2) return false;
      return parts[0] === "settings" || /^[A-Z][A-Z0-9_]*$/.test(parts[parts.length - 1] as string);
    }
    default:
      return false;
  }
}

/** Django's abstract model field class, `django.db.models.Field` (`django.db.models.fields.Field`). */
const DJANGO_BASE_FIELD = /^django\.db\.models\.(fields\.)?Field$/;

/**
 * A model field class of Django's own that makes a column (`django.db.models.CharField`,
 * `django.contrib.postgres.fields.ArrayField` ...); not the abstract `RelatedField` and
 * `RangeField`, which a class without a column of its own (taggit's `TaggableManager`) subclasses.
 */
const DJANGO_FIELD_CLASS = /^django\.[\w.]*\.(?!(?:Related|Range)Field$)(?:[A-Z]\w*Field|ForeignKey)$/;

/** A literal a field keyword can be forced to (`150`, `True`, `None`), or undefined. */
function forcedLiteral(node: SyntaxNode | null | undefined): number | boolean | null | undefined {
  if (node?.type === "integer") return /^\d+$/.test(node.text) ? Number(node.text) : undefined;
  if (node?.type === "true") return true;
  if (node?.type === "false") return false;
  if (node?.type === "none") return null;
  return undefined;
}

/**
 * What a field class's `__init__` sets whatever the call says: `forced`, the keywords it sets to a
 * literal in a statement of its own body (`kwargs["max_length"] = 2000`, `kwargs.update(null=True)`,
 * a literal passed to the base's `__init__`: `super().__init__(max_length=150, unique=True)`);
 * `opaqueSize`, whether it sets a size argument to something else or only under a condition
 * (InvenTree's URL field), so the migration's call does not say what the column is. A size that
 * is only a parameter's default (`def __init__(self, *args, max_length=255, **kwargs)`, BookWyrm's
 * RemoteIdField) is the call's when the call gives one, and the migration's call always does.
 */
function initForcedKeywords(init: SyntaxNode, ctx: Ctx | null): { forced: ForcedKeywords; opaqueSize: boolean } {
  const forced: ForcedKeywords = {};
  let opaqueSize = false;
  const body = init.childForFieldName("body");
  if (!body) return { forced, opaqueSize };
  // A module constant bound to a literal (hyperkitty's `kwargs['max_length'] = MAX_COLOR_LENGTH`),
  // unless `__init__` binds the name itself (a parameter, a local).
  const local = new Set([...(init.childForFieldName("parameters")?.descendantsOfType("identifier") ?? []), ...body.descendantsOfType(["assignment", "for_statement"]).flatMap((a) => a.childForFieldName("left")?.descendantsOfType("identifier") ?? [])].map((n) => n.text));
  const valueOf = (node: SyntaxNode | null | undefined): number | boolean | null | undefined => {
    if (node?.type !== "identifier" || !ctx || local.has(node.text)) return forcedLiteral(node);
    const bound = withConstant(ctx, node.text, (n) => forcedLiteral(n));
    return bound === null ? undefined : bound;
  };
  const topLevel = new Set(body.namedChildren.map((stmt) => (stmt.type === "expression_statement" ? stmt.namedChildren[0] : stmt)));
  // The `**kwargs` parameter: what is set in it reaches the base's `__init__`; another dict may be defaults.
  const splat = init.childForFieldName("parameters")?.namedChildren.find((p) => p.type === "dictionary_splat_pattern")?.namedChildren[0]?.text;
  const set = (key: string, value: SyntaxNode | null | undefined, statement: SyntaxNode, target: string | undefined) => {
    const literal = valueOf(value);
    if (FORCED_KEYWORDS.includes(key) && literal !== undefined && topLevel.has(statement) && target === splat) forced[key as ForcedKeyword] = literal;
    else if (SIZE_ARGUMENT.test(key)) opaqueSize = true;
  };
  for (const node of body.descendantsOfType(["assignment", "augmented_assignment", "call"])) {
    if (node.type !== "call") {
      // `kwargs["null"] = kwargs["blank"] = True`: each target of the chain gets the last value.
      if (node.parent?.type === "assignment" && node.parent.childForFieldName("right") === node) continue;
      let value: SyntaxNode | null = node;
      const targets: SyntaxNode[] = [];
      while (value?.type === "assignment" || value?.type === "augmented_assignment") {
        const left = value.childForFieldName("left");
        if (left) targets.push(left);
        value = value.type === "assignment" ? value.childForFieldName("right") : null;
      }
      for (const left of targets) {
        if (left.type !== "subscript") continue;
        const key = left.childForFieldName("subscript");
        const name = key?.type === "string" ? /^(['"])(\w+)\1$/.exec(key.text)?.[2] : undefined;
        if (name !== undefined) set(name, value, node, left.childForFieldName("value")?.text);
        else if (SIZE_ARGUMENT.test(key?.text ?? "")) opaqueSize = true;
      }
      continue;
    }
    const callee = node.childForFieldName("function")?.text ?? "";
    if (!/\bupdate$/.test(callee) && !/__init__$/.test(callee)) continue;
    for (const arg of node.childForFieldName("arguments")?.namedChildren ?? []) {
      if (arg.type !== "keyword_argument") continue;
      const value = arg.childForFieldName("value");
      // A parameter passed on (`max_length=max_length`) is the call's value.
      if (/__init__$/.test(callee) && value?.type === "identifier") continue;
      const target = /__init__$/.test(callee) ? splat : callee.replace(/\.update$/, "");
      set(arg.childForFieldName("name")?.text ?? "", value, node, target);
    }
  }
  return { forced, opaqueSize };
}

/** Whether forced keywords give the size of a column of the sized field class `type`. */
function forcedSize(forced: ForcedKeywords, type: string): boolean {
  if (type === "DecimalField") return typeof forced.max_digits === "number" && typeof forced.decimal_places === "number";
  return type !== "ArrayField" && typeof forced.max_length === "number";
}

/**
 * Whether a field class's own `deconstruct` leaves its size arguments in the migrations it writes:
 * its body only takes `super().deconstruct()`, drops other keywords (`del kwargs["null"]`,
 * `kwargs.pop("blank", None)`: django-oscar's NullCharField) and returns what it took.
 */
function deconstructKeepsSize(def: SyntaxNode): boolean {
  const statements = (def.childForFieldName("body")?.namedChildren ?? []).filter((s) => s.type !== "comment");
  const body = statements[0]?.type === "expression_statement" && statements[0].namedChildren[0]?.type === "string" ? statements.slice(1) : statements;
  const otherKey = (node: SyntaxNode | null | undefined) => node?.type === "string" && !SIZE_ARGUMENT.test(node.text);
  return body.every((stmt) => {
    const text = stmt.text.replace(/\s+/g, " ");
    if (stmt.type === "return_statement") return /^return \(?name, path, args, kwargs\)?$/.test(text);
    if (stmt.type === "delete_statement") {
      const targets = stmt.namedChildren.flatMap((n) => (n.type === "expression_list" ? n.namedChildren : [n]));
      return targets.every((t) => t.type === "subscript" && t.childForFieldName("value")?.text === "kwargs" && otherKey(t.childForFieldName("subscript")));
    }
    if (stmt.type !== "expression_statement") return false;
    if (/^\(?name, path, args, kwargs\)? = super\(\w*(, ?\w+)?\)\.deconstruct\(\)$/.test(text)) return true;
    const call = stmt.namedChildren[0];
    return call?.type === "call" && call.childForFieldName("function")?.text === "kwargs.pop" && otherKey(call.childForFieldName("arguments")?.namedChildren[0]);
  });
}

/** Node types of a literal made only of literals (`{"a": [1, 2], "b": None}`). */
const LITERAL_LEAVES = new Set(["string", "integer", "float", "true", "false", "none", "concatenated_string"]);
const LITERAL_CONTAINERS = new Set(["dictionary", "list", "tuple", "set", "pair", "parenthesized_expression"]);

/** Whether `node` is a literal value built only of literals (an f-string or a name is not). */
function isLiteralTree(node: SyntaxNode): boolean {
  if (LITERAL_LEAVES.has(node.type)) return !node.descendantsOfType("interpolation").length;
  if (node.type === "unary_operator") return node.namedChildren.every(isLiteralTree);
  if (!LITERAL_CONTAINERS.has(node.type)) return false;
  return node.namedChildren.filter((c) => c.type !== "comment").every(isLiteralTree);
}

/** The string a function returns when its body is one `return "..."` (after a docstring), whatever it says, or null. */
function returnedLiteral(def: SyntaxNode): string | null {
  const statements = (def.childForFieldName("body")?.namedChildren ?? []).filter((s) => s.type !== "comment");
  const first = statements[0]?.type === "expression_statement" && statements[0].namedChildren[0]?.type === "string" && statements.length > 1 ? statements[1] : statements[0];
  const value = statements.length <= 2 && first?.type === "return_statement" ? first.namedChildren[0] : undefined;
  return value?.type === "string" && !value.descendantsOfType("interpolation").length ? (/^(['"])([^'"\\]*)\1$/.exec(value.text)?.[2] ?? null) : null;
}

/** The string a function returns when its body is one `return "..."` (after a docstring), or null. */
function returnedString(def: SyntaxNode): string | null {
  const statements = (def.childForFieldName("body")?.namedChildren ?? []).filter((s) => s.type !== "comment");
  const first = statements[0]?.type === "expression_statement" && statements[0].namedChildren[0]?.type === "string" && statements.length > 1 ? statements[1] : statements[0];
  const value = first?.type === "return_statement" ? first.namedChildren[0] : undefined;
  if (value?.type !== "string") return null;
  return /^(['"])([\w.]+)\1$/.exec(value.text)?.[2] ?? null;
}

/**
 * A module that migrations import operations from besides Django's: a helper module of the
 * project (debusine's `db/migrations/_utils.py` with its `make_*_renamer` functions and its
 * `ReloadModel` operation), or a module that defines what migrations use (a base `Migration`
 * class, a model field class, the models a `RunPython` imports). It is read, never run, for:
 *
 * - its operation classes, as a migration's own are read (`localOperations`), and subclasses of
 *   Django's `Operation` whose `state_forwards` and `database_forwards` do nothing (or only
 *   reload a model's state);
 * - its functions that build an operation: a body of docstrings, nested `def`s and plain
 *   assignments that ends with `return <operation>(...)` (or the call of another such function
 *   of the module). The call's arguments are bound to the parameters, so the operation is read
 *   with the values the migration passes; what the function computes otherwise is opaque;
 * - the functions a `RunPython` runs (`functionFacts`), what a name it defines is (`classKind`),
 *   the `atomic` a migration class sets (`classAtomic`) and the column a field class makes
 *   (`fieldClass`).
 */
export class HelperModule {
  /** The module's model imports at its top level. */
  private readonly modelImports: ParsedMigration["modelImports"] = [];
  /** Its functions, decorated ones too, by name (a name defined twice: the last). */
  private readonly defs = new Map<string, SyntaxNode>();
  /** Its classes, by name (a name defined twice: the last). */
  private readonly classDefs = new Map<string, SyntaxNode>();
  /** The decorators of its decorated classes (`dataclass`, `dataclasses.dataclass` ...), by class name. */
  private readonly classDecorators = new Map<string, string[]>();
  /** Other names its top level binds: functions, and assignments (`DEFAULT = ...`). */
  private readonly otherNames = new Set<string>();

  private constructor(
    private readonly ctx: Ctx | null,
    /** Why its operations cannot be read (it is not valid Python), or null. */
    readonly problem: string | null,
  ) {
    if (!ctx) return;
    const classes: SyntaxNode[] = [];
    readModuleLevel(ctx, this.modelImports, (child) => {
      const def = definitionOf(child);
      if (def?.type === "class_definition") {
        classes.push(def);
        const name = def.childForFieldName("name")?.text ?? "";
        this.classDefs.set(name, def);
        if (child.type === "decorated_definition") {
          this.classDecorators.set(
            name,
            child.namedChildren.filter((c) => c.type === "decorator").map((d) => d.text.replace(/^@\s*/, "").replace(/\(.*$/s, "")),
          );
        }
      }
      if (def?.type === "function_definition") {
        this.defs.set(def.childForFieldName("name")?.text ?? "", def);
        this.otherNames.add(def.childForFieldName("name")?.text ?? "");
      }
      const assignment = child.type === "expression_statement" ? child.namedChildren[0] : undefined;
      const target = assignment?.type === "assignment" ? assignment.childForFieldName("left") : null;
      if (target?.type === "identifier") this.otherNames.add(target.text);
    });
    ctx.local = localOperations(ctx, classes, "a helper module");
  }

  /**
   * Whether `name` is a Django model class of this module as far as it can tell: "other" for a
   * dataclass, an enum or choices class, a class with no base, a function or a constant; "model"
   * for a class with any other base (`models.Model`, a base imported from elsewhere); undefined
   * when the module does not define the name (an import it re-exports).
   */
  classKind(name: string, seen = new Set<string>()): "model" | "other" | undefined {
    const cls = this.classDefs.get(name);
    if (!cls) return this.otherNames.has(name) ? "other" : undefined;
    if (seen.has(name)) return "model";
    seen.add(name);
    if ((this.classDecorators.get(name) ?? []).some((d) => /(^|\.)(dataclass|define|frozen|attrs|s)$/.test(d))) return "other";
    const bases = (cls.childForFieldName("superclasses")?.namedChildren ?? []).filter((b) => b.type !== "comment" && b.type !== "keyword_argument").map((b) => b.text);
    if (bases.length === 0) return "other";
    const kinds = bases.map((base) => (NON_MODEL_BASES.test(base) ? "other" : this.classDefs.has(base) ? this.classKind(base, seen) : "model"));
    return kinds.includes("model") ? "model" : "other";
  }

  /**
   * The `atomic` a migration class of this module sets (`CheckedMigration`'s `atomic = False`), or
   * one of its bases in the module sets; undefined when none does or there is no such class.
   */
  classAtomic(name: string): boolean | undefined {
    const cls = this.classDefs.get(name);
    return cls ? atomicAlongBases(cls, (base) => this.classDefs.get(base)).atomic : undefined;
  }

  /**
   * The SQL the module's top-level constant `name` holds (a string, or a list or tuple of them, as
   * `RunSQL` takes it: GlitchTip imports its triggers' SQL so), or null for anything else.
   */
  sqlConstant(name: string): PyValue | null {
    const ctx = this.ctx;
    if (!ctx || this.defs.has(name) || this.classDefs.has(name)) return null;
    const value = withConstant(ctx, name, (bound) => toValue(ctx, bound, 1));
    const isSql = (v: PyValue): boolean => v.kind === "str" || ((v.kind === "list" || v.kind === "tuple") && v.items.every(isSql));
    return value && isSql(value) ? value : null;
  }

  /**
   * Whether the module's function `name` returns one literal value and nothing else (`def
   * active_users_default(): return {"managers": 0, ...}`, a JSONField's usual default): calling it
   * once or per row gives equal values; true too for a name the module binds once to such a value
   * (a constant, no function). Undefined when the module has neither.
   */
  returnsConstant(name: string): boolean | undefined {
    const def = this.defs.get(name);
    // A name bound to a value, not a function (`default_color = "red"`): Django uses the value itself.
    if (!def) return this.ctx ? (withConstant(this.ctx, name, (bound) => sameOnEveryCall(bound)) ?? undefined) : undefined;
    const statements = (def.childForFieldName("body")?.namedChildren ?? []).filter((s) => s.type !== "comment");
    const body = statements[0]?.type === "expression_statement" && statements[0].namedChildren[0]?.type === "string" ? statements.slice(1) : statements;
    const value = body.length === 1 && body[0]?.type === "return_statement" ? body[0].namedChildren[0] : undefined;
    return value !== undefined && sameOnEveryCall(value);
  }

  /**
   * What the model field class `name` of this module stores in the database, read along its bases
   * (see `FieldClassBase`); undefined when the module neither defines nor imports the name, or
   * the class is not a field (no base leads to one).
   */
  fieldClass(name: string, carried: FieldClassCarried = { internal: null, deconstructs: null, forced: {} }): FieldClassBase | undefined {
    const ctx = this.ctx;
    if (!ctx) return undefined;
    // Read along Python's method resolution order, as far as it matters here (left to right, depth
    // first): a mixin before the field class decides the column as much as the class itself
    // (PostHog's `EncryptedFieldMixin.get_internal_type` makes `EncryptedCharField` a text column).
    // `internal`: the first `get_internal_type` met; `deconstructs`: the first class with its own `deconstruct`.
    let { internal, deconstructs, forced } = carried;
    const follow = (cls: SyntaxNode, seen: Set<SyntaxNode>): FieldClassBase | undefined => {
      if (seen.has(cls)) return undefined;
      seen.add(cls);
      const className = cls.childForFieldName("name")?.text ?? "";
      const methods = new Map<string, SyntaxNode>();
      for (const stmt of cls.childForFieldName("body")?.namedChildren ?? []) {
        const def = definitionOf(stmt);
        if (def?.type === "function_definition") methods.set(def.childForFieldName("name")?.text ?? "", def);
      }
      const override = COLUMN_METHODS.find((m) => methods.has(m));
      if (override) {
        // `db_type` returning one literal for every connection (Kolibri's DateTimeTzField: "varchar") names the column type.
        const literal = override === "db_type" && COLUMN_METHODS.filter((m) => methods.has(m)).length === 1 ? returnedLiteral(methods.get("db_type") as SyntaxNode) : null;
        return { unknown: `\`${className}\` defines \`${override}\``, decides: true, ...(literal !== null ? { dbType: literal } : {}) };
      }
      const deconstruct = methods.get("deconstruct");
      if (deconstruct && !deconstructKeepsSize(deconstruct)) deconstructs ??= className;
      // An `__init__` that sets a size (InvenTree's `kwargs["max_length"] = 2000`) decides the
      // column whatever the migration's call says: migrations run the class's current code.
      // A base's `__init__` runs after its subclass's, so what it forces wins.
      const init = methods.get("__init__");
      if (init) {
        const own = initForcedKeywords(init, ctx);
        if (own.opaqueSize) deconstructs ??= className;
        forced = { ...forced, ...own.forced };
        if (NULL_FORCED.test(init.text)) forced.null = true;
      }
      const getInternalType = internal === null ? methods.get("get_internal_type") : undefined;
      if (getInternalType) {
        internal = returnedString(getInternalType);
        if (internal === null || !/^[A-Z]\w*$/.test(internal)) return { unknown: `\`${className}\`'s \`get_internal_type\` does not return a literal class name`, decides: true };
      }
      for (const base of cls.childForFieldName("superclasses")?.namedChildren ?? []) {
        if (base.type === "comment" || base.type === "keyword_argument") continue;
        // `models.BigIntegerField[int, int]` (a generic alias, as Sentry's stubs write it) is the class.
        const dotted = dottedName(base.type === "subscript" ? (base.childForFieldName("value") ?? base) : base);
        if (dotted === null) return { unknown: `a base of \`${className}\` is not a class name`, decides: false };
        const local = dotted.includes(".") ? undefined : this.classDefs.get(dotted);
        if (local) {
          // A mixin that leads to no field still counts for what it defines.
          const found = follow(local, seen);
          if (found) return found;
          continue;
        }
        const qualified = qualify(ctx, dotted);
        // Django's abstract `Field`: the column is the class `get_internal_type` names (wagtail's
        // StreamField is a JSONField); without one, the class's own name, which Django looks up too.
        if (DJANGO_BASE_FIELD.test(qualified)) return internal !== null ? { type: internal, forced } : { unknown: `\`${className}\` subclasses \`Field\` without a literal \`get_internal_type\``, decides: false };
        if (DJANGO_FIELD_CLASS.test(qualified)) {
          const type = internal ?? qualified.slice(qualified.lastIndexOf(".") + 1);
          return deconstructs !== null && SIZED_FIELDS.test(type) && !forcedSize(forced, type) ? { unknown: `\`${deconstructs}\` may size the column itself`, decides: true } : { type, forced };
        }
        if (NON_FIELD_BASES.test(qualified)) continue;
        // A base from another module: read there. One that is not a field (a mixin) is not followed further.
        return qualified.includes(".") ? { imported: qualified, internal, deconstructs, forced } : { unknown: `\`${className}\`'s base \`${dotted}\` is not read`, decides: false };
      }
      return undefined;
    };
    const cls = this.classDefs.get(name);
    if (cls) return follow(cls, new Set());
    const imported = ctx.imports[name];
    return imported !== undefined && imported.includes(".") ? { imported, internal, deconstructs, forced } : undefined;
  }

  /**
   * The facts of the module's function `name` and of the module's functions it calls (as
   * `functionsRunBy` follows them), for a `RunPython` of a migration that imports it under
   * `alias`, at `site` (where the migration names it); `file` names the module. Null when the
   * module defines no such function.
   */
  functionFacts(name: string, alias: string, site: SourceRange, file: string, imported?: ReadImported, seen = new Set<string>()): FunctionFacts[] | null {
    const ctx = this.ctx;
    if (!ctx) return null;
    // The module's functions, and those defined inside them (by their qualified names, `nestedFunction`).
    const own = (fn: string) => this.defs.has(fn) || ctx.nested.has(fn);
    if (!own(name)) return null;
    // Keys no name of the migration can take: the module's functions among themselves.
    const keyOf = (fn: string) => (fn === name ? alias : `${file}:${fn}`);
    const moduleModelImports = this.modelImports.map(({ name: imported, module }) => ({ name: imported, module }));
    const out: FunctionFacts[] = [];
    const visit = (fn: string) => {
      const inner = ctx.nested.get(fn);
      const def = inner?.def ?? this.defs.get(fn);
      // Shared with the modules this one imports from: by file, so that modules importing each other end.
      if (!def || seen.has(`${file}:${fn}`)) return;
      seen.add(`${file}:${fn}`);
      const facts = inner?.facts ?? readFunction(ctx, def);
      const getModels = getModelCalls(def.text);
      // Functions the module imports from another module of the project (at its top or in the function's body), read there.
      const imports = functionImports(ctx.imports, facts);
      const ownCall = (c: string) => own(c) && !importedByFunction(facts, c);
      const elsewhere = new Map<string, { key: string; facts: FunctionFacts[] }>();
      for (const c of facts.calls) {
        const target = !imported || ownCall(c) || elsewhere.has(c) ? null : importedFunctionName(imports, c);
        const found = target === null ? null : imported?.(target, site, seen);
        if (found) elsewhere.set(c, found);
      }
      // Calls of the module's own functions and of those it imports are found by their keys; any other call keeps its text.
      const calls = facts.calls.map((c) => (ownCall(c) ? keyOf(c) : (elsewhere.get(c)?.key ?? c)));
      out.push({ ...facts, range: site, calls, imported: { key: keyOf(fn), file, moduleModelImports, getModels } });
      for (const { facts: found } of elsewhere.values()) out.push(...found);
      for (const c of facts.calls) if (ownCall(c)) visit(c);
    };
    visit(name);
    return out;
  }

  /** Reads a helper module's source; one that is not valid Python gives no operation. */
  static read(source: string, options: { operations?: OperationCatalog } = {}): HelperModule {
    const { text, deep, ctx } = readModule(source, "module", false, options.operations);
    if (deep || ctx.root.hasError || python3Violations(ctx.root, text).length > 0) return new HelperModule(null, "it is not valid Python");
    return new HelperModule(ctx, null);
  }

  /**
   * The operation a call of this module's `name` makes, read in place of `call` (an operation
   * rollsafe could not read: `name(...)` with the arguments the migration passes), or why not.
   * Every range of what the module contributes is the call's; `builtBy` names the function or
   * class in messages.
   */
  operation(name: string, call: Operation, builtBy: string): Operation | string {
    const ctx = this.ctx;
    if (!ctx) return this.problem ?? "it cannot be read";
    if (call.unpacked) return "its arguments are unpacked with `*` or `**`";
    const { positional, keywords } = callArguments(call);
    const cls = ctx.local?.get(name);
    if (cls) {
      // The module's operation class: like one the migration defines, with the call's arguments.
      const sameAs = cls.sameAs;
      // A `RunSQL` without `state_operations` (its third parameter) has none to read: only its SQL
      // (commcare-hq's `HqRunSQL`).
      const nested = sameAs === "SeparateDatabaseAndState" || (sameAs === "RunSQL" && ("state_operations" in keywords || positional.length > 2));
      if (nested) return `it subclasses \`${sameAs}\`, whose nested operations rollsafe reads only where the migration defines the class`;
      const value: Extract<PyValue, { kind: "call" }> = { kind: "call", callee: call.callee, qualified: call.callee, args: positional, kwargs: keywords, hasSplat: false, range: call.range };
      const resolved = resolveThirdParty(call.callee, cls, mapArguments(value, cls.params ?? builtinParams(sameAs ?? "")));
      if (!resolved.ok && resolved.stateKnown && sameAs && call.unknown) {
        // Still unknown to the rules (the reason is why, which the caller places), but the state
        // changes as `sameAs`'s (`Operation.behavesAs`).
        return { ...call, unknown: { ...call.unknown, reason: `\`${name}\` ${resolved.reason}` }, args: mapArguments(value, builtinParams(sameAs)), behavesAs: sameAs, builtBy };
      }
      if (!resolved.ok) return `\`${name}\` ${resolved.reason}`;
      const { unknown: _, ...known } = call;
      return { ...known, kind: sameAs ?? name, origin: "third-party", args: mapArguments(value, resolved.params), thirdParty: resolved.info, builtBy };
    }
    return operationFromFactory(ctx, name, call, builtBy, true);
  }

  /** The operations a call of this module's `name` returns in a list, read in place of `call` (`*name(...)`), or why not. */
  operations(name: string, call: Operation, builtBy: string): Operation[] | string {
    const ctx = this.ctx;
    if (!ctx) return this.problem ?? "it cannot be read";
    if (call.unpacked) return "its arguments are unpacked with `*` or `**`";
    return operationsFromFactory(ctx, name, call, call.index, builtBy, true);
  }
}

/** The positional and keyword arguments of an operation rollsafe could not read (`mapArguments` without parameters). */
function callArguments(call: Operation): { positional: PyValue[]; keywords: Record<string, PyValue> } {
  const positional: PyValue[] = [];
  const keywords: Record<string, PyValue> = {};
  for (const [key, value] of Object.entries(call.args)) {
    if (/^\$\d+$/.test(key)) positional[Number(key.slice(1))] = value;
    else keywords[key] = value;
  }
  return { positional, keywords };
}

/**
 * The operation the module's function `name` returns for `call` (a call of it in an operation
 * list, read as an unknown operation), in `call`'s place and with its range, or why not.
 */
function operationFromFactory(ctx: Ctx, name: string, call: Operation, builtBy = `\`${name}\``, foreign = false): Operation | string {
  const made = fromFactory(ctx, name, call, call.index, false, builtBy, foreign);
  return typeof made === "string" ? made : (made[0] ?? `\`${name}\` returns no operation`);
}

/**
 * The operations the module's function `name` returns in a list, for `call` (`*name(...)` in an
 * operation list, read as an unknown operation), numbered from `first`, or why not.
 */
function operationsFromFactory(ctx: Ctx, name: string, call: Operation, first: number, builtBy = `\`${name}\``, foreign = false): Operation[] | string {
  return fromFactory(ctx, name, call, first, true, builtBy, foreign);
}

/** `returnedOperations` for `call` (one operation, or a `list`), each moved to the call's place (`relocate`) and numbered from `first`. */
function fromFactory(ctx: Ctx, name: string, call: Operation, first: number, list: boolean, builtBy: string, foreign: boolean): Operation[] | string {
  const { positional, keywords } = callArguments(call);
  const made = returnedOperations(ctx, name, positional, keywords, call.range, first, list);
  if (typeof made === "string") return made;
  const kept = callerValues(call);
  return made.map((op, i) => {
    const moved = relocate(op, call.range, kept, builtBy, foreign);
    // At the call, an operation the function makes but rollsafe cannot read says where it is made.
    const unknown = moved.unknown ? { unknown: { ...moved.unknown, reason: `${moved.unknown.reason} (in ${builtBy})` } } : {};
    return { ...moved, ...unknown, comments: i === 0 ? call.comments : [], index: first + i };
  });
}

/**
 * A function defined in the body of the module's function `outer`, kept with the module's
 * (`Ctx.nested`, once however often `outer` is called), and the name value it is read as: the
 * local name, qualified as Python's `__qualname__` (`outer.<locals>.name`), by which `RunPython`
 * rules find it (`runPythonFunctionName`).
 */
function nestedFunction(ctx: Ctx, outer: string, definition: SyntaxNode): PyValue | null {
  const nameNode = definition.childForFieldName("name");
  if (!nameNode) return null;
  const qualified = nestedName(outer, nameNode.text);
  // Once per module, however often `outer` is called.
  if (!ctx.nested.has(qualified)) addNestedFunction(ctx, outer, nameNode.text, definition, functionDefinitions(definition.parent));
  return { kind: "name", name: nameNode.text, qualified, range: rangeOf(ctx, nameNode) };
}

/**
 * Keeps a nested function's facts (`Ctx.nested`) with, transitively, those of the functions
 * `outer` also defines that it calls: Python finds a name the function calls among the enclosing
 * function's locals before the module's, so `helper()` in `make_renamer.<locals>.operation` is
 * `make_renamer.<locals>.helper` when `make_renamer` defines one. Such calls are kept under that
 * qualified name, which is how `functionsRunBy` finds a nested function.
 */
function addNestedFunction(ctx: Ctx, outer: string, name: string, definition: SyntaxNode, siblings: ReadonlyMap<string, SyntaxNode>): void {
  const qualified = nestedName(outer, name);
  if (ctx.nested.has(qualified)) return;
  const facts = readFunction(ctx, definition);
  const calls = facts.calls.map((c) => (siblings.has(c) ? nestedName(outer, c) : c));
  ctx.nested.set(qualified, { facts: { ...facts, calls, nestedIn: outer }, def: definition });
  for (const c of facts.calls) {
    const sibling = siblings.get(c);
    if (sibling) addNestedFunction(ctx, outer, c, sibling, siblings);
  }
}

/** The functions a block defines, by name (the last of a name, as Python binds it). */
function functionDefinitions(block: SyntaxNode | null): Map<string, SyntaxNode> {
  const defs = new Map<string, SyntaxNode>();
  for (const child of block?.namedChildren ?? []) {
    const def = definitionOf(child);
    const name = def?.type === "function_definition" ? def.childForFieldName("name")?.text : undefined;
    if (def && name) defs.set(name, def);
  }
  return defs;
}

/** The class or function a statement defines, its decorators left aside (the statement itself otherwise). */
function definitionOf(stmt: SyntaxNode): SyntaxNode | null {
  return stmt.type === "decorated_definition" ? stmt.childForFieldName("definition") : stmt;
}

/** The operation `name(*positional, **keywords)` returns, read in its scope, or why not. */
function returnedOperations(ctx: Ctx, name: string, positional: PyValue[], keywords: Record<string, PyValue>, site: SourceRange, index: number, list: boolean): Operation[] | string {
  const def = ctx.functions?.get(name);
  if (!def) return `the module defines no function or operation class \`${name}\``;
  const depth = ctx.factoryDepth ?? 0;
  if (depth >= MAX_FACTORY_DEPTH) return `its helper functions call each other more than ${MAX_FACTORY_DEPTH} deep`;
  // Defaults are read in the module's scope, where Python evaluates them when the `def` runs.
  const values = bindArguments(ctx.scope ? { ...ctx, scope: undefined } : ctx, name, parameterList(def), positional, keywords, site);
  if (typeof values === "string") return values;
  const scope = { values, nodes: new Map<string, SyntaxNode | null>(), parts: new Map<string, ListPart[]>() };
  // The module's constants, found once for every function read in it.
  ctx.constants ??= moduleConstants(ctx.root);
  const inner: Ctx = { ...ctx, imports: { ...ctx.imports }, reading: new Set(), scope, memo: new Map(), lists: new Map(), factoryDepth: depth + 1 };
  const statements = (def.childForFieldName("body")?.namedChildren ?? []).filter((c) => c.type !== "comment");
  const last = statements.pop();
  if (last?.type !== "return_statement") return `\`${name}\` does not end by returning ${list ? "operations" : "an operation"}`;
  const bind = (local: string, node: SyntaxNode | null) => {
    values.delete(local);
    scope.parts.delete(local);
    scope.nodes.set(local, scope.nodes.has(local) ? null : node);
  };
  for (const stmt of statements) {
    // `ops.append(...)`, `ops.extend(...)`, `ops += ...` and a `for` that only appends grow a list.
    if (growList(inner, stmt)) continue;
    const definition = definitionOf(stmt);
    if (definition?.type === "function_definition" || definition?.type === "class_definition") {
      const local = definition.childForFieldName("name")?.text ?? "";
      // A function the body defines, for a `RunPython` it returns: read as the migration's own.
      const nested = definition.type === "function_definition" && !values.has(local) && !scope.nodes.has(local) ? nestedFunction(inner, name, definition) : null;
      if (nested) values.set(local, nested);
      else bind(local, null);
      continue;
    }
    if (stmt.type === "pass_statement") continue;
    if (stmt.type === "import_statement" || stmt.type === "import_from_statement") {
      readImport(inner, stmt, null);
      continue;
    }
    const expression = stmt.type === "expression_statement" ? stmt.namedChildren[0] : undefined;
    if (expression?.type === "string") continue;
    // `name = value` and `name: T = value`.
    const left = expression?.type === "assignment" ? expression.childForFieldName("left") : null;
    const right = expression?.childForFieldName("right");
    if (left?.type === "identifier" && right) {
      bind(left.text, right);
      continue;
    }
    // Any other statement (`if`, `for`, a call ...): what it may bind or change is not followed.
    const changed = changedNames(stmt);
    if (typeof changed === "string") return `\`${name}\` ${changed}`;
    for (const local of changed) bind(local, null);
  }
  let value = last.namedChildren.find((c) => c.type !== "comment");
  while (value?.type === "parenthesized_expression") value = value.namedChildren.find((c) => c.type !== "comment");
  if (value?.type === "identifier" && scope.nodes.get(value.text)) value = scope.nodes.get(value.text) ?? undefined;
  const callee = value?.type === "call" ? dottedName(value.childForFieldName("function") ?? value) : null;
  // Another function of the module: what it returns, with the arguments read here.
  if (value && callee && ctx.functions?.has(callee) && !scope.values.has(callee) && !scope.nodes.has(callee)) {
    const read = toValue(inner, value, 0);
    if (read.kind !== "call") return `\`${name}\` returns an unreadable call`;
    if (read.hasSplat) return `\`${name}\` unpacks the arguments of \`${callee}\` with \`*\` or \`**\``;
    return returnedOperations(inner, callee, read.args, read.kwargs, site, index, list);
  }
  if (list) {
    // A literal list of operations (lists joined with `+`, a local bound to one ...).
    const lists = value ? operationLists(inner, value) : NOT_A_LIST;
    if (typeof lists === "string") return `what \`${name}\` returns ${lists}`;
    return readOperationLists(inner, lists, 0);
  }
  if (value?.type !== "call") return `\`${name}\` returns \`${truncate(value?.text ?? "None", 60)}\`, which rollsafe does not read as an operation`;
  const ops = vendorSplit(inner, value, () => readOperation(inner, value, index, 0));
  const op = ops[0];
  if (!op || (op.unknown && op.kind !== "Unknown" && !builtinOperation(op.callee) && !op.thirdParty)) return `\`${name}\` returns \`${callee ?? value.type}(...)\`, which rollsafe does not know`;
  return ops;
}

/**
 * Whether `stmt` grows a list of the function being read (`scope.parts`), as Python runs it: the
 * list's operations so far, then `ops.append(op)`'s one, `ops.extend(list)`'s or `ops += list`'s
 * (read now, with the names as they are here), or a `for` loop's whose body only appends to
 * that list (one operation per item and `append`, as a comprehension makes them). The list is a
 * local first bound to a literal list or tuple. Any other use of it makes it opaque, as before.
 */
function growList(ctx: Ctx, stmt: SyntaxNode): boolean {
  const scope = ctx.scope;
  const parts = scope?.parts;
  if (!scope || !parts) return false;
  /** The list `name` holds now, or null when it is not one being grown. */
  const current = (name: string): ListPart[] | null => {
    const grown = parts.get(name);
    if (grown) return grown;
    const bound = scope.nodes.get(name);
    if (bound?.type !== "list" && bound?.type !== "tuple") return null;
    const lists = operationLists(ctx, bound);
    return typeof lists === "string" ? null : lists;
  };
  const grow = (name: string, now: ListPart[], more: ListPart[]): true => {
    parts.set(name, [...now, ...more]);
    // Its value is the list as grown now: not the literal it was bound to.
    scope.nodes.set(name, null);
    return true;
  };
  if (stmt.type === "for_statement") {
    if (stmt.childForFieldName("alternative") || stmt.children.some((c) => c.type === "async")) return false;
    const body = (stmt.childForFieldName("body")?.namedChildren ?? []).filter((c) => c.type !== "comment" && c.type !== "pass_statement");
    const appends = body.map(appended);
    const name = appends[0]?.name;
    if (!name || appends.some((a) => a?.name !== name || a.how !== "append")) return false;
    const now = current(name);
    if (!now) return false;
    const target = stmt.childForFieldName("left");
    const right = stmt.childForFieldName("right");
    // `for a, b in ...` binds the names after the loop too: what they hold then is not read.
    for (const id of target?.descendantsOfType("identifier") ?? []) {
      scope.values.delete(id.text);
      scope.nodes.set(id.text, null);
    }
    const sources = right?.type === "expression_list" ? right.namedChildren.filter((c) => c.type !== "comment") : right ? [right] : [];
    return grow(name, now, [{ loop: { node: stmt, what: FOR_LOOP, target, sources, bodies: appends.map((a) => a?.value as SyntaxNode) } }]);
  }
  const growth = appended(stmt);
  const now = growth && current(growth.name);
  if (!growth || !now) return false;
  if (growth.how === "append") return grow(growth.name, now, [{ item: growth.value }]);
  const lists = operationLists(ctx, growth.value);
  if (typeof lists === "string") return false;
  return grow(growth.name, now, lists);
}

/** `name.append(value)`, `name.extend(value)` or `name += value`, as a statement; null for anything else. */
function appended(stmt: SyntaxNode | undefined): { name: string; how: "append" | "extend"; value: SyntaxNode } | null {
  const expression = stmt?.type === "expression_statement" ? stmt.namedChildren.filter((c) => c.type !== "comment") : [];
  const [only] = expression;
  if (expression.length !== 1 || !only) return null;
  if (only.type === "augmented_assignment") {
    const left = only.childForFieldName("left");
    const right = only.childForFieldName("right");
    return left?.type === "identifier" && right && only.childForFieldName("operator")?.type === "+=" ? { name: left.text, how: "extend", value: right } : null;
  }
  if (only.type !== "call") return null;
  const fn = only.childForFieldName("function");
  const object = fn?.type === "attribute" ? fn.childForFieldName("object") : null;
  const method = fn?.type === "attribute" ? fn.childForFieldName("attribute")?.text : null;
  const args = (only.childForFieldName("arguments")?.namedChildren ?? []).filter((c) => c.type !== "comment");
  const [value] = args;
  if (object?.type !== "identifier" || (method !== "append" && method !== "extend") || args.length !== 1 || !value) return null;
  if (value.type === "keyword_argument" || value.type === "list_splat" || value.type === "dictionary_splat" || value.type === "parenthesized_list_splat") return null;
  return { name: object.text, how: method, value };
}

/** Statements and expressions that leave a function or change the names it sees, other than by assigning them. */
const LEAVES_OR_RESCOPES = new Set(["return_statement", "yield", "await", "global_statement", "nonlocal_statement"]);
/** Nodes whose insides run in a scope of their own (or not now). */
const OWN_SCOPES = new Set(["function_definition", "class_definition", "lambda"]);

/**
 * The names a statement of a function body may bind or change: assignment targets (of `x[k] =`
 * and `x.a =` too), loop and `with` targets, `:=`, `del`, `import`, and the objects of method
 * calls (`x.update(...)`), whose value is then not known. Or why the body is not read: the
 * statement returns (a function that returns in more than one place), yields, or rebinds a scope.
 */
function changedNames(stmt: SyntaxNode): Set<string> | string {
  const names = new Set<string>();
  return eachChange(stmt, (name) => names.add(name), true) ?? names;
}

/**
 * Calls `change` with each name `node` may bind or change (as `changedNames` lists them) and the
 * node that does it. `strict`: stops at a statement that leaves the function or rebinds a scope,
 * and says why; otherwise goes on through it (a `global` or `nonlocal` name is then changed).
 */
function eachChange(node: SyntaxNode, change: (name: string, by: SyntaxNode) => void, strict: boolean): string | null {
  const root = (target: SyntaxNode | null | undefined, by: SyntaxNode): void => {
    while (target && (target.type === "attribute" || target.type === "subscript" || target.type === "parenthesized_expression")) {
      target = target.type === "attribute" ? target.childForFieldName("object") : target.type === "subscript" ? target.childForFieldName("value") : target.namedChildren[0];
    }
    if (target?.type === "identifier") change(target.text, by);
    else if (target) for (const id of target.descendantsOfType("identifier")) change(id.text, by);
  };
  const visit = (node: SyntaxNode): string | null => {
    if (LEAVES_OR_RESCOPES.has(node.type)) {
      if (strict) return node.type === "return_statement" ? "returns in more than one place" : `has a \`${node.type.replace(/_statement$/, "")}\``;
      if (node.type === "global_statement" || node.type === "nonlocal_statement") for (const id of node.descendantsOfType("identifier")) change(id.text, node);
    }
    switch (node.type) {
      case "assignment":
      case "augmented_assignment":
      case "for_statement":
      case "for_in_clause":
        root(node.childForFieldName("left"), node);
        break;
      case "named_expression":
        root(node.childForFieldName("name"), node);
        break;
      case "as_pattern_target":
      case "delete_statement":
      case "import_statement":
      case "import_from_statement":
        for (const id of node.descendantsOfType(["identifier", "dotted_name"])) change(id.text.split(".")[0] ?? "", node);
        break;
      case "call": {
        const fn = node.childForFieldName("function");
        if (fn?.type === "attribute") root(fn.childForFieldName("object"), node);
        break;
      }
      default:
        break;
    }
    if (OWN_SCOPES.has(node.type)) {
      const own = node.childForFieldName("name");
      if (own) change(own.text, node);
      return null;
    }
    for (const child of node.namedChildren) {
      const why = visit(child);
      if (why) return why;
    }
    return null;
  };
  return visit(node);
}

/**
 * The values of a function's parameters for a call, as Python binds them (defaults read in the
 * module's scope, as Python evaluates them when the `def` runs), or why the call would fail.
 */
function bindArguments(ctx: Ctx, name: string, params: Parameter[], positional: PyValue[], keywords: Record<string, PyValue>, site: SourceRange): Map<string, PyValue> | string {
  const values = new Map<string, PyValue>();
  const rest: PyValue[] = [];
  let next = 0;
  for (const value of positional) {
    while (params[next] && params[next]?.kind !== "positional" && params[next]?.kind !== "rest") next++;
    const param = params[next];
    if (!param) return `the call passes \`${name}\` more positional arguments than it takes`;
    if (param.kind === "rest") rest.push(value);
    else {
      values.set(param.name, value);
      next++;
    }
  }
  const extra: { key: PyValue; value: PyValue }[] = [];
  for (const [keyword, value] of Object.entries(keywords)) {
    const param = params.find((p) => p.name === keyword && (p.kind === "positional" || p.kind === "keyword"));
    if (param && values.has(keyword)) return `the call passes \`${name}\` two values for \`${keyword}\``;
    if (param) values.set(keyword, value);
    else if (params.some((p) => p.kind === "keywords")) extra.push({ key: { kind: "str", value: keyword, range: site }, value });
    else return `\`${name}\` takes no argument \`${keyword}\``;
  }
  for (const param of params) {
    if (param.kind === "rest") values.set(param.name, { kind: "tuple", items: rest, range: site });
    else if (param.kind === "keywords") values.set(param.name, { kind: "dict", entries: extra, range: site });
    else if (!values.has(param.name)) {
      if (!param.fallback) return `the call leaves \`${name}\`'s argument \`${param.name}\` out`;
      values.set(param.name, toValue(ctx, param.fallback, 0));
    }
  }
  return values;
}

/** Every value of a call's arguments, nested ones included: they keep their own ranges. */
function callerValues(call: Operation): Set<PyValue> {
  const seen = new Set<PyValue>();
  const visit = (value: PyValue) => {
    if (seen.has(value)) return;
    seen.add(value);
    forEachChildValue(value, visit);
  };
  for (const value of Object.values(call.args)) visit(value);
  return seen;
}

/** Calls `each` on the values directly inside `value`. */
function forEachChildValue(value: PyValue, each: (child: PyValue) => void): void {
  switch (value.kind) {
    case "list":
    case "tuple":
    case "set":
      value.items.forEach(each);
      break;
    case "dict":
      for (const entry of value.entries) {
        each(entry.key);
        each(entry.value);
      }
      break;
    case "call":
      value.args.forEach(each);
      Object.values(value.kwargs).forEach(each);
      break;
    default:
      break;
  }
}

/**
 * `op` with the range `site`, as are its nested operations and the values read from the function
 * that built it (`builtBy`); the caller's values (`kept`) keep theirs. Copies: values read from
 * a module's constants are shared between their uses (`memoized`). From another module
 * (`foreign`), a bare name the module itself binds (a function of it, for `RunPython`) is opaque:
 * rules would look it up among the migration's own functions.
 */
function relocate(op: Operation, site: SourceRange, kept: Set<PyValue>, builtBy: string, foreign: boolean): Operation {
  const copies = new Map<PyValue, PyValue>();
  const copy = (value: PyValue): PyValue => {
    if (kept.has(value)) return value;
    let made = copies.get(value);
    if (made) return made;
    switch (value.kind) {
      case "list":
      case "tuple":
      case "set":
        made = { ...value, items: value.items.map(copy), range: site };
        break;
      case "dict":
        made = { ...value, entries: value.entries.map((e) => ({ key: copy(e.key), value: copy(e.value) })), range: site };
        break;
      case "call":
        made = { ...value, args: value.args.map(copy), kwargs: Object.fromEntries(Object.entries(value.kwargs).map(([k, v]) => [k, copy(v)])), range: site };
        break;
      case "name":
        made = foreign && value.name === value.qualified && !value.name.includes(".") ? { kind: "opaque", text: value.name, range: site } : { ...value, range: site };
        break;
      default:
        made = { ...value, range: site };
    }
    copies.set(value, made);
    return made;
  };
  const moved = (inner: Operation, comments: Operation["comments"]): Operation => ({
    ...inner,
    range: site,
    args: Object.fromEntries(Object.entries(inner.args).map(([k, v]) => [k, copy(v)])),
    comments,
    builtBy,
    ...(inner.databaseOperations ? { databaseOperations: inner.databaseOperations.map((o) => moved(o, [])) } : {}),
    ...(inner.stateOperations ? { stateOperations: inner.stateOperations.map((o) => moved(o, [])) } : {}),
  });
  return moved(op, op.comments);
}

/** Maps positional arguments onto parameter names; keywords win. */
export function mapArguments(call: Extract<PyValue, { kind: "call" }>, params: readonly string[]): Record<string, PyValue> {
  const args: Record<string, PyValue> = {};
  call.args.forEach((value, i) => {
    const name = params[i];
    args[name ?? `$${i}`] = value;
  });
  for (const [name, value] of Object.entries(call.kwargs)) args[name] = value;
  return args;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Converts an expression node to a `PyValue`, bounded in depth. */
/** `value[index]` or `value[start:stop]` with literal integers (negative ones too), as Python gives them; null otherwise. */
function stringSubscript(ctx: Ctx, value: string, index: SyntaxNode, depth: number): string | null {
  const integer = (node: SyntaxNode | undefined): number | null | undefined => {
    if (!node) return undefined;
    const read = toValue(ctx, node, depth + 1);
    return read.kind === "int" && Number.isSafeInteger(read.value) ? read.value : null;
  };
  const chars = [...value];
  const at = (n: number) => (n < 0 ? Math.max(chars.length + n, 0) : Math.min(n, chars.length));
  if (index.type === "slice") {
    const parts = index.namedChildren.filter((c) => c.type !== "comment");
    // `a:b` only (no step), its bounds integers: the one `:` of the text parts them (the copied
    // tree keeps no punctuation).
    const colons = index.text.split(":").length - 1;
    if (colons !== 1 || parts.length > 2) return null;
    const colon = index.startIndex + index.text.indexOf(":");
    const before = parts.find((c) => c.endIndex <= colon);
    const after = parts.find((c) => c.startIndex > colon);
    const start = integer(before);
    const stop = integer(after);
    if (start === null || stop === null) return null;
    return chars.slice(start === undefined ? 0 : at(start), stop === undefined ? chars.length : at(stop)).join("");
  }
  const i = integer(index);
  if (i === null || i === undefined) return null;
  const char = chars[i < 0 ? chars.length + i : i];
  return char ?? null;
}

function toValue(ctx: Ctx, node: SyntaxNode, depth: number): PyValue {
  const range = rangeOf(ctx, node);
  if (depth > MAX_VALUE_DEPTH || --ctx.budget.left < 0) return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
  switch (node.type) {
    case "string": {
      const decoded = decodeString(node.text) ?? formattedString(ctx, node, depth);
      if (decoded === null) return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
      return { kind: decoded.bytes ? "bytes" : "str", value: intern(decoded.value), range };
    }
    case "concatenated_string": {
      let value = "";
      for (const part of node.namedChildren) {
        if (part.type === "comment") continue;
        const decoded = decodeString(part.text) ?? formattedString(ctx, part, depth);
        if (decoded === null) return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
        value += decoded.value;
      }
      return { kind: "str", value, range };
    }
    case "integer": {
      const text = node.text;
      const value = Number(text.replace(/_/g, "").replace(/^0(?=\d)/, "").replace(/[lL]$/, ""));
      return { kind: "int", value, text, range };
    }
    case "float":
      return { kind: "float", value: Number(node.text.replace(/_/g, "")), text: node.text, range };
    case "true":
      return { kind: "bool", value: true, range };
    case "false":
      return { kind: "bool", value: false, range };
    case "none":
      return { kind: "none", range };
    case "unary_operator": {
      const operand = node.childForFieldName("argument");
      const operator = node.childForFieldName("operator")?.text;
      if (operand && (operator === "-" || operator === "+")) {
        const inner = toValue(ctx, operand, depth + 1);
        if (inner.kind === "int" || inner.kind === "float") {
          return { ...inner, value: operator === "-" ? -inner.value : inner.value, text: node.text, range };
        }
      }
      return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
    }
    case "parenthesized_expression": {
      const inner = node.namedChildren.find((c) => c.type !== "comment");
      return inner ? { ...toValue(ctx, inner, depth + 1), range } : { kind: "opaque", text: node.text, range };
    }
    case "list":
    case "tuple":
    case "set": {
      const items: PyValue[] = [];
      for (const child of node.namedChildren) {
        if (child.type === "comment") continue;
        items.push(toValue(ctx, child, depth + 1));
      }
      return { kind: node.type, items, range };
    }
    case "list_comprehension": {
      // `[(name, models.TextField()) for name in NAMES]`: the list Python makes, item by item.
      const clause = comprehensionClause(node);
      const scopes = typeof clause === "string" ? null : loopScopes(ctx, clause, depth);
      if (typeof clause === "string" || scopes === null || typeof scopes === "string") return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
      const [body] = clause.bodies;
      return { kind: "list", items: scopes.map((inner) => toValue(inner, body as SyntaxNode, depth + 1)), range };
    }
    case "dictionary": {
      const entries: { key: PyValue; value: PyValue }[] = [];
      for (const pair of node.namedChildren) {
        if (pair.type !== "pair") {
          if (pair.type === "comment") continue;
          return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
        }
        const key = pair.childForFieldName("key");
        const value = pair.childForFieldName("value");
        if (key && value) entries.push({ key: toValue(ctx, key, depth + 1), value: toValue(ctx, value, depth + 1) });
      }
      return { kind: "dict", entries, range };
    }
    case "binary_operator": {
      // `[...] + [...]`: list (or tuple) concatenation, and adjacent strings joined with `+`.
      const operands = plusOperands(node);
      const joined = operands && concatenation(ctx, toValue(ctx, operands[0], depth + 1), toValue(ctx, operands[1], depth + 1), range);
      return joined ?? { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
    }
    case "subscript": {
      // A string sliced or indexed by literal integers (TabbyCat draw 0010: `t[4:]` of a loop's
      // item), as Python does it; anything else stays opaque.
      const value = node.childForFieldName("value");
      const subscripts = node.childrenForFieldName("subscript");
      const base = value ? toValue(ctx, value, depth + 1) : null;
      const index = subscripts.length === 1 ? subscripts[0] : undefined;
      const sliced = base?.kind === "str" && index ? stringSubscript(ctx, base.value, index, depth) : null;
      return sliced === null ? { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range } : { kind: "str", value: intern(sliced), range };
    }
    case "conditional_expression": {
      // `[...] if settings.X else [...]`: the condition needs the project's settings, so a list
      // is read as both branches' items together (see `eitherList`).
      const either = branches(node);
      const joined = either && eitherList(toValue(ctx, either[0], depth + 1), toValue(ctx, either[1], depth + 1), range);
      return joined ?? { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
    }
    case "boolean_operator": {
      // `getattr(settings, "X", None) or default`: decided by the left side's literal value.
      const left = node.childForFieldName("left");
      const right = node.childForFieldName("right");
      const operator = node.childForFieldName("operator")?.type;
      if (left && right && (operator === "or" || operator === "and")) {
        const a = toValue(ctx, left, depth + 1);
        const truth = truthy(a);
        if (truth !== null) return truth === (operator === "or") ? { ...a, range } : { ...toValue(ctx, right, depth + 1), range };
      }
      return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
    }
    case "identifier":
    case "attribute": {
      if (node.type === "identifier" && ctx.scope) {
        // A parameter: the caller's value, where the caller wrote it. A local: read where it is bound.
        const value = ctx.scope.values.get(node.text);
        if (value) return value;
        const local = ctx.scope.nodes.get(node.text);
        if (local !== undefined) {
          const read = local && memoized(ctx, `${depth}\0${node.text}`, node.text, range, () => withLocal(ctx, node.text, local, (bound) => toValue(ctx, bound, depth + 1)));
          return read ? { ...read, range } : { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
        }
      }
      if (node.type === "identifier" && (ctx.constants ??= moduleConstants(ctx.root)).get(node.text)) {
        const constant = memoized(ctx, `${depth}\0${node.text}`, node.text, range, () => withConstant(ctx, node.text, (bound) => toValue(ctx, bound, depth + 1)));
        // At the place it is used: fixes and messages point there, not at the definition.
        if (constant) return { ...constant, range };
      }
      const name = dottedName(node);
      if (name === null) return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
      return { kind: "name", name: intern(name), qualified: intern(qualify(ctx, name)), range };
    }
    case "call": {
      const fn = node.childForFieldName("function");
      const argsNode = node.childForFieldName("arguments");
      const callee = fn ? dottedName(fn) : null;
      if (!fn || callee === null || !argsNode || argsNode.type !== "argument_list") {
        return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
      }
      const args: PyValue[] = [];
      const kwargs: Record<string, PyValue> = {};
      let hasSplat = false;
      for (const arg of argsNode.namedChildren) {
        if (arg.type === "comment") continue;
        if (arg.type === "keyword_argument") {
          const name = arg.childForFieldName("name")?.text;
          const value = arg.childForFieldName("value");
          if (name && value) kwargs[name] = toValue(ctx, value, depth + 1);
        } else if (arg.type === "list_splat" || arg.type === "dictionary_splat") {
          // `**OPTIONS`, `*ARGS` of a literal rollsafe knows (a module constant, a local): the
          // arguments it makes; else the argument list is incomplete.
          const inner = arg.namedChildren.find((c) => c.type !== "comment");
          const spread = inner ? toValue(ctx, inner, depth + 1) : null;
          if (arg.type === "dictionary_splat" && spread?.kind === "dict" && spread.entries.every((e) => e.key.kind === "str")) {
            for (const entry of spread.entries) kwargs[(entry.key as { value: string }).value] = entry.value;
          } else if (arg.type === "list_splat" && (spread?.kind === "list" || spread?.kind === "tuple")) {
            args.push(...spread.items);
          } else {
            hasSplat = true;
          }
        } else {
          args.push(toValue(ctx, arg, depth + 1));
        }
      }
      const qualified = intern(qualify(ctx, callee));
      const setting = callee === "getattr" && !hasSplat ? settingWithDefault(args) : null;
      if (setting) return { ...setting, range };
      const collection = !hasSplat && qualified === callee ? builtinCollection(ctx, callee, args, kwargs, range) : null;
      if (collection) return collection;
      return { kind: "call", callee: intern(callee), qualified, args, kwargs, hasSplat, range };
    }
    default:
      return { kind: "opaque", text: truncate(node.text, MAX_OPAQUE_TEXT), range };
  }
}

/** The kind of literal each collection builtin makes (a frozenset reads as a set). */
const COLLECTION_BUILTINS: Record<string, "list" | "tuple" | "set"> = { list: "list", tuple: "tuple", set: "set", frozenset: "set" };

/**
 * `set([("a", "b")])`, `frozenset(...)`, `tuple([...])`, `list((...))`, `set()`: the collection
 * Python makes from a literal, as the literal itself. Old `makemigrations` wrote
 * `unique_together=set([...])`, which Django reads as the set of tuples it is. Null for any other
 * call, for an argument that is not a literal collection, and where the module binds the name
 * itself.
 */
function builtinCollection(ctx: Ctx, callee: string, args: PyValue[], kwargs: Record<string, PyValue>, range: SourceRange): PyValue | null {
  const kind = Object.hasOwn(COLLECTION_BUILTINS, callee) ? COLLECTION_BUILTINS[callee] : undefined;
  if (kind === undefined || args.length > 1 || Object.keys(kwargs).length > 0) return null;
  const [from] = args;
  if (from && from.kind !== "list" && from.kind !== "tuple" && from.kind !== "set") return null;
  if (ctx.scope?.values.has(callee) || ctx.scope?.nodes.has(callee) || ctx.functions?.has(callee)) return null;
  if ((ctx.constants ??= moduleConstants(ctx.root)).has(callee)) return null;
  return { kind, items: from ? from.items : [], range };
}

/**
 * `getattr(settings, "NAME", default)`: rollsafe reads no settings, so the value is the default,
 * as in a project that does not set `NAME`, except for `AUTH_USER_MODEL`, which stays the
 * swappable setting (`--auth-user-model` resolves it). Null for any other `getattr`.
 */
function settingWithDefault(args: PyValue[]): PyValue | null {
  const [object, name, fallback] = args;
  if (args.length !== 3 || object?.kind !== "name" || !fallback) return null;
  if (object.qualified !== "django.conf.settings" && object.name !== "settings") return null;
  if (name?.kind === "str" && name.value === "AUTH_USER_MODEL") return { kind: "name", name: "settings.AUTH_USER_MODEL", qualified: "django.conf.settings.AUTH_USER_MODEL", range: name.range };
  return fallback;
}

/** `a + b` of two lists, two tuples or two strings; null for anything rollsafe cannot add up. */
function concatenation(ctx: Ctx, a: PyValue, b: PyValue, range: SourceRange): PyValue | null {
  if ((a.kind === "list" || a.kind === "tuple") && b.kind === a.kind) return eitherList(a, b, range);
  if ((a.kind === "str" || a.kind === "bytes") && b.kind === a.kind) {
    const length = a.value.length + b.value.length;
    ctx.budget.left -= Math.floor(length / 100);
    return length > MAX_JOINED_STRING || ctx.budget.left < 0 ? null : { kind: a.kind, value: a.value + b.value, range };
  }
  return null;
}

/**
 * `a if condition else b` where both are lists (or tuples): the items of both, in order. Which
 * one Django sees depends on the project's settings, which rollsafe does not read, so a model's
 * `fields` or a migration's `dependencies` built this way keep everything either branch names
 * (the field or dependency exists in some configuration). Anything else is unknown (null).
 */
function eitherList(a: PyValue, b: PyValue, range: SourceRange): PyValue | null {
  if ((a.kind !== "list" && a.kind !== "tuple") || (b.kind !== "list" && b.kind !== "tuple")) return null;
  if (a.items.length + b.items.length > MAX_JOINED_ITEMS) return null;
  return { kind: a.kind, items: [...a.items, ...b.items], range };
}

/**
 * The value of an f-string whose replacement fields are all known strings or integers: module
 * constants, literals (`f"ALTER TABLE {TABLE} DROP CONSTRAINT {SYMBOL}"`, treeherder perf 0036).
 * Null when a field is anything else, or has a conversion other than `!s` or a format spec
 * (Python would format it), and for t-strings (not a str).
 */
function formattedString(ctx: Ctx, node: SyntaxNode, depth: number): { value: string; bytes: false } | null {
  if (node.type !== "string") return null;
  const prefix = /^[rRbBuUfFtT]*/.exec(node.text)?.[0].toLowerCase() ?? "";
  if (!prefix.includes("f") || prefix.includes("t") || prefix.includes("b")) return null;
  const raw = prefix.includes("r");
  let value = "";
  for (const part of node.namedChildren) {
    if (part.type === "string_start" || part.type === "string_end") continue;
    if (part.type === "string_content") {
      const text = part.text.replace(/\{\{/g, "{").replace(/\}\}/g, "}");
      value += raw ? text : unescapePython(text);
      continue;
    }
    if (part.type !== "interpolation") return null;
    const [expression, ...rest] = part.namedChildren;
    if (!expression || rest.some((r) => r.type !== "type_conversion" || r.text !== "!s") || /=\s*(![rsa])?\s*(:[^}]*)?}$/.test(part.text)) return null;
    const field = toValue(ctx, expression, depth + 1);
    if (field.kind === "str") value += field.value;
    else if (field.kind === "int" && Number.isSafeInteger(field.value)) value += String(field.value);
    else return null;
  }
  return { value, bytes: false };
}

/** Decodes a Python string literal's text; null for f-strings (not static). */
export function decodeString(text: string): { value: string; bytes: boolean } | null {
  const match = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(text);
  if (!match) return null;
  const prefix = (match[1] ?? "").toLowerCase();
  const quote = match[2] ?? "'";
  if (prefix.includes("f")) return null;
  if (!text.endsWith(quote) || text.length < prefix.length + quote.length * 2) return null;
  const body = text.slice(prefix.length + quote.length, text.length - quote.length);
  const bytes = prefix.includes("b");
  if (prefix.includes("r")) return { value: body, bytes };
  return { value: unescapePython(body), bytes };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

function unescapePython(body: string): string {
  if (!body.includes("\\")) return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== "\\" || i + 1 >= body.length) {
      out += ch;
      continue;
    }
    const next = body[i + 1] as string;
    if (next === "\n") {
      i++;
      continue;
    }
    if (next === "\r") {
      i += body[i + 2] === "\n" ? 2 : 1;
      continue;
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i++;
      continue;
    }
    const hexLength = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 2, i + 2 + hexLength);
      if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === hexLength) {
        out += String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff));
        i += 1 + hexLength;
        continue;
      }
    }
    const octal = /^[0-7]{1,3}/.exec(body.slice(i + 1, i + 4));
    if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8));
      i += octal[0].length;
      continue;
    }
    out += ch;
  }
  return out;
}
