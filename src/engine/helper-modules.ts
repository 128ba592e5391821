/**
 * Operations a migration builds with a helper module of its project (and the `atomic` its
 * `Migration` class inherits from a base class there, like Sentry's `CheckedMigration`, and the
 * Django field class a field class of the project makes its column as, like Sentry's
 * `BoundedPositiveIntegerField`): debusine's migrations call
 * `make_artifact_field_renamer(...)` and `ReloadModel(...)` from `debusine/db/migrations/_utils.py`
 * in their `operations` (and a migration may spread a helper's list: `*make_operations(...)`). The parse reads each migration alone (and caches it by its own content),
 * so such a call leaves it as an operation it could not read; after the load, each one whose
 * module is a file of the project is read there (`HelperModule`): the operation the function
 * returns, with the arguments the migration passes, or the module's operation class.
 *
 * A module is found as Python would import it from the migration's package: a relative import
 * from the migration's directory, an absolute one from a directory above it (the project's root
 * on `sys.path`). Only files are read, never run. Each helper file is read and parsed once per
 * run, and the run's result names the files it read (`LintResult.inputs`) so that the result
 * cache sees an edit of one.
 */
import { statSync } from "node:fs";
import path from "node:path";
import type { ForcedKeywords, Operation, PyValue, SourceRange } from "../model/types.js";
import { functionImports, HelperModule, importedByFunction, importedFunctionName, type FieldClassCarried, type FunctionFacts, type ParsedMigration, type ReadImported } from "../parse/parse-migration.js";
import { fieldCalls, setConstantDefault, setProjectFieldClass, setUnreadFieldBase } from "../state/model-state.js";
import { NESTED_FUNCTION } from "../parse/nested-functions.js";
import { functionKey, importedLocalName, runPythonFunctionName, usesName } from "./run-python-facts.js";
import type { OperationCatalog } from "../model/third-party-operations.js";
import { decodePythonSource } from "../parse/source-text.js";
import { DEFAULT_MAX_FILE_SIZE, readSourceBytesSync } from "../workers/read-migration.js";

/** How many directories above a migration an absolute module is looked for. */
const MAX_ANCESTORS = 32;

/** What `resolveHelperCalls` needs besides the migrations. */
export interface HelperOptions {
  maxFileSize?: number;
  operations?: OperationCatalog;
  /** How a file is named in messages. */
  display: (file: string) => string;
}

/**
 * Replaces each operation of `migrations` that calls a function or operation class of a helper
 * module with what it reads there; one that cannot be read keeps its place, with the reason.
 * Returns the helper files read, sorted. The parser loads only when a migration has such a call.
 */
