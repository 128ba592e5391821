/**
 * `settings.AUTH_USER_MODEL` without `auth-user-model` in the configuration: the project's own user
 * model (the one model with AbstractBaseUser's `password` and `last_login`) when nothing in its
 * migrations contradicts it, else Django's default `auth.User`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { inferAuthUserModel } from "../../src/model/auth-user-model.js";
import type { Operation, SourceRange } from "../../src/model/types.js";

const RANGE: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 };

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-auth-user-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A user model as makemigrations writes a subclass of AbstractUser/AbstractBaseUser. */
function userModel(name: string, options = `{"abstract": False}`): string {
  return `migrations.CreateModel(
            name="${name}",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("password", models.CharField(max_length=128, verbose_name="password")),
                ("last_login", models.DateTimeField(blank=True, null=True, verbose_name="last login")),
                ("email", models.EmailField(max_length=254, unique=True)),
            ],
            options=${options},
            managers=[("objects", django.contrib.auth.models.UserManager())],
        )`;
}

function migration(dependencies: string[], operations: string[]): string {
  return `import django.contrib.auth.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [${dependencies.join(", ")}]
    operations = [
        ${operations.join(",\n        ")},
    ]
`;
}

const ORDER = migration([], [`migrations.CreateModel(name="Order", fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))])`]);
const BUYER = migration(
  ["migrations.swappable_dependency(settings.AUTH_USER_MODEL)", `("shop", "0001_initial")`],
  [`migrations.AddField(model_name="order", name="buyer", field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL))`],
);

/** A project of `apps` (app -> migration name -> source); `shop` with its two migrations unless given. */
function project(apps: Record<string, Record<string, string>>): string {
  const dir = path.join(root, `case${counter++}`);
  for (const [app, migrations] of Object.entries({ shop: { "0001_initial": ORDER, "0002_order_buyer": BUYER }, ...apps })) {
    mkdirSync(path.join(dir, app, "migrations"), { recursive: true });
    writeFileSync(path.join(dir, app, "__init__.py"), "");
    writeFileSync(path.join(dir, app, "migrations", "__init__.py"), "");
    for (const [name, source] of Object.entries(migrations)) writeFileSync(path.join(dir, app, "migrations", `${name}.py`), source);
  }
  return dir;
}

async function check(dir: string, authUserModel?: string) {
  const { result, graph } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"], ...(authUserModel ? { authUserModel } : {}) });
  const buyer = graph.nodes.get("shop.0002_order_buyer");
  return { messages: result.diagnostics.map((d) => d.message), notes: result.notes ?? [], parents: [...(buyer?.parents ?? [])].sort() };
}

