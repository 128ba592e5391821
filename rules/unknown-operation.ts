import type { Rule } from "../src/engine/rule-types.js";

/** RS003: an operation rollsafe cannot read statically, reported so it is never silently passed. */
export const unknownOperation: Rule = {
  meta: {
    code: "RS003",
    name: "unknown-operation",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H43"],
    docs: {
      summary: "An operation that cannot be verified statically",
      what: "Reports custom operation classes, operations built by helper calls rollsafe cannot follow or spread from other lists, an `operations` that is not made of lists rollsafe reads (lists joined with `+`, extended with `+=` or chosen by a condition with one empty branch are read, and so is a list comprehension over a literal list, tuple or dict), and arguments unpacked with `*`/`**`. A function of the migration, or of a module of the project it imports (`from ._utils import make_renamer`), that ends by returning an operation (or a list of them, for `*make_operations(...)` and `operations = make_operations(...)`) is read with the call's arguments and checked as that operation; so is an operation class of such a module that subclasses a built-in one or Django's `Operation`. `operations.append(...)`, `operations.extend(...)` and `+=` in the class body, or on `self.operations` after `super().__init__()`, are read as Python runs them, and so is a `for` loop of the class body whose body only appends (one operation per item of a literal iterable). Operations added that way inside an `if`, `try` or `with` are read as added (Django applies them where the condition holds, as for `[...] + ([...] if settings.X else [])`), and so is `operations = [...]` in an `if` over an empty list; the findings on operations an `if` adds are warnings that name its condition. Branches whose conditions test the database (`connection.vendor`, a setting named after one such as `settings.USE_POSTGRESQL`, the `ENGINE` setting) are read per database: their operations are checked only on the databases that run them, also when several branches change `operations`; operations added in more than one branch of an `if` (of which one runs), or in an `except` clause and in its `try` or another `except` (which of them run depends on an exception), any other change to `operations` there, or one in another loop, makes the operations unknown. The finding says why one could not be followed.",
      why: "rollsafe reads migrations without running them. What it cannot read, it cannot vouch for: a custom operation may drop a column or lock a table.",
      recipe: [
        "Review the operation by hand for the hazards rollsafe checks.",
        "Declare what a project's own operation does in the configuration (`[tool.rollsafe.operations]`), or suppress this finding with a reason.",
      ],
      severityReason: "Warning: it needs a human look, but may be perfectly safe.",
      bad: `BackfillOp(model_name="book")`,
      good: `migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)`,
    },
  },
  migration(ctx) {
    const unknown = ctx.migration.operationsUnknown;
    if (unknown) {
      ctx.report({
        range: unknown.range,
        message: `Cannot verify this migration's operations: ${unknown.reason}.`,
        help: ["rollsafe reads migrations without running them, so it cannot tell what these operations do; review them by hand."],
      });
    }
  },
  operation(ctx) {
    const { op } = ctx;
    if (!op.unknown) return;
    ctx.report({
      range: op.range,
      message: `Cannot verify this operation: ${op.unknown.reason}.`,
      help: [
        "rollsafe reads migrations without running them, so it cannot tell whether this operation drops, renames or locks anything.",
        "1. Review it by hand for the hazards rollsafe checks (`rollsafe rules` lists them).",
        "2. If it is safe, suppress this finding with a reason, or declare the operation's effect in the configuration.",
      ],
    });
  },
};
