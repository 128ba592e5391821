import type { Rule } from "../src/engine/rule-types.js";
import { code } from "../src/advice/snippets.js";
import { adviceDef, definedIn, functionId, functionsRunBy, runPythonFunctionName } from "../src/engine/run-python-facts.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { oncePer } from "../src/util/collections.js";

/** Calls that touch every row of a table in one statement or load it all into memory. */
const WHOLE_TABLE = /^(\w+)\.objects(\.all\(\))?\.(update|delete)$/;
const LOAD_ALL = /^(\w+)\.objects\.all\(\)\.?$|^(\w+)\.objects\.all$/;

/**
 * Wrappers that page through a queryset in keyset or offset chunks instead of loading it: Sentry's
 * `RangeQuerySetWrapper` (and its progress-bar forms; `LIMIT 1000` queries by primary key),
 * Django's `Paginator`, and the common `chunked`/`queryset_iterator` helpers.
 */
const CHUNKED = /(^|\.)(RangeQuerySetWrapper\w*|Paginator|chunked|chunked_queryset|queryset_iterator)$/;

/**
 * Whether the calls iterate a whole table as model instances: `Model.objects.all()` that no
 * further call narrows to fewer rows or to plain values (`.values(...)`, `.filter(...)` ...). Plane 0112 reads
 * `list(Project.objects.all().values("id", "workspace_id"))`, two columns, and saves other rows.
 */
const NARROWING = /^(values|values_list|filter|exclude|count|exists|first|last|aggregate|none)\b/;

/** The model (a class name, or the variable that holds it) whose every row the calls load, or null. */
function loadedWholeTable(calls: readonly string[]): { model: string; call: string } | null {
  const chains = calls.map((c) => unordered(unrouted(c)));
  for (const [i, c] of chains.entries()) {
    const all = LOAD_ALL.exec(c);
    if (!all) continue;
    // `Model.objects.using(alias)` is the whole table only when nothing is called on it
    // (`.using(alias).get_or_create(...)`, authentik's one-row data migrations, is not).
    const raw = calls[i] as string;
    if (/\.(using|db_manager)$/.test(raw) && calls.some((other) => other.startsWith(`${raw}().`))) continue;
    const model = (all[1] ?? all[2]) as string;
    const prefix = `${model}.objects.all().`;
    if (!chains.some((other) => other.startsWith(prefix) && NARROWING.test(other.slice(prefix.length)))) return { model, call: `${raw}()`.replace(/\(\)/g, "(...)").replace(/\.all\(\.\.\.\)/g, ".all()") };
  }
  return null;
}

/** The model whose whole queryset a chain iterates with `.iterator()` (`Session.objects.iterator()`), or null. */
function iteratedModel(calls: readonly string[]): string | null {
  for (const call of calls) {
    const match = /^(\w+)\.objects(?:\.all\(\))?\.iterator$/.exec(unordered(unrouted(call)));
    if (match) return match[1] as string;
  }
  return null;
}

/**
 * A chain with the calls that order, join or pick the columns of a queryset without narrowing its
 * rows (`.order_by(...)`, `.select_related(...)`, `.prefetch_related(...)`, `.only(...)`,
 * `.defer(...)`) read as `.all()`: `Page.objects.order_by(...)` loads every row as `.all()` does
 * (django CMS 0005), and so does `ImportJob.objects.all().only("mbid")` (Funkwhale music 0015).
 */
function unordered(chain: string): string {
  return chain
    .replace(/\.objects(?:\.all\(\))?(?:\.(?:order_by|select_related|prefetch_related|only|defer|annotate)\(\))+/g, ".objects.all()")
    .replace(/\.objects(?:\.all\(\))?(?:\.(?:order_by|select_related|prefetch_related|only|defer|annotate)\(\))*\.(?:order_by|select_related|prefetch_related|only|defer|annotate)$/, ".objects.all");
}

/**
 * A call's queryset chain as the patterns above read it: without the calls that only choose the
 * database (`.using(alias)`, the way wagtail writes every data migration, and `.db_manager(alias)`),
 * and with Django's other manager names (`_default_manager`, `_base_manager`), managers named like
 * it (`all_objects`, ephios core 0023: a manager with `use_in_migrations`) and any other attribute
 * of a model class a queryset method is called on (PeeringDB's `handleref`) as `objects`.
 * Callee texts keep a call's parentheses, not its arguments (`Book.objects.using().all().update`).
 */
