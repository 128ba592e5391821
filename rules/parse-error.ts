import type { Rule } from "../src/engine/rule-types.js";

/** RS001: a migration file that cannot be parsed or decoded. Reported by the engine. */
export const parseError: Rule = {
  meta: {
    code: "RS001",
    name: "parse-error",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: [],
    docs: {
      summary: "A migration file that is not valid Python, or not text",
      what: "Reports syntax errors (with their location and what is wrong there), files that are not valid UTF-8 (or their declared PEP 263 encoding) outside comments, and binary files. Invalid bytes inside a comment are accepted, as CPython accepts them when Django imports the module.",
      why: "Django cannot load such a migration, so `migrate` fails; and rollsafe cannot check what it cannot read.",
      recipe: ["Fix the syntax error or the encoding; `python -m py_compile <file>` shows the same error."],
      severityReason: "Error: the deploy's `migrate` would fail on this file.",
      bad: `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = []
    initial = = True`,
      good: `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = []`,
    },
  },
};
