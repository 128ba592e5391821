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

/** What a walk of an operation's arguments found (`referencesOf`). */
const POINTS_AT_AUTH_USER = 1;
const NAMES_SETTING = 2;

/**
 * The references anywhere in a value (call arguments, items, dict values): a relation to
 * `auth.User` by name (`POINTS_AT_AUTH_USER`), `settings.AUTH_USER_MODEL` (`NAMES_SETTING`). One
 * walk for both, without closures: it reads every argument of every operation of the run.
 */
function referencesOf(value: PyValue): number {
  switch (value.kind) {
    case "name":
      return value.name === SETTING || value.name.endsWith(`.${SETTING}`) ? NAMES_SETTING : 0;
    case "call": {
      const to = value.kwargs.to ?? (value.args.length > 0 && RELATION_CLASS.test(value.callee) ? value.args[0] : undefined);
      if (to?.kind === "str" && to.value.toLowerCase() === "auth.user") return POINTS_AT_AUTH_USER;
      let found = 0;
      for (const arg of value.args) if ((found |= referencesOf(arg)) & POINTS_AT_AUTH_USER) return found;
      for (const key in value.kwargs) if ((found |= referencesOf(value.kwargs[key] as PyValue)) & POINTS_AT_AUTH_USER) return found;
      return found;
    }
    case "list":
    case "tuple":
    case "set": {
      let found = 0;
      for (const item of value.items) if ((found |= referencesOf(item)) & POINTS_AT_AUTH_USER) return found;
      return found;
    }
    case "dict": {
      let found = 0;
      for (const entry of value.entries) if ((found |= referencesOf(entry.value)) & POINTS_AT_AUTH_USER) return found;
      return found;
    }
    default:
      return 0;
  }
}

const RELATION_CLASS = /(ForeignKey|OneToOneField|ManyToManyField|ForeignObject)$/;

/** The operations of a list, those inside `SeparateDatabaseAndState` after their parent. */
function eachOperation(ops: readonly Operation[], visit: (op: Operation) => boolean): boolean {
  for (const op of ops) {
    if (!visit(op)) return false;
    if (op.stateOperations && !eachOperation(op.stateOperations, visit)) return false;
    if (op.databaseOperations && !eachOperation(op.databaseOperations, visit)) return false;
  }
  return true;
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
    const read = eachOperation(m.operations, (op) => {
      let found = 0;
      for (const key in op.args) if ((found |= referencesOf(op.args[key] as PyValue)) & POINTS_AT_AUTH_USER) return false;
      if (found & NAMES_SETTING) refers = true;
      if (op.kind !== "CreateModel" || op.args.name?.kind !== "str" || isSwappableUser(op)) return true;
      const names = fieldNames(op);
      if (!names.has("password") || !names.has("last_login")) return true;
      const model = `${m.app}.${op.args.name.value}`;
      const key = model.toLowerCase();
      if (!candidates.has(key)) candidates.set(key, { model, migration: m.id, app: m.app });
      return true;
    });
    // A relation to `auth.User` by name: it is the user model.
    if (!read) return null;
  }
  if (!refers) return null;
  const found = [...candidates.values()].filter((c) => {
    const first = dependsOnSetting.get(c.app);
    return first === undefined || first > c.migration;
  });
  const [only] = found;
  return only && found.length === 1 && candidates.size === 1 ? { model: only.model, migration: only.migration } : null;
}