export function resolveHelperCalls(migrations: readonly ParsedMigration[], options: HelperOptions): string[] {
  const pending = migrations.filter((m) => m.operations.some(mayUseHelper));
  const sqlNamed = migrations.map((m) => [m, runSqlNamingImports(m.operations)] as const).filter(([, ops]) => ops.length > 0);
  const running = new Map(migrations.map((m) => [m, importedFunctionsRun(m)] as const).filter(([, run]) => run.length > 0));
  const calling = new Map(migrations.map((m) => [m, importedCallsRun(m)] as const).filter(([, calls]) => calls.length > 0));
  // Migration classes whose base comes from a module of the project and may set `atomic` there.
  const inheriting = migrations.filter((m) => m.migrationBase !== undefined && m.atomicRange === null);
  // Names a function of the migration imports from a `models` module and uses: model classes, or
  // something else a models module defines (authentik's RedirectURI dataclass).
  const importingModels = migrations.filter((m) => m.functions.some((f) => !f.imported && (f.modelImports.length > 0 || m.modelImports.some((i) => usesName(f.calls, i.name)))));
  // Fields of a class the project defines (`sentry.db.models.fields.bounded.BoundedBigIntegerField`),
  // and defaults that name a function of the project (`default=app.models.active_users_default`): one walk of the field calls.
  const named = migrations.map((m) => [m, projectNames(m.operations)] as const);
  const projectFields = named.map(([m, { classes }]) => [m, classes] as const).filter(([, calls]) => calls.length > 0);
  const projectDefaults = named.map(([m, { defaults }]) => [m, defaults] as const).filter(([, names]) => names.length > 0);
  if (pending.length === 0 && running.size === 0 && calling.size === 0 && inheriting.length === 0 && importingModels.length === 0 && projectFields.length === 0 && projectDefaults.length === 0 && sqlNamed.length === 0) return [];
  const modules = new Map<string, HelperModule | string>();
  const located = new Map<string, string | null>();
  const locate = (dir: string, module: string): string | null => {
    const key = `${dir}\0${module}`;
    let file = located.get(key);
    if (file === undefined) located.set(key, (file = moduleFile(dir, module)));
    return file;
  };
  const moduleAt = (file: string): HelperModule | string => {
    let module = modules.get(file);
    if (module === undefined) {
      const read = readSourceBytesSync(file, options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE, "a helper module");
      if (!read.ok) module = read.message;
      else {
        try {
          module = HelperModule.read(decodePythonSource(read.bytes), { operations: options.operations });
        } catch (error) {
          module = `it cannot be decoded (${(error as Error).message})`;
        }
      }
      modules.set(file, module);
    }
    return module;
  };
  /** The module a dotted name (`pkg.mod.Name`, as a file in `dir` imports it) is in, read, with the member's name; null when it is not a readable file of the project. */
  const moduleMember = (dir: string, qualified: string): { module: HelperModule; name: string; file: string } | null => {
    const dot = qualified.lastIndexOf(".");
    const file = dot <= 0 ? null : locate(dir, qualified.slice(0, dot));
    const module = file === null ? null : moduleAt(file);
    return typeof module === "object" && module !== null && file !== null ? { module, name: qualified.slice(dot + 1), file } : null;
  };
  /**
   * The function `qualified` names (`._data.fill`, as a file in `dir` imports it) read in its
   * module, with the functions it calls there and in the modules it imports from, under `alias`
   * (by default the module's file and the name); null when the module is not a file of the
   * project or has no such function.
   */
  function functionIn(dir: string, qualified: string, alias: string | null, site: SourceRange, seen?: Set<string>): { key: string; facts: FunctionFacts[] } | null {
    const dot = qualified.lastIndexOf(".");
    const name = qualified.slice(dot + 1);
    const file = locate(dir, qualified.slice(0, dot));
    const helper = file === null ? null : moduleAt(file);
    if (file === null || typeof helper !== "object" || helper === null) return null;
    const display = options.display(file);
    const key = alias ?? `${display}:${name}`;
    const facts = helper.functionFacts(name, key, site, display, importedFrom(path.dirname(file)), seen);
    return facts ? { key, facts } : null;
  }
  /** What a helper module in `dir` imports from another module of the project. */
  const importedFrom =
    (dir: string): ReadImported =>
    (qualified, site, seen) =>
      functionIn(dir, qualified, null, site, seen);
  /** `nested`: the facts of functions a helper's function defines for a RunPython it returns, by key (the first kept). */
  type Nested = Map<string, FunctionFacts>;
  const resolveList = (ops: Operation[], dir: string, nested: Nested): Operation[] => {
    const out = ops.flatMap((op) => resolve(op, dir, nested));
    // A spread read as several operations: each keeps its place in the list.
    if (out.length !== ops.length) out.forEach((op, i) => (op.index = i));
    return out;
  };
  const resolve = (op: Operation, dir: string, nested: Nested): Operation[] => {
    if (op.databaseOperations) op.databaseOperations = resolveList(op.databaseOperations, dir, nested);
    if (op.stateOperations) op.stateOperations = resolveList(op.stateOperations, dir, nested);
    if (!mayUseHelper(op) || !op.unknown) return [op];
    const dot = op.callee.lastIndexOf(".");
    const name = op.callee.slice(dot + 1);
    const file = locate(dir, op.callee.slice(0, dot));
    if (file === null) return [op];
    const module = moduleAt(file);
    const where = `\`${options.display(file)}\``;
    const builtBy = `\`${name}\` from ${where}`;
    const made = typeof module === "string" ? module : op.spread ? module.operations(name, op, builtBy) : module.operation(name, op, builtBy);
    if (typeof made !== "string") {
      const ops = Array.isArray(made) ? made : [made];
      // An operation the module's class makes without saying what it does in the database.
      for (const o of ops) if (o.unknown && o.behavesAs) o.unknown = { ...o.unknown, reason: `${op.unknown.reason} (read in ${where}: ${o.unknown.reason})` };
      if (typeof module !== "string") for (const o of ops) runNestedFunctions(o, module, options.display(file), nested, importedFrom(path.dirname(file)));
      return ops;
    }
    op.unknown = { ...op.unknown, reason: `${op.unknown.reason} (read in ${where}: ${made})` };
    return [op];
  };
  for (const migration of pending) {
    const nested: Nested = new Map();
    migration.operations = resolveList(migration.operations, path.dirname(migration.path), nested);
    migration.functions.push(...nested.values());
  }
  // The functions a RunPython runs that the migration imports from a module of the project:
  // read there, so the rules that look inside RunPython functions see them.
  for (const [migration, run] of running) {
    const dir = path.dirname(migration.path);
    const added = new Set<string>();
    for (const value of run) {
      if (added.has(value.name)) continue;
      added.add(value.name);
      migration.functions.push(...(functionIn(dir, value.qualified, value.name, value.range)?.facts ?? []));
    }
  }
  // The functions the migration's own RunPython functions call that it imports from a module of
  // the project: read there too, by the name the call uses, with the caller's place for findings.
  for (const [migration, calls] of calling) {
    const dir = path.dirname(migration.path);
    const keys = new Set(migration.functions.map(functionKey));
    const read = new Set<string>();
    for (const { call, qualified, site, caller } of calls) {
      // A name the calling function imports itself is found by its qualified name (which no
      // function's own name can be), so that two functions importing one name from different
      // modules each find theirs; the caller's call is renamed once its function is found.
      const key = caller ? qualified : call;
      if (!read.has(key) && !keys.has(key)) {
        for (const fn of functionIn(dir, qualified, key, site)?.facts ?? []) {
          if (keys.has(functionKey(fn))) continue;
          keys.add(functionKey(fn));
          migration.functions.push(fn);
        }
      }
      read.add(key);
      if (caller && keys.has(key)) caller.calls = caller.calls.map((c) => (c === call ? key : c));
    }
  }
  // What a models module defines under an imported name: not a model when it is a dataclass, an
  // enum, a function or a constant; those imports are dropped from `modelImports`, so
  // runpython-importing-models does not advise `apps.get_model` for them (a LookupError).
  const kindOf = (dir: string, qualified: string) => {
    const found = moduleMember(dir, qualified);
    return found?.module.classKind(found.name);
  };
  for (const migration of importingModels) {
    const dir = path.dirname(migration.path);
    for (const fn of migration.functions) {
      if (fn.imported || fn.modelImports.length === 0) continue;
      fn.modelImports = fn.modelImports.filter((imported) => {
        const qualified = fn.imports?.[importedLocalName(imported)];
        return qualified === undefined || kindOf(dir, qualified) !== "other";
      });
    }
    migration.modelImports = migration.modelImports.filter((imported) => {
      const qualified = migration.imports[imported.name];
      return qualified === undefined || kindOf(dir, qualified) !== "other";
    });
  }
  // Each field class of the project is read in its module, following its bases to the Django
  // field class whose column it makes (a base in another module is read there). A class that
  // decides its column itself (`db_type`...) is a type of its own: its qualified name, which no
  // rule knows, even when the class shares a name with one of Django's (Sentry's
  // `fields.text.CharField`, a text column). A class whose bases cannot all be read (a base chosen
  // at run time, a module outside the project) keeps the name it is called by.
  // A class whose bases lead out of the run's modules also says where (the class read last, in
  // its file, and the base it derives from there; BookWyrm's `CICharField` over contrib.postgres'
  // when only the app is checked), for changing-column-type's warning.
  type FieldClassFound = { type: string; forced: ForcedKeywords; dbType?: string } | { unread: { file: string; name: string; base: string } } | null;
  const fieldClasses = new Map<string, FieldClassFound>();
  /** `undefined` when the module of `qualified` is in none of the run's. */
  const fieldClassAt = (dir: string, qualified: string, carried?: FieldClassCarried, depth = 0): FieldClassFound | undefined => {
    if (depth > MAX_FIELD_BASES) return null;
    const found = moduleMember(dir, qualified);
    if (!found) return undefined;
    const base = found.module.fieldClass(found.name, carried);
    if (!base) return null;
    if ("unknown" in base) return base.decides ? { type: UNKNOWN_FIELD_CLASS, forced: {}, ...(base.dbType !== undefined ? { dbType: base.dbType } : {}) } : null;
    if ("type" in base) return base;
    const next = fieldClassAt(path.dirname(found.file), base.imported, base, depth + 1);
    return next === undefined ? { unread: { file: found.file, name: found.name, base: base.imported } } : next;
  };
  for (const [migration, calls] of projectFields) {
    const dir = path.dirname(migration.path);
    for (const call of calls) {
      const key = `${dir}\0${call.qualified}`;
      let found = fieldClasses.get(key);
      if (found === undefined) fieldClasses.set(key, (found = fieldClassAt(dir, call.qualified) ?? null));
      if (found === null) continue;
      if ("unread" in found) setUnreadFieldBase(call, { ...found.unread, file: options.display(found.unread.file) });
      else setProjectFieldClass(call, found.type === UNKNOWN_FIELD_CLASS ? call.qualified : found.type, found.forced, found.dbType);
    }
  }
  // A default function that returns one literal gives every row an equal value, called once or not.
  for (const [migration, names] of projectDefaults) {
    const dir = path.dirname(migration.path);
    for (const value of names) {
      const found = moduleMember(dir, value.qualified);
      if (found?.module.returnsConstant(found.name) === true) setConstantDefault(value);
    }
  }
  // `RunSQL(TRIGGER_SQL)` with the SQL imported from a module of the project: read there.
  for (const [migration, ops] of sqlNamed) {
    const dir = path.dirname(migration.path);
    for (const op of ops) {
      for (const key of ["sql", "reverse_sql"] as const) {
        const arg = op.args[key];
        if (!importedName(arg)) continue;
        const found = moduleMember(dir, arg.qualified);
        const value = found?.module.sqlConstant(found.name);
        if (!value) continue;
        op.args[key] = withRange(value, arg.range);
        // Read again from the SQL itself (the facts of the load saw only a name).
        delete op.sqlFacts;
      }
    }
  }
  for (const migration of inheriting) {
    const found = moduleMember(path.dirname(migration.path), migration.migrationBase as string);
    const atomic = found?.module.classAtomic(found.name);
    if (atomic !== undefined) migration.atomic = atomic;
  }
  return [...modules.keys()].sort();
}

