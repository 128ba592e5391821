import type { Rule } from "../src/engine/rule-types.js";
import { callClassText, createdFields, dictOf, fieldClassOf, literalBool, literalString } from "../src/state/model-state.js";
import { code, py, pyValue } from "../src/advice/snippets.js";

/** 32-bit (or smaller) integer primary-key field classes, and what to use instead. */
const SMALL_KEYS: Record<string, { limit: string; instead: string }> = {
  AutoField: { limit: "2,147,483,647", instead: "BigAutoField" },
  SmallAutoField: { limit: "32,767", instead: "BigAutoField" },
  IntegerField: { limit: "2,147,483,647", instead: "BigIntegerField" },
  PositiveIntegerField: { limit: "2,147,483,647", instead: "PositiveBigIntegerField" },
  SmallIntegerField: { limit: "32,767", instead: "BigIntegerField" },
  PositiveSmallIntegerField: { limit: "32,767", instead: "PositiveBigIntegerField" },
};

/** RS902 (opt-in): a new table whose primary key is a 32-bit (or 16-bit) integer. */
export const creatingModelWithIntegerPrimaryKey: Rule = {
  meta: {
    code: "RS902",
    name: "creating-model-with-integer-primary-key",
    severity: "warning",
    databases: ["postgresql", "mysql"],
    optIn: true,
    claims: [],
    hazards: ["H61"],
    docs: {
      summary: "A new model whose primary key is a 32-bit or 16-bit integer (opt-in)",
      what: "Flags `CreateModel` (managed, not proxy) whose primary key is an `AutoField`, `SmallAutoField` or a small integer field with `primary_key=True` (typically from `DEFAULT_AUTO_FIELD = \"django.db.models.AutoField\"`, the default before Django 3.2).",
      why: "A 32-bit key runs out at 2,147,483,647 rows (a 16-bit one at 32,767), and inserts then fail. Widening it later is the most expensive change there is: an `ALTER COLUMN TYPE bigint` rewrites the table and every table whose foreign keys point at it, under ACCESS EXCLUSIVE locks. On a new table the 4 extra bytes per row cost nothing to add now.",
      recipe: ["Use `BigAutoField` for the new model's `id` (and set `DEFAULT_AUTO_FIELD = \"django.db.models.BigAutoField\"` or `AppConfig.default_auto_field` so later models get it too)."],
      severityReason: "Warning: a schema-quality suggestion; nothing breaks until the key space is used up.",
      bad: `migrations.CreateModel(
    name="Loan",
    fields=[("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
)`,
      good: `migrations.CreateModel(
    name="Loan",
    fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
)`,
    },
  },
  operationKinds: ["CreateModel"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "CreateModel" || op.unknown || ctx.effect === "state" || ctx.target.database === "sqlite") return;
    const options = dictOf(op.args.options);
    if (literalBool(options.managed) === false || literalBool(options.proxy) === true) return;
    for (const { name, call } of createdFields(op.args.fields)) {
      if (call.kind !== "call") continue;
      const type = fieldClassOf(call);
      const small = SMALL_KEYS[type];
      const isAuto = type === "AutoField" || type === "SmallAutoField";
      if (!small || (!isAuto && literalBool(call.kwargs.primary_key) !== true) || (isAuto && literalBool(call.kwargs.primary_key) === false)) continue;
      const model = literalString(op.args.name) ?? "?";
      const kwargs = Object.entries(call.kwargs).map(([k, v]) => `${k}=${pyValue(v)}`).join(", ");
      ctx.report({
        range: call.range,
        message: `The primary key \`${model}.${name}\` is declared as ${callClassText(call)}, whose values run out at ${small.limit}.`,
        help: [
          `When the key space is used up, every INSERT into the table fails. Widening the key later rewrites the table and every table with a foreign key to it, ${ctx.target.database === "mysql" ? "copying each while it blocks writes (MySQL cannot change a column's type in place)" : "under ACCESS EXCLUSIVE locks"}; on a new table a 64-bit key costs nothing now.`,
          `1. Use \`${small.instead}\` for \`${name}\`:\n${code(`(${py(name)}, models.${small.instead}(${kwargs})),`)}`,
          '2. So that later models get it too, set `DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"` in settings (or `default_auto_field` on the app\'s `AppConfig`).',
        ],
      });
    }
  },
};
