/**
 * Which model `settings.AUTH_USER_MODEL` names when the configuration does not say: the project's
 * own user model, read from its migrations.
 *
 * Every concrete subclass of `AbstractBaseUser` has the two fields that class declares, `password`
 * and `last_login`, in its `CreateModel` (the autodetector writes inherited fields out), and Django's
 * own `auth.User` is the one model whose options say `"swappable": "AUTH_USER_MODEL"`. The project
 * swaps the user model when exactly one such model of its own exists, and nothing contradicts it:
 * - a migration points a relation at `auth.User` by name: Django refuses a relation to a swapped-out
 *   model (fields.E301), so `auth.User` is the user model;
 * - the candidate's app depends on `swappable_dependency(settings.AUTH_USER_MODEL)` in the migration
 *   that creates it or an earlier one: the autodetector resolves that dependency inside the user
 *   model's own app, so the user model lives elsewhere. A later one proves nothing: Django ignores
 *   a `__first__` dependency on the migration's own app (Funkwhale users 0014, long after 0001
 *   created `users.User`).
 * With two candidates, or none, `auth.User` stays the answer, as Django's default.
 */
import type { Operation, PyValue } from "./types.js";

/** The migration facts the inference reads. */
interface MigrationFacts {
  app: string;
  id: string;
  dependencies: readonly { swappable?: string }[];
  operations: readonly Operation[];
}

/** The inferred user model (`app.Model`) and the migration that creates it. */
export interface InferredUserModel {
  model: string;
  migration: string;
}

const SETTING = "AUTH_USER_MODEL";

function fieldNames(op: Operation): Set<string> {
  const names = new Set<string>();
  const fields = op.args.fields;
  if (fields?.kind !== "list" && fields?.kind !== "tuple") return names;
  for (const item of fields.items) {
    const name = (item.kind === "tuple" || item.kind === "list") && item.items[0]?.kind === "str" ? item.items[0].value : null;
    if (name) names.add(name);
  }
  return names;
}

function isSwappableUser(op: Operation): boolean {
  const options = op.args.options;
  return options?.kind === "dict" && options.entries.some((e) => e.key.kind === "str" && e.key.value === "swappable");
}

/** Whether `test` holds for a value or anything nested in it (call arguments, items, dict values). */
function anyNested(value: PyValue, test: (value: PyValue) => boolean): boolean {
  if (test(value)) return true;
  switch (value.kind) {
    case "call":
      return value.args.some((v) => anyNested(v, test)) || Object.values(value.kwargs).some((v) => anyNested(v, test));
    case "list":
    case "tuple":
    case "set":
      return value.items.some((v) => anyNested(v, test));
    case "dict":
      return value.entries.some((e) => anyNested(e.value, test));
    default:
      return false;
  }
}

/** Whether a value anywhere in an operation's arguments is `settings.AUTH_USER_MODEL`. */
function namesSetting(value: PyValue): boolean {
  return anyNested(value, (v) => v.kind === "name" && (v.name.endsWith(`.${SETTING}`) || v.name === SETTING));
}

/** Whether a value anywhere in an operation's arguments is a relation to `auth.User` by name. */
function pointsAtAuthUser(value: PyValue): boolean {
  return anyNested(value, (v) => {
    if (v.kind !== "call") return false;
    const to = v.kwargs.to ?? (/(ForeignKey|OneToOneField|ManyToManyField|ForeignObject)$/.test(v.callee) ? v.args[0] : undefined);
    return to?.kind === "str" && to.value.toLowerCase() === "auth.user";
  });
}

function* allOperations(ops: readonly Operation[]): Generator<Operation> {
  for (const op of ops) {
    yield op;
    if (op.stateOperations) yield* allOperations(op.stateOperations);
    if (op.databaseOperations) yield* allOperations(op.databaseOperations);
  }
}

/**
 * The project's user model, or null when `auth.User` (Django's default) is the better reading.
 * Null too when no migration refers to `settings.AUTH_USER_MODEL`: then it changes nothing.
 */
export function inferAuthUserModel(migrations: readonly MigrationFacts[]): InferredUserModel | null {
  const candidates = new Map<string, InferredUserModel & { app: string }>();
  // Per app, the first migration (by name, as the app's numbering orders them) that depends on the setting.
  const dependsOnSetting = new Map<string, string>();
  // The setting is referred to by a swappable dependency, or by a relation alone in the user
  // model's own app, where makemigrations writes no such dependency (galaxy_ng 0001).
  let refers = false;
  for (const m of migrations) {
    if (m.dependencies.some((d) => d.swappable === SETTING)) {
      const first = dependsOnSetting.get(m.app);
      if (first === undefined || m.id < first) dependsOnSetting.set(m.app, m.id);
      refers = true;
    }
    for (const op of allOperations(m.operations)) {
      if (Object.values(op.args).some(pointsAtAuthUser)) return null;
      if (!refers && Object.values(op.args).some(namesSetting)) refers = true;
      if (op.kind !== "CreateModel" || op.args.name?.kind !== "str" || isSwappableUser(op)) continue;
      const names = fieldNames(op);
      if (!names.has("password") || !names.has("last_login")) continue;
      const model = `${m.app}.${op.args.name.value}`;
      const key = model.toLowerCase();
      if (!candidates.has(key)) candidates.set(key, { model, migration: m.id, app: m.app });
    }
  }
  if (!refers) return null;
  const found = [...candidates.values()].filter((c) => {
    const first = dependsOnSetting.get(c.app);
    return first === undefined || first > c.migration;
  });
  const [only] = found;
  return only && found.length === 1 && candidates.size === 1 ? { model: only.model, migration: only.migration } : null;
}