/** How many modules a field class's bases are followed through. */
const MAX_FIELD_BASES = 8;

/** `fieldClassAt`'s answer for a class of the project whose column rollsafe cannot know. */
const UNKNOWN_FIELD_CLASS = "";

/**
 * The field calls of `ops` (`AddField`'s and `AlterField`'s `field`, `CreateModel`'s `fields`, in
 * nested operations too) whose class is imported from a module that is not Django's.
 */
/**
 * The field calls of a class the project defines (`sentry.db.models.fields.bounded.BoundedBigIntegerField`),
 * and the `default=` values of `AddField`/`AlterField` fields that name a function of the project.
 */
function projectNames(ops: readonly Operation[]): { classes: Extract<PyValue, { kind: "call" }>[]; defaults: Extract<PyValue, { kind: "name" }>[] } {
  const classes: Extract<PyValue, { kind: "call" }>[] = [];
  const defaults: Extract<PyValue, { kind: "name" }>[] = [];
  for (const { call, created } of fieldCalls(ops)) {
    if (isProjectClass(call.qualified)) classes.push(call);
    const value = created ? undefined : call.kwargs.default;
    if (value?.kind === "name" && isProjectClass(value.qualified)) defaults.push(value);
  }
  return { classes, defaults };
}

/** Whether a qualified class name may name a class of the project: imported from a module, not Django's. */
function isProjectClass(qualified: string): boolean {
  return qualified.includes(".") && !qualified.startsWith("django.");
}