function unrouted(call: string): string {
  return call
    .replace(/^(\w+)\.(?:_default_manager|_base_manager|\w+_objects)\b/, "$1.objects")
    // A manager of another name on a model class (PeeringDB's `handleref`, its models' only
    // manager), called for a queryset: a class's other attributes are not.
    .replace(/^([A-Z]\w*)\.(?!objects\b)([a-z]\w*)(?=\.(?:all|update|delete|iterator|order_by|select_related|prefetch_related|only|defer|annotate|bulk_update|filter|exclude|values|values_list|using|db_manager)\b)/, "$1.objects")
    .replace(/\.objects\.db_manager\(\)/, ".objects")
    .replace(/\.using\(\)/g, "")
    // `Model.objects.using(alias)` itself is the queryset of every row (BookWyrm iterates it).
    .replace(/\.objects\.(using|db_manager)$/, ".objects.all");
}

/**
 * The functions already reported in a migration: the finding is at the function, so a function
 * several `RunPython`s run (a helper factory called twice makes two) is reported once.
 */
const reportedIn = oncePer((_migration: ParsedMigration) => new Set<string>());

/** RS405: `RunPython` that updates or deletes a whole table in one statement, or loads it all. */
export const runpythonUpdatingAllRows: Rule = {
  meta: {
    code: "RS405",
    name: "runpython-updating-all-rows",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    unobservable: "Row locks, memory and WAL volume grow with the table; on a small table it is instant.",
    hazards: ["H42"],
    docs: {
      summary: "A `RunPython` backfill that updates or deletes a whole table at once",
      what: "Flags, in the function `RunPython` runs (and module functions it calls; a function imported from a module of the project is read there), `Model.objects.update(...)`, `Model.objects.all().update(...)` and `Model.objects.all().delete()` (one statement over every row), and `Model.objects.all()` iterated with `.save()` or written back with `bulk_update` but without `.iterator()` or a chunking wrapper (`RangeQuerySetWrapper`, `Paginator`; every row loaded into memory); in an atomic migration, also with them (each row saved stays locked until the migration commits); also through `.using(alias)`, `.db_manager(alias)`, `_default_manager`, `_base_manager`, managers named `<something>_objects` and any other manager a queryset method is called on (`Model.handleref.all()`; the recipe keeps its name). `.order_by`, `.select_related`, `.prefetch_related`, `.only`, `.defer` and `.annotate` narrow no rows and count as `.all()`; in an atomic migration a loop over `.iterator()` that writes the rows back with `bulk_update` in batches is reported like one that saves them. Filtered querysets are not reported: rollsafe cannot know how many rows they match. A function defined inside a helper function that returns the `RunPython` (a factory, of the migration or of a helper module) is read too; each function is reported once per migration, however many `RunPython`s run it.",
      why: "One UPDATE or DELETE over the whole table locks every row until the migration commits (blocking the application's writes to them) and writes WAL for the whole table at once; loading every row into memory can exhaust the migration process.",
      recipe: [
        "Iterate primary keys with `.iterator(chunk_size=...)` and update or delete in batches of 1,000–10,000 rows.",
        "Run the backfill in its own migration with `atomic = False`, post-deploy for large tables.",
      ],
      severityReason: "Warning: harmless on a small table, an outage on a large one; rollsafe cannot know the size.",
      bad: `from django.db import migrations


def reset_pages(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    Book.objects.update(pages=0)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(reset_pages, migrations.RunPython.noop)]`,
      good: `migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)`,
    },
  },
  operationKinds: ["RunPython"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "RunPython" || op.unknown || ctx.effect === "state") return;
    const forward = runPythonFunctionName(op.args.code);
    if (forward === null) return;
    const reported = reportedIn(ctx.migration);
    const runs = functionsRunBy(ctx.migration, forward);
    for (const fn of runs) {
      const wholeCall = fn.calls.find((c) => WHOLE_TABLE.test(unrouted(c)));
      const whole = wholeCall === undefined ? null : WHOLE_TABLE.exec(unrouted(wholeCall));
      const saves = fn.calls.some((c) => c.endsWith(".save"));
      const unchunked = !fn.calls.some((c) => c.endsWith(".iterator") || CHUNKED.test(c));
      const loadedCall = unchunked && (saves || fn.calls.some((c) => c.endsWith(".bulk_update"))) ? loadedWholeTable(fn.calls) : null;
      const all = loadedCall?.model ?? null;
      // Iterated in chunks (`.iterator()`, a paginator) and saved row by row in an atomic
      // migration: memory is bounded, but each row saved stays locked until the migration commits
      // (Read the Docs builds 0032: every Build saved inside one transaction).
      // The model iterated in chunks is the one saved row by row (not a lookup table read into a
      // dict first), and a loop that makes new instances saves inserts, not the rows it reads
      // (IETF datatracker meeting 0023: `SchedulingEvent()` for each Session).
      const iterated = iteratedModel(fn.calls);
      const constructs = fn.calls.some((c) => /^[A-Z]\w*$/.test(c) && !/(Error|Exception|Warning)$/.test(c));
      // Written back in batches with `bulk_update` instead (pontoon base 0111): the same locks.
      const lockedModel = !unchunked && ctx.migration.atomic && !constructs ? (iterated ?? loadedWholeTable(fn.calls)?.model ?? null) : null;
      const lockedBulk = lockedModel !== null && !saves && fn.calls.some((c) => unrouted(c) === `${lockedModel}.objects.bulk_update`);
      const lockedLoop = lockedModel !== null && (saves || lockedBulk) ? lockedModel : null;
      // `bulk_update` writes back the loaded rows only when it is the loaded model's (zulip 0459
      // loads every Realm and bulk-updates each realm's user groups).
      const bulkUpdates = all !== null && fn.calls.some((c) => unrouted(c) === `${all}.objects.bulk_update`);
      const loaded = saves || bulkUpdates ? all : null;
      if ((!whole && loaded === null && lockedLoop === null) || reported.has(functionId(fn))) continue;
      reported.add(functionId(fn));
      // The model as the function names it (pretix's `rule_model.objects.all()`), never a made-up name.
      const model = whole?.[1] ?? loaded ?? lockedLoop ?? "Model";
      // A model of the app under its own name (`Book = apps.get_model(...)`), or a variable the
      // function binds otherwise (a loop's `model`, netbox's `ChildModel = apps.get_model("ipam", model)`).
      const variable = !/^[A-Z]/.test(model) || ctx.model(model) === undefined;
      // The function RunPython runs itself is the first (Django passes it the app registry first).
      const def = adviceDef(fn, fn === runs[0]);
      // `.all().delete()` deletes each batch (pontoon base 0108); the rest update it.
      const deletes = whole?.[3] === "delete";
      const batchWork = deletes ? "delete()" : "update(...)";
      // The manager as the function names it: a model whose only manager is `handleref` (PeeringDB) has no `objects`.
      const manager = fn.calls.map((c) => new RegExp(`^${model}\\.([A-Za-z_]\\w*)\\.`).exec(c)?.[1]).find((m) => m !== undefined && m !== "using" && m !== "db_manager") ?? "objects";
      ctx.report({
        range: fn.range,
        message: whole
          ? `\`${fn.name}\`${definedIn(fn)} ${whole[3] === "update" ? "updates" : "deletes"} every row of ${variable ? `the model in \`${model}\`` : `\`${model}\``} in one statement (\`${wholeCall?.replace(/\.(using|db_manager)\(\)/g, ".$1(...)")}\`).`
          : loaded === null
            ? `\`${fn.name}\`${definedIn(fn)} ${lockedBulk ? "writes back every row of" : "saves every row of"} ${variable ? `the model in \`${model}\`` : `\`${model}\``} ${lockedBulk ? "in batches (`bulk_update`)" : "one by one"} inside this atomic migration's transaction.`
            : `\`${fn.name}\`${definedIn(fn)} loads every row of a table into memory (\`${loadedCall?.call ?? `${all}.objects.all()`}\` without \`.iterator()\`) and ${saves ? "saves them one by one" : "writes them back with `bulk_update`"}.`,
        help: [
          whole
            ? `A single statement over the whole table keeps every row locked until the migration commits, so the application's writes to them wait${ctx.migration.atomic ? " (this migration is atomic, so that is the end of the whole migration)" : ""}; it also writes WAL for the whole table at once.`
            : loaded === null
              ? `Reading in chunks bounds the migration's memory, not its locks: each row ${lockedBulk ? "written back" : "saved"} stays locked until the migration commits, so by the end of the loop every row of the table is, and the application's writes to any of them wait until the whole loop ends.`
              : `Every row is loaded into the migration process at once, which can exhaust its memory on a large table${ctx.migration.atomic ? ", and each row written stays locked until the migration commits (it is atomic), so the application's writes to those rows wait until the whole loop ends" : ""}.`,
          `1. Work in batches of primary keys${def.added ? ` (\`${fn.name}\` takes no \`apps\`: add it, and pass it on where \`${fn.name}\` is called)` : ""}:\n${code(
            [
              def.line,
              variable ? `    ...  # bind ${model} as the function does` : `    ${model} = ${def.apps}.get_model(${JSON.stringify(ctx.migration.app)}, ${JSON.stringify(model)})`,
              "    batch = []",
              `    for pk in ${model}.${manager}.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=5000):`,
              "        batch.append(pk)",
              "        if len(batch) == 5000:",
              `            ${model}.${manager}.filter(pk__in=batch).${batchWork}`,
              "            batch = []",
              "    if batch:",
              `        ${model}.${manager}.filter(pk__in=batch).${batchWork}`,
            ].join("\n"),
          )}`,
          `2. Put the ${deletes ? "deletion" : "backfill"} in its own migration with \`atomic = False\` (each batch then commits on its own), post-deploy for large tables.`,
        ],
      });
    }
  },
};
