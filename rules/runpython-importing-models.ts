import type { Rule } from "../src/engine/rule-types.js";
import { adviceDef, definedIn, functionId, functionsRunBy, importedLocalName, runPythonFunctionName, usesName } from "../src/engine/run-python-facts.js";
import { oncePer } from "../src/util/collections.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import type { Operation, SourceRange } from "../src/model/types.js";
import { code } from "../src/advice/snippets.js";

/** RS403: a `RunPython` function that uses the live model classes instead of `apps.get_model`. */
/** For each function a top-level RunPython of the migration runs, the first such RunPython (once per migration). */
const firstRunPythonOf = oncePer((migration: ParsedMigration): ReadonlyMap<string, Operation> => {
  const first = new Map<string, Operation>();
  for (const op of migration.operations) {
    if (op.kind !== "RunPython" || op.unknown) continue;
    for (const v of [op.args.code, op.args.reverse_code]) {
      const name = runPythonFunctionName(v);
      if (name !== null) for (const fn of functionsRunBy(migration, name)) if (!first.has(functionId(fn))) first.set(functionId(fn), op);
    }
  }
  return first;
});

export const runpythonImportingModels: Rule = {
  meta: {
    code: "RS403",
    name: "runpython-importing-models",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H46"],
    docs: {
      summary: "A `RunPython` function that imports model classes instead of using `apps.get_model`",
      what: "Flags model classes imported from a `models` module (inside the function `RunPython` runs, in module functions it calls, or at module level and used by them) instead of being fetched with `apps.get_model`, and classes queried through a project's `models` module imported whole (`from core import models`, then `models.Timer.objects...`). A function the migration imports from a module of the project (`from ._data import backfill`, at the top of the migration or in the body of the function that calls it) is read in that module, with that module's imports, and reported at the `RunPython` that runs it, or at the `def` of the migration's function that calls it. A function defined inside a helper function that returns the `RunPython` (a factory, of the migration or of a helper module) is read too, once per migration, with the functions the factory also defines that it calls. Django's own contrib models count too (`from django.contrib.auth.models import Group`: `User`, `Group`, `Permission`, `ContentType`, `Site`, `LogEntry`, `Session`, `FlatPage`, `Redirect`), not its abstract classes or managers. When the `models` module is a file of the project, names it defines as something other than a model (a dataclass, an enum or choices class, a function, a constant) are not reported.",
      why: "The imported class is the current code's model, not the model as of this migration. Once a later release adds or renames a field, the migration selects or inserts columns that do not exist yet at this point in the history, so `migrate` fails on fresh databases (CI, new environments) and on environments that are behind.",
      recipe: ["Fetch the historical model from the `apps` argument: `Book = apps.get_model(\"library\", \"Book\")`, and drop the import."],
      severityReason: "Warning: it works today, and breaks later when the model changes; nothing fails during this deploy.",
      bad: `from django.db import migrations


def backfill_pages(apps, schema_editor):
    from library.models import Book

    Book.objects.filter(pk__lt=100).update(pages=1)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(backfill_pages, migrations.RunPython.noop)]`,
      good: `migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)`,
    },
  },
  operationKinds: ["RunPython"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "RunPython" || op.unknown || ctx.effect === "state") return;
    const forward = op.args.code;
    const reverse = op.args.reverse_code;
    const names = [forward, reverse].flatMap((v) => {
      const name = runPythonFunctionName(v);
      return name === null ? [] : [name];
    });
    // A function an earlier RunPython of this migration runs (forwards there, backwards here) was
    // reported there, at the same place: once per migration.
    const first = firstRunPythonOf(ctx.migration);
    const reported = new Set<string>();
    const runs = names.map((n) => functionsRunBy(ctx.migration, n));
    // The functions the RunPython runs itself (Django passes them the app registry first), not those they call.
    const direct = new Set(runs.map((fns) => fns[0]));
    for (const fn of runs.flat()) {
      if (ctx.parent === null && first.get(functionId(fn)) !== op) continue;
      const local = fn.modelImports.map(importedLocalName).filter((n) => /^[A-Z]/.test(n) && usesName(fn.calls, n));
      // The module-level imports of the module the function is in: the migration's, or an imported function's own.
      const imports: { name: string; module: string; range?: SourceRange }[] = fn.imported?.moduleModelImports ?? ctx.migration.modelImports;
      const module = imports.filter((m) => /^[A-Z]/.test(m.name) && usesName(fn.calls, m.name));
      // `from core import models`, then `models.Timer.objects...` (babybuddy core 0027): the class
      // reached through the imported models module, by the name the advice binds it to.
      const viaModule = modelsModuleUses(fn.calls, { ...(fn.imported ? {} : ctx.migration.imports), ...(fn.imports ?? {}) });
      // A name the function rebinds to `apps.get_model(...)` is the historical model there (Tandoor cookbook 0157).
      const shadowed = new Set(fn.historicalModels ?? []);
      for (const name of [...local, ...module.map((m) => m.name), ...viaModule.keys()]) {
        if (shadowed.has(name)) continue;
        const key = `${functionId(fn)}:${name}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const moduleImport = module.find((m) => m.name === name);
        const through = viaModule.get(name);
        // `from ..models import X` in a migration is its own app's models (GeoNode documents 0036).
        // An import in the function itself: its module (`from django.contrib.auth.models import Group`, EvaP grades 0004).
        const localModule = fn.imports?.[name]?.replace(/\.\w+$/, "");
        // The package a `models` module or package is in (`pretalx.common.models.settings` is `common`'s).
        const appOf = (module: string) => {
          const parts = module.split(".");
          const at = parts.lastIndexOf("models");
          return at > 0 ? parts[at - 1] : at === 0 ? undefined : parts.pop();
        };
        const guessed = (moduleImport ? appOf(moduleImport.module) : through ? through.app : localModule ? appOf(localModule) : null) || ctx.migration.app;
        // The class as its module names it (`Facility as RealFacility`, kolibri), and the label of
        // the app whose state has it when that is one app: a package's directory is not always its
        // label (kolibri's `kolibri.core.auth` is `kolibriauth`).
        const qualified = through ? `${through.module}.${name}` : (fn.imports?.[name] ?? (fn.imported ? undefined : ctx.migration.imports[name]));
        const model = qualified?.split(".").pop() || name;
        const owners = new Set([...ctx.state.models.values()].filter((m) => m.name === model).map((m) => m.app));
        // A class no migration before this one creates, in an app the run has: maybe no model at all
        // (pretalx's `GlobalSettings`, a settings wrapper in `common.models`), maybe one a later
        // migration creates; the advice says so instead of naming a model as if the state had it.
        const unknownHere = owners.size === 0 && !qualified?.startsWith("django.") && ctx.appsInRun.has(guessed);
        const app = owners.size === 1 && !qualified?.startsWith("django.") ? ([...owners][0] as string) : guessed;
        const def = adviceDef(fn, direct.has(fn));
        ctx.report({
          range: moduleImport?.range ?? fn.range,
          message: `\`${fn.name}\`${definedIn(fn)} uses the imported model class \`${through ? `${through.alias}.${name}` : name}\` instead of \`apps.get_model\`.`,
          help: [
            `The imported \`${name}\` is the model as the current code defines it, not as it is at this migration. When a later release changes it (a new field, a renamed column), this migration queries columns that do not exist yet at this point, and \`migrate\` fails on fresh and lagging databases.`,
            `1. Use the historical model Django passes in${def.added ? ` (\`${fn.name}\` takes no \`apps\`: add it, and pass it on where \`${fn.name}\` is called)` : ""}:\n${code(`${def.line}\n    ${name} = ${def.apps}.get_model(${JSON.stringify(app)}, ${JSON.stringify(model)})\n    ...`)}`,
            through
              ? `2. Use \`${name}\` where the function says \`${through.alias}.${name}\`, and remove the \`${through.alias}\` import (\`${through.module}\`) from ${fn.imported ? `\`${fn.imported.file}\`` : "the migration"} once nothing else uses it.`
              : `2. Remove the \`${name}\` import from ${fn.imported ? `\`${fn.imported.file}\`` : "the migration"}.`,
            ...(unknownHere
              ? [
                  `No migration of \`${guessed}\` before this one creates a model \`${model}\`: if \`${model}\` is no model (a wrapper or a helper class), this finding does not apply; if a later migration creates it, \`apps.get_model\` cannot give it here, and this function runs before its table exists.`,
                ]
              : []),
          ],
        });
      }
    }
  },
};

/**
 * Model classes a function reaches through a project's `models` module it imports whole (`from
 * core import models`, `import core.models as models`), queried through a manager
 * (`models.Timer.objects...`): class name -> the alias, the module and its app. Django's own
 * `models` (`django.db.models`) is not a project's.
 */
function modelsModuleUses(calls: readonly string[], imports: Readonly<Record<string, string>>): Map<string, { alias: string; module: string; app: string }> {
  const found = new Map<string, { alias: string; module: string; app: string }>();
  for (const [alias, qualified] of Object.entries(imports)) {
    if (qualified.startsWith("django.") || !/(^|\.)models$/.test(qualified)) continue;
    const app = qualified.replace(/\.?models$/, "").split(".").pop() ?? "";
    const prefix = `${alias}.`;
    for (const call of calls) {
      if (!call.startsWith(prefix)) continue;
      const model = /^([A-Z]\w*)\.(?:objects|_default_manager|_base_manager|\w+_objects)\b/.exec(call.slice(prefix.length))?.[1];
      if (model && !found.has(model)) found.set(model, { alias, module: qualified, app });
    }
  }
  return found;
}