/**
 * A `RunPython` a helper module's function returned for a function its body defines
 * (`return migrations.RunPython(operation)` after `def operation(apps, schema_editor)`): the
 * name is qualified with the module's file, and that function's facts (with the module's
 * functions it calls) are added to `facts`, by the key it is found by, so the `RunPython` rules
 * read it as they read a function the migration imports.
 */
function runNestedFunctions(op: Operation, module: HelperModule, file: string, facts: Map<string, FunctionFacts>, imported: ReadImported): void {
  for (const run of runPythons([op])) {
    for (const key of ["code", "reverse_code"]) {
      const value = run.args[key];
      if (value?.kind !== "name" || !value.qualified.includes(NESTED_FUNCTION)) continue;
      const alias = `${file}:${value.qualified}`;
      const found = module.functionFacts(value.qualified, alias, value.range, file, imported);
      if (!found) continue;
      run.args[key] = { ...value, qualified: alias };
      // The first RunPython that runs a function is where its findings are.
      for (const fn of found) if (!facts.has(functionKey(fn))) facts.set(functionKey(fn), fn);
    }
  }
}

/** The `RunPython`s among `ops`, those inside `SeparateDatabaseAndState` and `RunSQL`'s state operations too, in order. */
function* runPythons(ops: readonly Operation[]): Generator<Operation> {
  for (const op of ops) {
    if (op.databaseOperations) yield* runPythons(op.databaseOperations);
    if (op.stateOperations) yield* runPythons(op.stateOperations);
    if (op.kind === "RunPython") yield op;
  }
}

