import { describe, expect, it } from "vitest";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import { buildGraph } from "../../src/graph/migration-graph.js";
import { ProjectState, columnsOf } from "../../src/state/project-state.js";
import { columnOf, findField, primaryKeyOf, truncateName } from "../../src/state/model-state.js";

function migration(app: string, name: string, body: string) {
  return parseMigrationSource(`from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n${body}`, {
    path: `/p/${app}/migrations/${name}.py`,
    app,
    name,
  });
}

function replayAll(migrations: ReturnType<typeof migration>[]) {
  const graph = buildGraph(migrations);
  const state = new ProjectState();
  for (const m of graph.plan) for (const op of m.operations) state.apply(op, { app: m.app, migration: m.id, file: m.path });
  return { graph, state };
}

describe("buildGraph", () => {
  it("orders by dependencies, resolves __first__/__latest__ and run_before", () => {
    const { graph } = replayAll([
      migration("b", "0001_initial", "    dependencies = [('a', '__latest__')]\n    operations = []\n"),
      migration("a", "0002_second", "    dependencies = [('a', '0001_initial')]\n    operations = []\n"),
      migration("a", "0001_initial", "    operations = []\n"),
      migration("c", "0001_initial", "    run_before = [('a', '0001_initial')]\n    operations = []\n"),
    ]);
    expect(graph.plan.map((m) => m.id)).toEqual(["c.0001_initial", "a.0001_initial", "a.0002_second", "b.0001_initial"]);
    expect(graph.problems).toEqual([]);
  });

  it("resolves __first__ and __latest__ in run_before as Django's loader does (galaxy_ng 0053)", () => {
    const { graph } = replayAll([
      migration("a", "0001_initial", "    operations = []\n"),
      migration("a", "0002_wait", "    dependencies = [('a', '0001_initial')]\n    run_before = [('b', '__first__')]\n    operations = []\n"),
      migration("b", "0001_initial", "    operations = []\n"),
      migration("b", "0002_next", "    dependencies = [('b', '0001_initial')]\n    operations = []\n"),
    ]);
    expect(graph.problems).toEqual([]);
    expect(graph.plan.map((m) => m.id)).toEqual(["a.0001_initial", "a.0002_wait", "b.0001_initial", "b.0002_next"]);
  });

  it("uses a squashed migration in place of the ones it replaces, like Django without a database", () => {
    const { graph } = replayAll([
      migration("a", "0001_initial", "    operations = []\n"),
      migration("a", "0002_x", "    dependencies = [('a', '0001_initial')]\n    operations = []\n"),
      migration("a", "0001_squashed_0002_x", "    replaces = [('a', '0001_initial'), ('a', '0002_x')]\n    operations = []\n"),
      migration("a", "0003_y", "    dependencies = [('a', '0002_x')]\n    operations = []\n"),
    ]);
    expect(graph.plan.map((m) => m.id)).toEqual(["a.0001_squashed_0002_x", "a.0003_y"]);
    expect(graph.replaced.map((m) => m.id).sort()).toEqual(["a.0001_initial", "a.0002_x"]);
  });

  it("reports missing targets in scanned apps and cycles; external apps are fine", () => {
    const { graph } = replayAll([
      migration("a", "0001_initial", "    dependencies = [('auth', '0012_x'), ('a', '0000_nope')]\n    operations = []\n"),
      migration("b", "0001_initial", "    dependencies = [('c', '0001_initial')]\n    operations = []\n"),
      migration("c", "0001_initial", "    dependencies = [('b', '0001_initial')]\n    operations = []\n"),
    ]);
    expect(graph.problems.map((p) => p.kind).sort()).toEqual(["dependency-cycle", "missing-dependency"]);
    expect(graph.nodes.get("a.0001_initial")?.external.map((d) => d.app)).toEqual(["auth"]);
    expect(graph.plan).toHaveLength(3);
  });
});

