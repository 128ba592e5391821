import type { Rule } from "../src/engine/rule-types.js";

/**
 * RS008: two apps of the checked tree have the same label. Reported by the engine, which checks
 * the first of them (by directory) and leaves the others out: their migrations would otherwise
 * share one migration graph and one model state.
 */
export const duplicateAppLabel: Rule = {
  meta: {
    code: "RS008",
    name: "duplicate-app-label",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: [],
    docs: {
      summary: "Two apps with the same label",
      what: "Reports an app whose label (the `label` of its `AppConfig`, else the last part of its module name) another app of the checked tree already has. rollsafe checks the app whose directory comes first and leaves the others out, reporting each on its first reported migration; a migration named the same in both would otherwise hide the other, and their operations would meet one model state.",
      why: "Django cannot install both: `django.setup()` raises `ImproperlyConfigured: Application labels aren't unique, duplicates: <label>`. In a repository holding several Django projects, the two apps may belong to different projects, which rollsafe must then check one at a time.",
      recipe: [
        "If the apps belong to different projects, check each project on its own: `rollsafe check path/to/project`.",
        "If both are installed in one project, give one of them its own `label` in its `AppConfig` (before its first deploy: the label names its tables and its rows in `django_migrations`).",
      ],
      severityReason: "Error: Django does not start with both apps installed, and the app left out is not checked.",
      bad: `# whole file: billing/migrations/0001_initial.py, beside shop/billing/ (also labelled "billing")
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(name="Invoice", fields=[("id", models.BigAutoField(primary_key=True))]),
    ]`,
      good: `# billing/apps.py
from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    label = "customer_billing"`,
    },
  },
};