/**
 * The `code` and `reverse_code` of the migration's `RunPython`s (nested ones too) that name a
 * function it imports from another module (`from .utils import backfill`, `utils.backfill`),
 * not Django's and not one the migration defines itself.
 */
function importedFunctionsRun(migration: ParsedMigration): Extract<PyValue, { kind: "name" }>[] {
  const own = new Set(migration.functions.filter((f) => !f.nestedIn).map((f) => f.name));
  const out: Extract<PyValue, { kind: "name" }>[] = [];
  for (const op of runPythons(migration.operations)) {
    if (op.unknown || op.builtBy !== undefined) continue;
    for (const value of [op.args.code, op.args.reverse_code]) {
      if (value?.kind !== "name" || value.qualified === value.name || own.has(value.name)) continue;
      if (!value.qualified.includes(".") || value.qualified.startsWith("django.")) continue;
      out.push(value);
    }
  }
  return out;
}

/**
 * The calls to a function the migration imports from another module (`fill(apps)` after `from
 * ._data import fill`, `_data.fill(apps)`) that the migration's own functions make, those a
 * `RunPython` runs and those they call: the call's text, the name the import qualifies it as,
 * and the calling function's range, where findings about the imported one are.
 */
function importedCallsRun(migration: ParsedMigration): { call: string; qualified: string; site: SourceRange; caller: FunctionFacts | null }[] {
  const own = new Map(migration.functions.filter((f) => !f.imported).map((f) => [functionKey(f), f] as const));
  if (own.size === 0) return [];
  const out: { call: string; qualified: string; site: SourceRange; caller: FunctionFacts | null }[] = [];
  const visited = new Set<string>();
  const visit = (key: string) => {
    const fn = own.get(key);
    if (!fn || visited.has(key)) return;
    visited.add(key);
    const imports = functionImports(migration.imports, fn);
    for (const call of fn.calls) {
      // A name the function imports itself hides the migration's function of that name.
      const local = importedByFunction(fn, call);
      if (own.has(call) && !local) {
        visit(call);
        continue;
      }
      // Each call, in order: the first caller of a function is where its findings are.
      const qualified = importedFunctionName(imports, call);
      if (qualified !== null) out.push({ call, qualified, site: fn.range, caller: local ? fn : null });
    }
  };
  for (const op of runPythons(migration.operations)) {
    if (op.unknown) continue;
    for (const value of [op.args.code, op.args.reverse_code]) {
      const name = runPythonFunctionName(value);
      if (name !== null) visit(name);
    }
  }
  return out;
}

