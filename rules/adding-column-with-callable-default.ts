import { fieldOperation } from "../src/engine/resolved-operation.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { laterSqlStatements } from "../src/engine/sql-facts-for-operation.js";
import type { PyValue } from "../src/model/types.js";
import { autoTimestamp, className, isConstantDefault, literalBool } from "../src/state/model-state.js";
import { addFieldSnippet, alterFieldSnippet, code, defaultOnlyAlterField, djangoHas, fieldWith, moduleImports, postDeployMarker, py, pyValue } from "../src/advice/snippets.js";

/** Callables whose every call returns an equal value: evaluating them once changes nothing. */
const CONSTANT_CALLABLES = new Set(["dict", "list", "set", "tuple", "str", "int", "float", "bool", "bytes", "frozenset", "decimal.Decimal", "datetime.timedelta", "collections.OrderedDict"]);

/** Callables known to return a different value on each call. */
const PER_CALL = /^(uuid\.uuid[1-8]|(django\.utils\.)?timezone\.now|(datetime\.)?(datetime|date)\.(now|utcnow|today)|time\.time(_ns)?|random\.\w+|secrets\.\w+|os\.urandom)$/;

/**
 * Whether a `default=` value is a callable Django calls (once, for the whole table) when it adds
 * the column. A dotted name in a migration is how makemigrations writes a function reference;
 * ALL_CAPS names are constants, and builtin constructors return equal values every time.
 */
export function perRowCallable(value: PyValue | null): string | null {
  if (!value || value.kind !== "name") return null;
  const qualified = value.qualified || value.name;
  if (CONSTANT_CALLABLES.has(qualified) || CONSTANT_CALLABLES.has(value.name) || isConstantDefault(value)) return null;
  if (PER_CALL.test(qualified) || PER_CALL.test(value.name)) return value.name;
  const last = value.name.slice(value.name.lastIndexOf(".") + 1);
  // A bare name counts when it is imported from a module (wger's `from wger.utils.uuid import
  // uuid7`, `default=uuid7`): a function, as a module's lower-case names are.
  if (/^[A-Z0-9_]+$/.test(last) || !qualified.includes(".")) return null;
  return value.name;
}

/** Whether a later `RunSQL` of the migration (top-level or run by a `RunPython`) updates `column` on every row of `table`. */
function rewrittenLater(ctx: OperationContext, table: string, column: string): boolean {
  return laterSqlStatements(ctx).some((fact) => fact.kind === "update" && fact.table === table && (fact.schema ?? "public") === "public" && !fact.hasWhere && fact.columns.includes(column));
}

