/**
 * Every migration module a finding's advice writes (a fenced block with `class Migration`) runs
 * as Python with Django 4.2 (Debian's /usr/bin/python3) without a NameError for a name the module
 * should import itself: `settings`, `django.*`, `uuid`, the contrib.postgres operations. Names of
 * the user's own code (a `RunPython` function) and the `<value>` placeholders advice asks the user
 * to fill are left out. A block of only the class (an excerpt, with no import line) is read with
 * the standard `from django.db import migrations, models`. Nothing is migrated: each module is
 * only executed, as Django's loader does.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rules as allRules } from "../../rules/index.js";
import { lint } from "../../src/index.js";
import { fixtureCases } from "../support/fixture-cases.js";

const PYTHON = "/usr/bin/python3";
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-recipes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Names a module must bind itself; any other missing name is the user's (a function, a model). */
const IMPORTABLE = ["settings", "django", "uuid", "datetime", "decimal", "timezone", "AddIndexConcurrently", "RemoveIndexConcurrently", "AddConstraintNotValid", "ValidateConstraint", "migrations", "models"];

const CHECK = String.raw`
import json, sys, django
from django.conf import settings
settings.configure(INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"])
django.setup()
importable = set(json.loads(sys.argv[2]))
failures = []
for label, source in json.load(open(sys.argv[1])):
    try:
        exec(compile(source, label, "exec"), {"__name__": "recipe"})
    except NameError as error:
        if error.name in importable:
            failures.append(f"{label}: NameError: {error}")
    except SyntaxError as error:
        if "<" not in (error.text or ""):
            failures.append(f"{label}: SyntaxError: {error}")
    except Exception:
        pass  # the user's own code or placeholders (an unknown model, a function it defines)
print(json.dumps(failures))
`;

describe("migration modules in advice", () => {
  it("import what they use", async () => {
    const modules: [string, string][] = [];
    const ruleNames = allRules.map((r) => r.meta.name);
    for (const c of fixtureCases()) {
      const result = await lint([c.dir], { cwd: c.dir, ruleNames });
      for (const d of result.diagnostics) {
        d.help.forEach((line, i) => {
          for (const m of line.matchAll(/```python\n([\s\S]*?)\n```/g)) {
            const block = m[1] ?? "";
            if (!block.includes("class Migration(")) continue;
            const source = /^(import|from) /m.test(block) ? block : `from django.db import migrations, models\n\n\n${block}`;
            modules.push([`${c.rule}/${c.kind}/${c.name} ${d.rule} line ${d.line} help ${i}`, source]);
          }
        });
      }
    }
    expect(modules.length).toBeGreaterThan(100);
    // The user's operations copied into advice keep their dotted names: the module imports them.
    expect(modules.some(([, source]) => /^import django\.db\.models\.deletion$/m.test(source) && source.includes("django.db.models.deletion.SET_NULL"))).toBe(true);
    const file = path.join(root, "modules.json");
    writeFileSync(file, JSON.stringify(modules));
    const failures = JSON.parse(execFileSync(PYTHON, ["-c", CHECK, file, JSON.stringify(IMPORTABLE)], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })) as string[];
    expect(failures).toEqual([]);
  }, 300_000);
});