/** A name the migration imports from a module that may be the project's (not Django's: `RunSQL.noop`). */
function importedName(value: PyValue | undefined): value is Extract<PyValue, { kind: "name" }> {
  return value?.kind === "name" && value.qualified.includes(".") && !value.qualified.startsWith("django.");
}

/** The `RunSQL`s (also on the database side of `SeparateDatabaseAndState`) whose SQL is a name the migration imports. */
function runSqlNamingImports(operations: readonly Operation[]): Operation[] {
  const out: Operation[] = [];
  for (const op of operations) {
    if (op.databaseOperations) out.push(...runSqlNamingImports(op.databaseOperations));
    if (op.kind === "RunSQL" && (importedName(op.args.sql) || importedName(op.args.reverse_sql))) out.push(op);
  }
  return out;
}

/** `value` placed at `range` (and its items too), so findings point at the migration's own text. */
function withRange(value: PyValue, range: SourceRange): PyValue {
  if (value.kind === "list" || value.kind === "tuple") return { ...value, items: value.items.map((item) => withRange(item, range)), range };
  return { ...value, range };
}

/**
 * A custom operation, or operations spread from a call (`*make_operations(...)`), called through a
 * module name (`_utils.make_x`, `app.helpers.Op`).
 */
function mayUseHelper(op: Operation): boolean {
  if (op.databaseOperations?.some(mayUseHelper) || op.stateOperations?.some(mayUseHelper)) return true;
  const called = op.spread === true || op.unknown?.reason.startsWith("custom operation ") === true;
  return called && op.unknown !== undefined && op.thirdParty === undefined && op.callee.includes(".") && !op.callee.startsWith("django.");
}

/**
 * The file of `module` as an import in a migration of `dir` finds it: `.x` and `..x.y` from
 * `dir`, `a.b` from `dir` or a directory above it; a package's `__init__.py`. Null when there is
 * none.
 */
export function moduleFile(dir: string, module: string): string | null {
  const dots = /^\.*/.exec(module)?.[0].length ?? 0;
  const parts = module.slice(dots).split(".").filter((p) => p !== "");
  if (parts.some((p) => !/^[\p{L}_][\p{L}\p{N}_]*$/u.test(p))) return null;
  const candidate = (root: string): string | null => {
    const base = path.join(root, ...parts);
    if (parts.length > 0 && isFile(`${base}.py`)) return `${base}.py`;
    return isFile(path.join(base, "__init__.py")) ? path.join(base, "__init__.py") : null;
  };
  if (dots > 0) {
    let root = dir;
    for (let i = 1; i < dots; i++) root = path.dirname(root);
    return candidate(root);
  }
  let root = dir;
  for (let i = 0; i < MAX_ANCESTORS; i++) {
    // The first package of the module must be a directory here (or the module a file).
    const head = path.join(root, parts[0] ?? "");
    if (isDirectory(head) || (parts.length === 1 && isFile(`${head}.py`))) {
      const found = candidate(root);
      if (found) return found;
    }
    const up = path.dirname(root);
    if (up === root) break;
    root = up;
  }
  return null;
}

function isFile(file: string): boolean {
  return kindOf(file) === "file";
}

function isDirectory(dir: string): boolean {
  return kindOf(dir) === "directory";
}

/** Whether `file` is a file or a directory (following links); null when neither or unreadable (ENOTDIR, EACCES, ELOOP ...). */
function kindOf(file: string): "file" | "directory" | null {
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    return stat?.isFile() ? "file" : stat?.isDirectory() ? "directory" : null;
  } catch {
    return null;
  }
}