describe("ProjectState replay", () => {
  const initial = migration(
    "shop",
    "0001_initial",
    `    operations = [
        migrations.CreateModel("Order", [
            ("id", models.BigAutoField(primary_key=True)),
            ("customer", models.ForeignKey(on_delete=models.CASCADE, to="shop.customer")),
            ("ref", models.CharField(max_length=10, db_column="reference")),
            ("items", models.ManyToManyField(to="shop.Item")),
        ]),
        migrations.CreateModel("Customer", [("id", models.AutoField(primary_key=True))], options={"db_table": "crm_customer"}),
        migrations.CreateModel("Item", [("id", models.AutoField(primary_key=True))]),
        migrations.CreateModel("${"VeryLong".repeat(10)}", [("id", models.AutoField(primary_key=True))]),
        migrations.CreateModel("Vip", [], options={"proxy": True}, bases=("shop.customer",)),
    ]
`,
  );

  it("derives table, column and join-table names as Django does", () => {
    const { state } = replayAll([initial]);
    const order = state.model("shop", "Order");
    expect(order && state.tableOf(order)).toBe("shop_order");
    expect(order && columnsOf(order).map((c) => c.column)).toEqual(["id", "customer_id", "reference"]);
    expect(order && state.m2mTableOf(order, order.fields.get("items") as never)).toBe("shop_order_items");
    const vip = state.model("shop", "vip");
    expect(vip && state.tableOf(vip)).toBe("crm_customer");
    expect(vip && state.hasTable(vip)).toBe(false);
    const long = state.model("shop", "VeryLong".repeat(10));
    expect(long && state.tableOf(long)).toBe(truncateName(`shop_${"verylong".repeat(10)}`));
    expect(long && state.tableOf(long)).toHaveLength(63);
  });

  it("matches Django's truncate_name digest", () => {
    // django.db.backends.utils.truncate_name("shop_" + "verylong" * 10, 63)
    expect(truncateName(`shop_${"verylong".repeat(10)}`)).toBe(`shop_${"verylong".repeat(10)}`.slice(0, 59) + "d753");
  });

  it("follows renames, option changes and field removals", () => {
    const { state } = replayAll([
      initial,
      migration(
        "shop",
        "0002_changes",
        `    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.RenameModel("Customer", "Client"),
        migrations.RenameField("order", "customer", "client"),
        migrations.AlterModelOptions("item", {"managed": False}),
        migrations.RemoveField("order", "items"),
        migrations.AlterModelTable("order", "orders"),
    ]
`,
      ),
    ]);
    const order = state.model("shop", "order");
    expect(order && state.tableOf(order)).toBe("orders");
    expect(order?.fields.get("client")?.relation?.to).toBe("shop.client");
    expect(order && [...order.fields.keys()]).toEqual(["id", "ref", "client"]);
    expect(state.model("shop", "item")?.managed).toBe(false);
    expect(state.model("shop", "vip")?.bases).toEqual(["shop.client"]);
  });

  it("repoints relations to a renamed model as Django's rename_model does, in the options and the call as written", () => {
    const { state } = replayAll([
      migration(
        "shop",
        "0001_initial",
        `    operations = [
        migrations.CreateModel("Customer", [("id", models.AutoField(primary_key=True))]),
        migrations.CreateModel("Order", [
            ("id", models.AutoField(primary_key=True)),
            ("customer", models.ForeignKey("shop.customer", models.CASCADE)),
            ("buyers", models.ManyToManyField(to="shop.customer", through="shop.Membership")),
        ]),
        migrations.CreateModel("Membership", [("id", models.AutoField(primary_key=True))]),
        migrations.RenameModel("Customer", "Client"),
        migrations.RenameModel("Membership", "Seat"),
    ]
`,
      ),
    ]);
    const order = state.model("shop", "order");
    const customer = order?.fields.get("customer");
    // Django sets remote_field.model to "<app>.<NewName>": the positional `to` is replaced in place.
    expect(customer?.kwargs.to).toMatchObject({ kind: "str", value: "shop.Client" });
    expect(customer?.call).toMatchObject({ args: [{ kind: "str", value: "shop.Client" }, { kind: "name" }], kwargs: {} });
    const buyers = order?.fields.get("buyers");
    expect(buyers?.relation).toMatchObject({ to: "shop.client", through: "shop.seat" });
    expect(buyers?.call).toMatchObject({ kwargs: { to: { value: "shop.Client" }, through: { value: "shop.Seat" } } });
  });

  it("a shadow applies operations without changing the state, and copies only the models it changes", () => {
    const { state } = replayAll([initial]);
    const changes = migration(
      "shop",
      "0002_changes",
      `    operations = [
        migrations.AddField("order", "note", models.TextField(null=True)),
        migrations.RenameField("order", "ref", "code"),
        migrations.AddIndex("order", models.Index(fields=["code"], name="order_code_idx")),
        migrations.DeleteModel("Item"),
        migrations.RenameModel("Customer", "Client"),
        migrations.AlterModelTable("order", "orders"),
    ]
`,
    );
    const before = { order: state.model("shop", "order"), item: state.model("shop", "item") };
    const fields = before.order && [...before.order.fields.keys()];
    const shadow = state.shadow();
    // Until it changes one, the shadow reads the state's own models.
    expect(shadow.model("shop", "order")).toBe(before.order);
    for (const op of changes.operations) expect(shadow.apply(op, { app: "shop", migration: changes.id, file: changes.path })).toEqual([]);
    // The shadow has every change...
    const order = shadow.model("shop", "order");
    expect(order && [...order.fields.keys()]).toEqual(["id", "customer", "items", "note", "code"]);
    expect(order?.indexes.map((i) => i.name)).toEqual(["order_code_idx"]);
    expect(order && shadow.tableOf(order)).toBe("orders");
    expect(shadow.model("shop", "item")).toBeUndefined();
    expect(order?.fields.get("customer")?.relation?.to).toBe("shop.client");
    expect(shadow.modelsWithTable("orders")).toEqual([order]);
    // ...and the state none of them.
    expect(state.model("shop", "order")).toBe(before.order);
    expect(before.order && [...before.order.fields.keys()]).toEqual(fields);
    expect(before.order?.indexes).toEqual([]);
    expect(before.order && state.tableOf(before.order)).toBe("shop_order");
    expect(state.model("shop", "item")).toBe(before.item);
    expect(state.model("shop", "customer")?.name).toBe("Customer");
    expect(state.model("shop", "client")).toBeUndefined();
    expect(before.order?.fields.get("customer")?.relation?.to).toBe("shop.customer");
    // The models it did not change are still shared.
    expect(shadow.model("shop", "veryLong".repeat(10))).toBe(state.model("shop", "veryLong".repeat(10)));
  });

  it("finds a model's primary key and a field by its column, first in field order", () => {
    const { state } = replayAll([initial]);
    const order = state.model("shop", "order");
    const vip = state.model("shop", "vip");
    expect(order && primaryKeyOf(order)?.name).toBe("id");
    expect(vip && primaryKeyOf(vip)).toBeUndefined();
    expect(order && findField(order, (f) => f.dbColumn === "reference")?.name).toBe("ref");
    expect(order && findField(order, (f) => f.relation !== null && f.relation !== undefined)?.name).toBe("customer");
    expect(order && findField(order, () => false)).toBeUndefined();
  });

  it("knows a field or constraint class by its import, whatever the alias (`ForeignKey as Ref`)", () => {
    const m = parseMigrationSource(
      `from django.db import migrations
from django.db.models import CASCADE, AutoField as Key, CharField as Text, ForeignKey as Ref, UniqueConstraint as Unique
from shop.fields import Money as ForeignKey


class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel("Customer", [("id", Key(primary_key=True))]),
        migrations.CreateModel("Order", [
            ("id", Key(primary_key=True)),
            ("customer", Ref("shop.customer", CASCADE, db_column="buyer")),
            ("ref", Text(max_length=10)),
            ("total", ForeignKey(max_digits=10)),
        ]),
        migrations.AddConstraint("order", Unique(fields=["ref"], name="order_ref_uniq")),
    ]
`,
      { path: "/p/shop/migrations/0001_initial.py", app: "shop", name: "0001_initial" },
    );
    const { state } = replayAll([m]);
    const order = state.model("shop", "order");
    const customer = order?.fields.get("customer");
    // Positional arguments are read by the real class's signature: to, then on_delete.
    expect(customer?.type).toBe("ForeignKey");
    expect(customer?.relation?.to).toBe("shop.customer");
    expect(customer && columnOf(customer)).toBe("buyer");
    expect(order?.fields.get("ref")?.type).toBe("CharField");
    expect(order?.fields.get("ref")?.maxLength).toBe(10);
    // A project's own class imported under a Django name is not that Django class.
    expect(order?.fields.get("total")?.type).toBe("Money");
    expect(order?.fields.get("total")?.relation).toBeNull();
    expect(order?.constraints.map((c) => [c.name, c.kind])).toEqual([["order_ref_uniq", "unique"]]);
  });

  it("reports references to models and fields that are not in state", () => {
    const state = new ProjectState();
    const m = migration("x", "0001_initial", "    operations = [migrations.RemoveField('ghost', 'f')]\n");
    const problems = state.apply(m.operations[0] as never, { app: "x", migration: m.id, file: m.path });
    expect(problems[0]?.message).toContain("`x.ghost`");
  });

  it("does not call a field missing from a model whose fields it could not all read", () => {
    const later = `    operations = [
        migrations.AlterField('%s', 'secret', models.CharField(max_length=191)),
        migrations.RenameField('%s', 'key', 'api_key'),
        migrations.RemoveField('%s', 'token'),
    ]\n`;
    const { graph, state } = replayAll([
      migration("x", "0001_initial", `    operations = [
        migrations.CreateModel('Partial', fields=[('id', models.AutoField(primary_key=True))] + BASE_FIELDS),
        migrations.CreateModel('Spread', fields=[('id', models.AutoField(primary_key=True)), *COMMON]),
        migrations.CreateModel('Complete', fields=[('id', models.AutoField(primary_key=True))]),
    ]\n`),
      migration("x", "0002_partial", `    dependencies = [('x', '0001_initial')]\n${later.replace(/%s/g, "partial")}`),
      migration("x", "0003_spread", `    dependencies = [('x', '0002_partial')]\n${later.replace(/%s/g, "spread")}`),
    ]);
    expect(state.model("x", "partial")?.fieldsIncomplete).toBe(true);
    expect(state.model("x", "complete")?.fieldsIncomplete).toBeUndefined();
    // A list joined with a name is unreadable as a whole; the altered field is in state from
    // then on, and nothing was reported on the two partial models.
    expect([...(state.model("x", "partial")?.fields.keys() ?? [])]).toEqual(["secret"]);
    expect([...(state.model("x", "spread")?.fields.keys() ?? [])]).toEqual(["id", "secret"]);
    const check = new ProjectState();
    const problems: string[] = [];
    for (const m of graph.plan) for (const op of m.operations) problems.push(...check.apply(op, { app: m.app, migration: m.id, file: m.path }).map((p) => p.message));
    expect(problems).toEqual([]);
    const complete = migration("x", "0004_complete", later.replace(/%s/g, "complete"));
    expect(complete.operations.flatMap((op) => check.apply(op, { app: "x", migration: complete.id, file: complete.path })).map((p) => p.message)).toEqual([
      "field `Complete.secret` is not in the state before this operation",
      "field `Complete.key` is not in the state before this operation",
      "field `Complete.token` is not in the state before this operation",
    ]);
  });

  it("gives a model ordered with respect to a field the `_order` column Django adds, last, and takes it away with the option", () => {
    const { state } = replayAll([
      migration("q", "0001_initial", `    operations = [
        migrations.CreateModel('Question', fields=[('id', models.AutoField(primary_key=True))]),
        migrations.CreateModel('Answer', fields=[('id', models.AutoField(primary_key=True)), ('question', models.ForeignKey(on_delete=models.CASCADE, to='q.question'))]),
        migrations.CreateModel('Vote', fields=[('id', models.AutoField(primary_key=True)), ('answer', models.ForeignKey(on_delete=models.CASCADE, to='q.answer'))], options={'order_with_respect_to': 'answer'}),
        migrations.CreateModel('Tag', fields=[('id', models.AutoField(primary_key=True)), ('question', models.ForeignKey(on_delete=models.CASCADE, to='q.question'))], options={'order_with_respect_to': 'question'}),
    ]\n`),
      migration("q", "0002_order", `    dependencies = [('q', '0001_initial')]
    operations = [
        migrations.AlterOrderWithRespectTo('answer', 'question'),
        migrations.AddField('answer', 'text', models.TextField(default='')),
        migrations.RenameField('vote', 'answer', 'choice'),
        migrations.AlterOrderWithRespectTo(name='tag', order_with_respect_to=None),
    ]\n`),
    ]);
    const answer = state.model("q", "answer");
    expect(answer && [...answer.fields.keys()]).toEqual(["id", "question", "text", "_order"]);
    const order = answer?.fields.get("_order");
    expect(order && { type: order.type, column: columnOf(order), null: order.null, hasDefault: order.hasDefault }).toEqual({ type: "OrderWrt", column: "_order", null: false, hasDefault: false });
    expect(order?.origin?.migration).toBe("q.0002_order");
    expect([...(state.model("q", "vote")?.fields.keys() ?? [])]).toEqual(["id", "choice", "_order"]);
    expect([...(state.model("q", "tag")?.fields.keys() ?? [])]).toEqual(["id", "question"]);
  });

  it("changes no `_order` when the option only moves to another field, and keeps a declared `_order` field", () => {
    const { state } = replayAll([
      migration("q", "0001_initial", `    operations = [
        migrations.CreateModel('Answer', fields=[('id', models.AutoField(primary_key=True)), ('a', models.IntegerField()), ('b', models.IntegerField())], options={'order_with_respect_to': 'a'}),
        migrations.CreateModel('Own', fields=[('id', models.AutoField(primary_key=True)), ('_order', models.PositiveIntegerField())]),
    ]\n`),
      migration("q", "0002_move", `    dependencies = [('q', '0001_initial')]
    operations = [
        migrations.AlterOrderWithRespectTo('answer', 'b'),
        migrations.AlterOrderWithRespectTo('own', None),
    ]\n`),
    ]);
    expect(state.model("q", "answer")?.fields.get("_order")?.origin?.migration).toBe("q.0001_initial");
    expect(state.model("q", "own")?.fields.get("_order")?.type).toBe("PositiveIntegerField");
  });

  it("calls `_order` missing to RemoveField and RenameField, as Django's migration state has no such field", () => {
    const state = new ProjectState();
    const problems: string[] = [];
    const m = migration("q", "0001_initial", `    operations = [
        migrations.CreateModel('Answer', fields=[('id', models.AutoField(primary_key=True)), ('q', models.IntegerField())], options={'order_with_respect_to': 'q'}),
        migrations.RenameField('answer', '_order', 'position'),
        migrations.RemoveField('answer', '_order'),
    ]\n`);
    for (const op of m.operations) problems.push(...state.apply(op, { app: "q", migration: m.id, file: m.path }).map((p) => p.message));
    expect(problems).toEqual(["field `Answer._order` is not in the state before this operation", "field `Answer._order` is not in the state before this operation"]);
    expect([...(state.model("q", "answer")?.fields.keys() ?? [])]).toEqual(["id", "q", "_order"]);
  });
});