describe("the user model settings.AUTH_USER_MODEL names", () => {
  it("is the project's one model with AbstractBaseUser's fields, and the run says so once", async () => {
    const { messages, notes, parents } = await check(project({ accounts: { "0001_initial": migration([], [userModel("Member")]) } }));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("writes to `accounts_member` too");
    expect(notes).toEqual([expect.stringContaining("settings.AUTH_USER_MODEL read as `accounts.Member`")]);
    expect(notes[0]).toContain("`accounts.0001_initial`");
    // swappable_dependency resolves into the user model's app.
    expect(parents).toEqual(["accounts.0001_initial", "shop.0001_initial"]);
  });

  it("is the configured model when the configuration names one, without a note", async () => {
    const { messages, notes } = await check(project({ accounts: { "0001_initial": migration([], [userModel("Member")]) } }), "auth.User");
    expect(messages[0]).toContain("writes to `auth_user` too");
    expect(notes).toEqual([]);
  });

  it("skips Django's own auth.User, the model whose options say it is swappable", async () => {
    const dir = project({
      auth: { "0001_initial": migration([], [userModel("User", `{"swappable": "AUTH_USER_MODEL"}`)]) },
      accounts: { "0001_initial": migration([`("auth", "0001_initial")`], [userModel("Member")]) },
    });
    const { messages, notes } = await check(dir);
    expect(messages[0]).toContain("`accounts_member`");
    expect(notes).toHaveLength(1);
  });

  it("stays auth.User when a migration points a relation at auth.User by name (Django refuses one to a swapped-out model)", async () => {
    const dir = project({
      accounts: { "0001_initial": migration([], [userModel("Member")]) },
      blog: {
        "0001_initial": migration(
          [`("auth", "0012_alter_user_first_name_max_length")`],
          [`migrations.CreateModel(name="Post", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("author", models.ForeignKey("auth.User", models.CASCADE))])`],
        ),
      },
    });
    const { messages, notes } = await check(dir);
    expect(messages[0]).toContain("writes to `auth_user` too");
    expect(notes).toEqual([]);
  });

  it("stays auth.User when the candidate's own app depends on the setting where it creates the model (the autodetector resolves that dependency inside the user model's app)", async () => {
    const profile = `migrations.CreateModel(name="Profile", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL))])`;
    const dir = project({ accounts: { "0001_initial": migration(["migrations.swappable_dependency(settings.AUTH_USER_MODEL)"], [userModel("Member"), profile]) } });
    const { messages, notes } = await check(dir);
    expect(messages[0]).toContain("`auth_user`");
    expect(notes).toEqual([]);
    // Only in a later migration of the app, the dependency says nothing: Django ignores a
    // `__first__` dependency on the migration's own app, and such a migration may be copied from
    // a package (Funkwhale users 0014, django-oauth-toolkit's models, long after users 0001).
    const later = project({
      accounts: {
        "0001_initial": migration([], [userModel("Member")]),
        "0002_profile": migration(["migrations.swappable_dependency(settings.AUTH_USER_MODEL)", `("accounts", "0001_initial")`], [profile]),
      },
    });
    const inferred = await check(later);
    expect(inferred.messages[0]).toContain("`accounts_member`");
    expect(inferred.notes).toEqual([expect.stringContaining("`accounts.Member`")]);
  });

  it("stays auth.User with two candidates", async () => {
    const dir = project({
      accounts: { "0001_initial": migration([], [userModel("Member")]) },
      staff: { "0001_initial": migration([], [userModel("Operator")]) },
    });
    const { messages, notes } = await check(dir);
    expect(messages[0]).toContain("`auth_user`");
    expect(notes).toEqual([]);
  });

  it("finds a user model created in the state operations of SeparateDatabaseAndState, once however often it is created", async () => {
    const moved = `migrations.SeparateDatabaseAndState(state_operations=[${userModel("Member")}], database_operations=[])`;
    const dir = project({ accounts: { "0001_initial": migration([], [userModel("Member")]), "0002_squashed": migration([`("accounts", "0001_initial")`], [moved]) } });
    const { notes } = await check(dir);
    expect(notes).toEqual([expect.stringContaining("`accounts.Member`")]);
  });

  it("is asked when the setting is named only by a relation in the user model's own app, which has no swappable dependency (galaxy_ng 0001)", async () => {
    const own = migration([], [userModel("User"), `migrations.CreateModel(name="Setting", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL))])`]);
    const dir = path.join(root, `case${counter++}`);
    mkdirSync(path.join(dir, "galaxy", "migrations"), { recursive: true });
    writeFileSync(path.join(dir, "galaxy", "__init__.py"), "");
    writeFileSync(path.join(dir, "galaxy", "migrations", "__init__.py"), "");
    writeFileSync(path.join(dir, "galaxy", "migrations", "0001_initial.py"), own);
    const { result } = await analyze(["."], { cwd: dir });
    expect(result.notes).toEqual([expect.stringContaining("`galaxy.User`")]);
  });

  it("keeps the user model whose own app depends on the setting only in a later migration (Funkwhale users 0014)", () => {
    const op = (name: string): Operation => ({
      kind: "CreateModel",
      origin: "django",
      callee: "migrations.CreateModel",
      args: {
        name: { kind: "str", value: name, range: RANGE },
        fields: { kind: "list", items: ["password", "last_login"].map((f) => ({ kind: "tuple", items: [{ kind: "str", value: f, range: RANGE }], range: RANGE })), range: RANGE },
      },
      range: RANGE,
      comments: [],
      index: 0,
    });
    const users = (later: string) => [
      { app: "users", id: "users.0001_initial", dependencies: [], operations: [op("User")] },
      { app: "users", id: later, dependencies: [{ swappable: "AUTH_USER_MODEL" }], operations: [] },
    ];
    // Django ignores a `__first__` dependency on the migration's own app.
    expect(inferAuthUserModel(users("users.0014_oauth"))).toEqual({ model: "users.User", migration: "users.0001_initial" });
    // In the migration that creates the model or before it, the dependency resolves elsewhere.
    expect(inferAuthUserModel([{ ...users("users.0014_oauth")[0]!, dependencies: [{ swappable: "AUTH_USER_MODEL" }] }])).toBeNull();
    expect(inferAuthUserModel(users("users.0000_before"))).toBeNull();
  });

  it("is not asked when no migration depends on the setting", () => {
    const facts = (app: string, deps: { swappable?: string }[]) => ({ app, id: `${app}.0001_initial`, dependencies: deps, operations: [] });
    expect(inferAuthUserModel([facts("shop", [])])).toBeNull();
    expect(inferAuthUserModel([facts("shop", [{ swappable: "AUTH_USER_MODEL" }])])).toBeNull();
  });
});