/** RS113: `AddField` whose Python `default` is a callable, evaluated once for every existing row. */
export const addingColumnWithCallableDefault: Rule = {
  meta: {
    code: "RS113",
    name: "adding-column-with-callable-default",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H15", "H08"],
    docs: {
      summary: "Adding a column whose default is a Python callable such as `uuid.uuid4` or `timezone.now`",
      what: "Flags `AddField` on an existing managed table when `default=` is a callable that returns a different value on each call (`uuid.uuid4`, `timezone.now`, `secrets.token_hex`, a project function, unless its module shows it returns the same value on every call: a literal, as a JSONField's default function often does, a setting, or a constant by its upper-case name), or the field has `auto_now`/`auto_now_add` and no `default` (Django fills the existing rows with one `timezone.now()`), and the field has no `db_default`. A one-off default (`preserve_default=False`, makemigrations' prompt for existing rows) is flagged only on a unique field: one shared value for the rows already there is what it asks for. Nor is a column a later `UPDATE` of the same migration (in `RunSQL`, or run by a `RunPython`) sets on every row: the shared value does not stay.",
      why: "Django calls the default once, in Python, and adds the column with that single value as its database default: every existing row gets the same UUID or timestamp. With `unique=True` the migration fails on any table with two rows (`could not create unique index`, `Key (...) is duplicated`). The default is then dropped: rows the old release inserts during the rollout get NULL in a nullable column, and fail on a NOT NULL one (see `adding-not-nullable-column`).",
      recipe: [
        "Add the column nullable, without relying on the default for existing rows.",
        "Backfill each existing row with its own value in a batched data migration.",
        "Then add uniqueness (concurrent index) and NOT NULL in later, post-deploy migrations.",
      ],
      severityReason: "Warning: existing rows silently share one value, which may or may not matter (a creation timestamp is often acceptable). Error when the field is unique or a primary key, because the migration then fails on any table with two or more rows.",
      bad: `migrations.AddField(
    model_name="book",
    name="public_id",
    field=models.UUIDField(default=uuid.uuid4, null=True),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="public_id",
    field=models.UUIDField(null=True),
)`,
    },
  },
  operationKinds: ["AddField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AddField" || ctx.effect === "state" || op.unknown) return;
    const added = fieldOperation(ctx);
    if (!added) return;
    const { model, name, after: field, call } = added;
    if (field.hasDbDefault || field.relation?.kind === "m2m" || field.generated) return;
    // `auto_now`/`auto_now_add` with no default: Django's `_effective_default` is `timezone.now()`,
    // computed once (pretix 0285: a nullable `created` whose backfill of NULLs then finds none).
    const auto = field.hasDefault ? null : autoTimestamp(field);
    const callable = auto ? "timezone.now" : perRowCallable(field.default);
    if (!callable) return;
    const source = auto ? `\`${auto}=True\`` : `\`default=${callable}\``;
    const withoutDefault = auto ? ["auto_now", "auto_now_add"] : ["default"];
    const unique = field.unique || field.primaryKey;
    // A one-off default (`preserve_default=False`, makemigrations' prompt) exists only to fill the
    // existing rows, so one shared value is what was asked for; unless uniqueness makes it fail.
    const oneOff = literalBool(op.args.preserve_default) === false;
    if (oneOff && !unique) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(field) ?? name;
    // A later UPDATE of the migration sets the column on every row (umap 0018: `UPDATE ... SET uuid
    // = gen_random_uuid()`): the one value Django filled in does not stay.
    if (!unique && rewrittenLater(ctx, table, column)) return;
    const help: string[] = [
      `Django calls \`${callable}()\` once and adds \`${column}\` with that one value as the database default, so every existing row of \`${table}\` gets the same ${/now|today|time/.test(callable) ? "timestamp" : "value"}${unique ? `; with \`unique=True\` the migration fails as soon as \`${table}\` has two rows ("could not create unique index")` : ""}.`,
    ];
    if (field.null === true && ctx.stage !== "post" && !oneOff) {
      help.push(`Django then drops the database default, so rows the old release inserts during the rollout get NULL in \`${column}\`.`);
    }
    const post = postDeployMarker(ctx.target.markerStyle);
    // A class of a package that turns `auto_now_add` on in its `__init__` (django-extensions'
    // CreationDateTimeField): leaving the argument out keeps it on, so the copy turns it off.
    const plainClass = call.kind === "call" && ["DateField", "DateTimeField", "TimeField"].includes(className(call));
    const withoutAuto = auto && !plainClass ? { null: "True", [auto]: "False" } : { null: "True" };
    const backfill = [
      "def backfill(apps, schema_editor):",
      `    Model = apps.get_model(${py(model.app)}, ${py(model.name)})`,
      "    while True:",
      `        batch = list(Model.objects.filter(${name}__isnull=True).values_list("pk", flat=True)[:1000])`,
      "        if not batch:",
      "            break",
      "        for pk in batch:",
      `            Model.objects.filter(pk=pk).update(${name}=${callable}())`,
      "",
      "migrations.RunPython(backfill, migrations.RunPython.noop)",
    ].join("\n");
    // The imports the callable needs (`timezone.now`, `uuid.uuid4`, a project function), as advice modules take them.
    const imports = moduleImports(backfill);
    const attach = defaultOnlyAlterField(model.key, name, fieldWith(call, auto ? { null: "True" } : { null: "True", default: pyValue(field.default) }, ["unique", "primary_key"]), {
      foreignKey: field.relation !== null && field.relation.dbConstraint,
      database: ctx.target.database,
      what: auto ? `\`${auto}\`` : "`default`",
    });
    const steps = [
      `Add the column as nullable without ${auto ? `\`${auto}\`` : "a default"} (existing rows stay NULL), then ${auto ? `turn \`${auto}\` on` : "attach the callable"} for new rows; ${attach.why}:\n${addFieldSnippet(model.key, name, fieldWith(call, withoutAuto, [...withoutDefault, "unique", "primary_key"]))}\n${attach.text}`,
      `After the deploy, give each existing row its own value in a batched data migration (\`atomic = False\`):\n${code(imports.length > 0 ? `${imports.join("\n")}\n\n${backfill}` : backfill)}`,
    ];
    if (unique) {
      steps.push(
        ctx.target.database === "postgresql" && djangoHas(ctx.target, 3, 0)
          ? `Then, in a migration with \`atomic = False\` marked ${post}, build the unique index without blocking writes (\`AddIndexConcurrently\` with a unique index, or \`RunSQL("CREATE UNIQUE INDEX CONCURRENTLY ...")\` in \`SeparateDatabaseAndState\` with the \`unique=True\` state).`
          : `Then add \`unique=True\` in a migration marked ${post}.`,
      );
    }
    // A field the migration adds as nullable stays so (koku reporting_common 0036): only a NOT NULL one is made so at the end.
    if (field.null === false) steps.push(`Finally make the column NOT NULL post-deploy (see \`setting-column-not-null\` for the lock-free way):\n${alterFieldSnippet(model.key, name, fieldWith(call, {}, ["null"]))}`);
    if (!unique && /now|today|time/.test(callable)) {
      help.push("If the migration time is the right value for the existing rows (a creation timestamp, say), this is acceptable; otherwise:");
    }
    ctx.report({
      range: op.range,
      message: `Adding \`${model.name}.${name}\` with ${source} gives every existing row of \`${table}\` the same value${unique ? ", so the unique column fails on any table with two rows" : ""}.`,
      help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
      severity: unique ? "error" : undefined,
    });
  },
};
