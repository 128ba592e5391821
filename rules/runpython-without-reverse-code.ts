import type { Rule } from "../src/engine/rule-types.js";
import { code, pyValue } from "../src/advice/snippets.js";

/** RS401: `RunPython` without `reverse_code`: the migration cannot be rolled back. */
export const runpythonWithoutReverseCode: Rule = {
  meta: {
    code: "RS401",
    name: "runpython-without-reverse-code",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H44"],
    docs: {
      summary: "`RunPython` without `reverse_code`, which makes the migration irreversible",
      what: "Flags `RunPython` whose `reverse_code` is missing or `None`. `reverse_code=migrations.RunPython.noop` is an explicit choice and is not reported; `reverse_code=migrations.RunSQL.noop` (an empty string) is, because `RunPython` refuses it when the migration loads.",
      why: "Django refuses to unapply the migration (`IrreversibleError`), so a release cannot be rolled back past it with `migrate`, exactly when a bad deploy needs it.",
      recipe: [
        "Pass `reverse_code`: a function that undoes the data change, or `migrations.RunPython.noop` when the forward change can stay on rollback (most backfills).",
      ],
      severityReason: "Warning: nothing breaks during the deploy, but the rollback path is gone.",
      bad: `migrations.RunPython(migrations.RunPython.noop)`,
      good: `migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)`,
    },
  },
  operationKinds: ["RunPython"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "RunPython" || op.unknown || ctx.effect === "state") return;
    const reverse = op.args.reverse_code;
    if (reverse?.kind === "name" && /(^|\.)RunSQL\.noop$/.test(reverse.name)) {
      // RunSQL.noop is "", not a function: RunPython.__init__ raises when the migration is loaded.
      ctx.report({
        range: reverse.range,
        message: `\`reverse_code\` is \`RunSQL.noop\`, an empty string, so Django cannot load \`${ctx.migration.name}\`.`,
        help: [
          "`RunPython` needs callables: its `__init__` raises `ValueError: RunPython must be supplied with callable arguments` when the migration module is loaded, so every `migrate`, `makemigrations` and test run fails.",
          `1. Use the Python no-op:\n${code("reverse_code=migrations.RunPython.noop,")}`,
        ],
      });
      return;
    }
    if (reverse && reverse.kind !== "none") return;
    const forward = op.args.code;
    // The function as the migration passes it (`partial(fix, "t")` too); `forwards` when the call gives none.
    const name = forward ? (forward.kind === "name" ? forward.name : pyValue(forward)) : "forwards";
    ctx.report({
      range: op.range,
      message: `\`RunPython(${name})\` has no \`reverse_code\`, so \`${ctx.migration.name}\` cannot be rolled back.`,
      help: [
        "Django raises `IrreversibleError` when asked to unapply it, so `migrate` cannot take the database back past this migration when a release has to be rolled back.",
        `1. Add a reverse, or \`RunPython.noop\` when the data change can stay on rollback:\n${code(`migrations.RunPython(${name}, reverse_code=migrations.RunPython.noop)`)}`,
      ],
    });
  },
};
