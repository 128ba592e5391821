#!/usr/bin/env node
/**
 * Writes a synthetic but realistic Django project for the benchmark: N apps with M migration
 * files each, formatted the way `makemigrations` (Django 4.2) writes them, with the operation mix
 * of issue 7. Every operation is generated against a model state the generator tracks, so fields
 * exist before they are altered, removed or renamed, models exist before fields are added to
 * them, and nothing is deleted while a foreign key still points at it.
 *
 * Usage:
 *   node bench/generate-corpus.mjs --out <dir> --apps N --migrations M [--seed S]
 *
 * Programmatic use: `generateProject({ out, apps, migrations, seed })` and `corpusSpecFor(files)`.
 * Output is deterministic for a given (apps, migrations, seed).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Bumped whenever the generated text changes, so cached corpora are rebuilt. */
export const GENERATOR_VERSION = 4;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: small, fast, deterministic PRNG. */
function makeRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
    hex: (n) => {
      let s = "";
      for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(next() * 16)];
      return s;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const APP_WORDS = [
  "accounts", "billing", "catalog", "orders", "shipping", "inventory", "payments", "reviews",
  "notifications", "analytics", "search", "profiles", "subscriptions", "invoices", "support",
  "content", "media", "blog", "forum", "events", "bookings", "loyalty", "coupons", "audit",
  "reports", "teams", "projects", "tasks", "calendar", "messaging", "documents", "surveys",
  "campaigns", "leads", "contracts", "vendors", "warehouse", "returns", "pricing", "taxes",
];
const MODEL_WORDS = [
  "Customer", "Order", "Invoice", "Product", "Category", "Shipment", "Payment", "Review", "Ticket",
  "Comment", "Attachment", "Address", "Plan", "Subscription", "Coupon", "Discount", "Warehouse",
  "StockItem", "Supplier", "Contract", "Lead", "Campaign", "Event", "Booking", "Room", "Survey",
  "Answer", "Question", "Report", "Task", "Project", "Team", "Membership", "Message", "Thread",
  "Document", "Folder", "Tag", "Note", "Refund", "Receipt", "Tariff", "Region", "Store", "Device",
];
const FIELD_WORDS = [
  "title", "name", "slug", "description", "status", "code", "reference", "amount", "quantity",
  "price", "currency", "email", "phone", "notes", "priority", "score", "rating", "position",
  "external_id", "is_active", "is_archived", "created_at", "updated_at", "published_at", "due_date",
  "weight", "width", "height", "color", "language", "country", "timezone", "source", "channel",
  "level", "kind", "label", "summary", "body", "metadata", "settings", "token", "uuid", "version",
  "legacy_code", "display_name", "sort_order", "expires_at", "last_seen", "balance",
];
const HELP_TEXTS = [
  "Shown to customers on the order page.",
  "Internal use only; never exposed through the API.",
  "Set automatically by the nightly reconciliation job.",
  "Leave empty to inherit the value from the parent account.",
];
const VERBOSE_NAMES = ["Größe", "Café menu", "Numéro", "Título", "Ärende", "名前", "Prix unitaire"];

// ---------------------------------------------------------------------------------------------
// Python values, rendered the way Django's serializer writes them

/** A Python call expression: `callee(args..., key=value...)`. */
function call(callee, args = [], kwargs = []) {
  return { t: "call", callee, args, kwargs };
}
/** Raw Python source kept as is (names, dotted paths, already-rendered literals). */
function raw(text) {
  return { t: "raw", text };
}
function list(items) {
  return { t: "list", items };
}
function tuple(items) {
  return { t: "tuple", items };
}
function set(items) {
  return { t: "set", items };
}
function dict(entries) {
  return { t: "dict", entries };
}

/**
 * Renders a value. `style.q` is the quote character: Django's own writer uses single quotes;
 * Django >= 4.1 reformats with black when it is installed, which switches to double quotes and
 * explodes lines longer than 88 characters with a magic trailing comma.
 */
function render(value, style, indent) {
  if (typeof value === "string") return quote(value, style.q);
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null) return "None";
  switch (value.t) {
    case "raw":
      return value.text;
    case "call": {
      const parts = [
        ...value.args.map((a) => render(a, style, indent + 1)),
        ...value.kwargs.map(([k, v]) => `${k}=${render(v, style, indent + 1)}`),
      ];
      const inline = `${value.callee}(${parts.join(", ")})`;
      if (!style.black || indent * 4 + inline.length <= 88 || parts.length === 0) return inline;
      const pad = "    ".repeat(indent + 1);
      return `${value.callee}(\n${parts.map((p) => `${pad}${p},\n`).join("")}${"    ".repeat(indent)})`;
    }
    case "list":
      return `[${value.items.map((i) => render(i, style, indent + 1)).join(", ")}]`;
    case "tuple": {
      const items = value.items.map((i) => render(i, style, indent + 1));
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
    }
    case "set":
      return `{${value.items.map((i) => render(i, style, indent + 1)).join(", ")}}`;
    case "dict":
      return `{${value.entries.map(([k, v]) => `${quote(k, style.q)}: ${render(v, style, indent + 1)}`).join(", ")}}`;
    default:
      throw new Error(`cannot render ${JSON.stringify(value)}`);
  }
}

function quote(text, q) {
  const escaped = text.replace(/\\/g, "\\\\").replace(new RegExp(q, "g"), `\\${q}`).replace(/\n/g, "\\n");
  return `${q}${escaped}${q}`;
}

// ---------------------------------------------------------------------------------------------
// Fields

/**
 * A field in the tracked state: its type and kwargs. `kwargs` is kept sorted by key, because
 * Django's serializer writes deconstructed kwargs in sorted order.
 */
function fieldCall(field) {
  const kwargs = Object.entries(field.kwargs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return call(field.type, [], kwargs);
}

function newField(rng, ctx, name) {
  const kinds = [
    () => ({ type: "models.CharField", kwargs: { max_length: rng.pick([32, 64, 100, 128, 255]) } }),
    () => ({ type: "models.CharField", kwargs: { blank: true, max_length: rng.pick([50, 200]) } }),
    () => ({ type: "models.TextField", kwargs: { blank: true } }),
    () => ({ type: "models.IntegerField", kwargs: { default: 0 } }),
    () => ({ type: "models.PositiveIntegerField", kwargs: { null: true, blank: true } }),
    () => ({ type: "models.BooleanField", kwargs: { default: rng.chance(0.7) ? false : true } }),
    () => ({ type: "models.DateTimeField", kwargs: { auto_now_add: true } }),
    () => ({ type: "models.DateTimeField", kwargs: { blank: true, null: true } }),
    () => ({ type: "models.DateField", kwargs: { default: raw("django.utils.timezone.now") }, imports: ["import django.utils.timezone"] }),
    () => ({ type: "models.DecimalField", kwargs: { decimal_places: 2, default: raw("0"), max_digits: rng.pick([8, 10, 12]) } }),
    () => ({ type: "models.JSONField", kwargs: { blank: true, default: raw("dict") } }),
    () => ({ type: "models.UUIDField", kwargs: { default: raw("uuid.uuid4"), editable: false, unique: true }, imports: ["import uuid"] }),
    () => ({ type: "models.EmailField", kwargs: { max_length: 254 } }),
    () => ({ type: "models.SlugField", kwargs: rng.chance(0.3) ? { max_length: 80, unique: true } : { max_length: 80 } }),
    () => ({ type: "models.CharField", kwargs: { choices: list([tuple(["draft", "Draft"]), tuple(["live", "Live"]), tuple(["closed", "Closed"])]), default: "draft", max_length: 16 } }),
  ];
  const field = rng.pick(kinds)();
  if (rng.chance(0.04)) field.kwargs.verbose_name = rng.pick(VERBOSE_NAMES);
  else if (rng.chance(0.3)) field.kwargs.verbose_name = name.replace(/_/g, " ");
  if (rng.chance(0.12)) field.kwargs.help_text = rng.pick(HELP_TEXTS);
  if (rng.chance(0.08)) field.kwargs.db_index = true;
  field.name = name;
  void ctx;
  return field;
}

/** A ForeignKey to `target` (`{ app, model }`), or to the swappable user model. */
function foreignKey(rng, target, relatedName) {
  const kwargs = {
    on_delete: raw(`django.db.models.deletion.${rng.pick(["CASCADE", "CASCADE", "PROTECT", "SET_NULL"])}`),
    to: target.swappable ? raw("settings.AUTH_USER_MODEL") : `${target.app}.${target.model.toLowerCase()}`,
  };
  if (kwargs.on_delete.text.endsWith("SET_NULL")) {
    kwargs.null = true;
    kwargs.blank = true;
  }
  if (relatedName) kwargs.related_name = relatedName;
  const imports = ["import django.db.models.deletion"];
  if (target.swappable) imports.push("from django.conf import settings");
  return { type: "models.ForeignKey", kwargs, imports, fk: target };
}

// ---------------------------------------------------------------------------------------------
// The model state of one app

function cloneState(state) {
  const models = new Map();
  for (const [name, model] of state.models) {
    models.set(name, {
      ...model,
      fields: new Map([...model.fields].map(([k, f]) => [k, { ...f, kwargs: { ...f.kwargs } }])),
      unique: [...model.unique],
      locked: new Set(model.locked),
    });
  }
  return { models };
}

function modelTable(app, model) {
  return `${app}_${model.toLowerCase()}`;
}

/** Fields that may be altered: not the primary key. */
function userFields(model) {
  return [...model.fields.values()].filter((f) => f.name !== "id");
}

/**
 * Fields that may be removed or renamed: not the primary key, and not named by an index,
 * constraint or unique_together (Django's state would then refer to a field that is gone).
 */
function freeFields(model) {
  return userFields(model).filter((f) => !model.locked.has(f.name));
}

/** Whether a field of another model (in this app) points at `modelName`. */
function hasInboundFk(state, app, modelName) {
  for (const model of state.models.values()) {
    for (const field of model.fields.values()) {
      if (field.fk && !field.fk.swappable && field.fk.app === app && field.fk.model === modelName && model.name !== modelName) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Operations

/**
 * The operation mix of issue 7. Weights are percentages; the last eight share the remaining 16%.
 */
const OPERATION_WEIGHTS = [
  ["AlterField", 30],
  ["AddField", 28],
  ["CreateModel", 14],
  ["RunPython", 6],
  ["RemoveField", 6],
  ["AddIndex", 2.5],
  ["RunSQL", 2.5],
  ["AlterUniqueTogether", 2],
  ["AddConstraint", 2],
  ["RenameField", 2],
  ["DeleteModel", 1.5],
  ["SeparateDatabaseAndState", 1.5],
  ["Custom", 2],
];
const TOTAL_WEIGHT = OPERATION_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function pickKind(rng) {
  let r = rng.next() * TOTAL_WEIGHT;
  for (const [kind, weight] of OPERATION_WEIGHTS) {
    r -= weight;
    if (r < 0) return kind;
  }
  return OPERATION_WEIGHTS[0][0];
}

/**
 * Everything one migration file needs besides its operations: imports, module-level functions,
 * extra dependencies, whether it must be non-atomic.
 */
function newFileContext() {
  return { imports: new Set(["from django.db import migrations"]), functions: [], deps: [], atomic: true, fragments: [] };
}

function useImports(fileCtx, field) {
  if (field.type.startsWith("models.") || field.usesModels) fileCtx.imports.add("from django.db import migrations, models");
  for (const imp of field.imports ?? []) fileCtx.imports.add(imp);
}

function freshName(rng, taken, words) {
  for (let i = 0; i < 20; i++) {
    const name = rng.pick(words);
    if (!taken.has(name)) return name;
  }
  let n = 2;
  const base = rng.pick(words);
  while (taken.has(`${base}_${n}`)) n++;
  return `${base}_${n}`;
}

/**
 * Generates one operation of `kind` against the state, mutating the state. Returns null when the
 * state makes the kind impossible (no field to remove...), and the caller picks another kind.
 */
function makeOperation(kind, g, fileCtx) {
  const { rng, state, app } = g;
  const models = [...state.models.values()];
  const anyModel = () => rng.pick(models);
  switch (kind) {
    case "CreateModel": {
      const name = freshName(rng, state.models, MODEL_WORDS);
      const model = { name, fields: new Map(), unique: [], locked: new Set(), permanent: false };
      model.fields.set("id", { name: "id", type: "models.BigAutoField", kwargs: { auto_created: true, primary_key: true, serialize: false, verbose_name: "ID" } });
      const count = rng.int(3, 11);
      for (let i = 0; i < count; i++) {
        const fname = freshName(rng, model.fields, FIELD_WORDS);
        model.fields.set(fname, { ...newField(rng, g, fname), name: fname });
      }
      const fk = pickFkTarget(g, name);
      if (fk) {
        const fname = fk.swappable ? rng.pick(["owner", "created_by", "user"]) : fk.model.toLowerCase();
        if (!model.fields.has(fname)) model.fields.set(fname, { ...foreignKey(rng, fk, null), name: fname });
        if (fk.dependency) fileCtx.deps.push(fk.dependency);
      }
      state.models.set(name, model);
      const fields = [...model.fields.values()];
      for (const f of fields) useImports(fileCtx, f);
      const kwargs = [
        ["name", name],
        ["fields", raw(renderFieldList(fields, g.style))],
      ];
      if (rng.chance(0.35)) {
        kwargs.push(["options", dict([["ordering", list([rng.pick(["-id", "id", userFieldsName(model)])])], ["verbose_name_plural", `${name.toLowerCase()}s`]])]);
      }
      fileCtx.fragments.push(name.toLowerCase());
      return call("migrations.CreateModel", [], kwargs);
    }
    case "AddField": {
      if (models.length === 0) return null;
      const model = anyModel();
      const fname = freshName(rng, model.fields, FIELD_WORDS);
      let field;
      const fk = rng.chance(0.15) ? pickFkTarget(g, model.name) : null;
      if (fk) {
        field = { ...foreignKey(rng, fk, rng.chance(0.5) ? `${model.name.toLowerCase()}_${fname}s` : null), name: fname };
        field.kwargs.null = true;
        field.kwargs.blank = true;
        if (fk.dependency) fileCtx.deps.push(fk.dependency);
      } else {
        field = newField(rng, g, fname);
      }
      model.fields.set(fname, field);
      useImports(fileCtx, field);
      const kwargs = [
        ["model_name", model.name.toLowerCase()],
        ["name", fname],
        ["field", fieldCall(field)],
      ];
      if (!fk && field.type === "models.CharField" && !field.kwargs.blank && !("default" in field.kwargs) && rng.chance(0.5)) {
        // makemigrations' one-off default for a new NOT NULL column.
        kwargs[2] = ["field", fieldCall({ ...field, kwargs: { ...field.kwargs, default: "" } })];
        kwargs.push(["preserve_default", false]);
      }
      fileCtx.fragments.push(`${model.name.toLowerCase()}_${fname}`);
      return call("migrations.AddField", [], kwargs);
    }
    case "AlterField": {
      const candidates = models.filter((m) => userFields(m).some((f) => !f.fk));
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(userFields(model).filter((f) => !f.fk));
      const next = { ...field, kwargs: { ...field.kwargs } };
      const change = rng.int(0, 4);
      if (change === 0 && "max_length" in next.kwargs) next.kwargs.max_length = next.kwargs.max_length * 2;
      else if (change === 1) {
        if (next.kwargs.null) delete next.kwargs.null;
        else next.kwargs.null = true;
      } else if (change === 2) {
        if (next.kwargs.db_index) delete next.kwargs.db_index;
        else next.kwargs.db_index = true;
      } else if (change === 3) next.kwargs.help_text = rng.pick(["Shown to customers.", "Internal use only.", "Deprecated, see docs."]);
      else next.kwargs.blank = !next.kwargs.blank;
      model.fields.set(field.name, next);
      useImports(fileCtx, next);
      fileCtx.fragments.push(`alter_${model.name.toLowerCase()}_${field.name}`);
      return call("migrations.AlterField", [], [
        ["model_name", model.name.toLowerCase()],
        ["name", field.name],
        ["field", fieldCall(next)],
      ]);
    }
    case "RemoveField": {
      const candidates = models.filter((m) => freeFields(m).length > 1);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(freeFields(model));
      model.fields.delete(field.name);
      fileCtx.fragments.push(`remove_${model.name.toLowerCase()}_${field.name}`);
      return call("migrations.RemoveField", [], [
        ["model_name", model.name.toLowerCase()],
        ["name", field.name],
      ]);
    }
    case "RenameField": {
      const candidates = models.filter((m) => freeFields(m).length > 0);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(freeFields(model));
      const newName = freshName(rng, model.fields, FIELD_WORDS);
      model.fields.delete(field.name);
      model.fields.set(newName, { ...field, name: newName });
      fileCtx.fragments.push(`rename_${field.name}_${model.name.toLowerCase()}_${newName}`);
      return call("migrations.RenameField", [], [
        ["model_name", model.name.toLowerCase()],
        ["old_name", field.name],
        ["new_name", newName],
      ]);
    }
    case "DeleteModel": {
      const candidates = models.filter((m) => !m.permanent && !hasInboundFk(state, app, m.name) && !g.externalRefs.has(m.name));
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      state.models.delete(model.name);
      fileCtx.fragments.push(`delete_${model.name.toLowerCase()}`);
      return call("migrations.DeleteModel", [], [["name", model.name]]);
    }
    case "AddIndex": {
      const candidates = models.filter((m) => userFields(m).length > 0);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(userFields(model));
      const name = `${modelTable(app, model.name).slice(0, 11)}_${field.name.slice(0, 7)}_${rng.hex(6)}_idx`;
      model.locked.add(field.name);
      fileCtx.imports.add("from django.db import migrations, models");
      fileCtx.fragments.push(`${model.name.toLowerCase()}_${name}`);
      return call("migrations.AddIndex", [], [
        ["model_name", model.name.toLowerCase()],
        ["index", call("models.Index", [], [["fields", list([field.name])], ["name", name]])],
      ]);
    }
    case "AddConstraint": {
      const candidates = models.filter((m) => userFields(m).length > 0);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const fields = userFields(model);
      fileCtx.imports.add("from django.db import migrations, models");
      const numeric = fields.find((f) => /Integer|Decimal/.test(f.type));
      let constraint;
      if (numeric && rng.chance(0.5)) {
        model.locked.add(numeric.name);
        constraint = call("models.CheckConstraint", [], [
          ["check", call("models.Q", [], [[`${numeric.name}__gte`, raw("0")]])],
          ["name", `${model.name.toLowerCase()}_${numeric.name}_non_negative`],
        ]);
      } else {
        const picked = fields.slice(0, Math.min(2, fields.length)).map((f) => f.name);
        for (const f of picked) model.locked.add(f);
        constraint = call("models.UniqueConstraint", [], [
          ["fields", tuple(picked)],
          ["name", `unique_${model.name.toLowerCase()}_${picked.join("_")}`],
        ]);
      }
      fileCtx.fragments.push(`${model.name.toLowerCase()}_constraint`);
      return call("migrations.AddConstraint", [], [
        ["model_name", model.name.toLowerCase()],
        ["constraint", constraint],
      ]);
    }
    case "AlterUniqueTogether": {
      const candidates = models.filter((m) => userFields(m).length >= 2);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const fields = userFields(model);
      const pair = [fields[0].name, fields[1].name];
      model.unique = [pair];
      for (const f of pair) model.locked.add(f);
      fileCtx.fragments.push(`alter_${model.name.toLowerCase()}_unique_together`);
      return call("migrations.AlterUniqueTogether", [], [
        ["name", model.name.toLowerCase()],
        ["unique_together", set([tuple(pair)])],
      ]);
    }
    case "RunPython": {
      const candidates = models.filter((m) => userFields(m).some((f) => !f.fk));
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(userFields(model).filter((f) => !f.fk));
      const fn = `${rng.pick(["populate", "backfill", "forwards", "copy", "fix"])}_${field.name}`;
      if (!fileCtx.functions.some((f) => f.name === fn)) {
        const q = g.style.q;
        fileCtx.functions.push({
          name: fn,
          text: [
            `def ${fn}(apps, schema_editor):`,
            `    ${model.name} = apps.get_model(${q}${app}${q}, ${q}${model.name}${q})`,
            `    db_alias = schema_editor.connection.alias`,
            `    for obj in ${model.name}.objects.using(db_alias).filter(${field.name}__isnull=True).iterator(chunk_size=2000):`,
            `        obj.${field.name} = ${defaultLiteral(field, q)}`,
            `        obj.save(update_fields=[${q}${field.name}${q}])`,
          ].join("\n"),
        });
      }
      fileCtx.fragments.push(null);
      const args = [raw(fn), raw("migrations.RunPython.noop")];
      return call("migrations.RunPython", args, rng.chance(0.3) ? [["elidable", true]] : []);
    }
    case "RunSQL": {
      const candidates = models.filter((m) => userFields(m).length > 0);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(userFields(model));
      const table = modelTable(app, model.name);
      fileCtx.fragments.push(null);
      if (rng.chance(0.5)) {
        fileCtx.atomic = false;
        const index = `${table}_${field.name}_idx`.slice(0, 63);
        return call("migrations.RunSQL", [], [
          ["sql", `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${index} ON ${table} (${field.name});`],
          ["reverse_sql", `DROP INDEX CONCURRENTLY IF EXISTS ${index};`],
        ]);
      }
      return call("migrations.RunSQL", [], [
        ["sql", `UPDATE ${table} SET ${field.name} = NULL WHERE ${field.name} IS NOT NULL AND id < 0;`],
        ["reverse_sql", raw("migrations.RunSQL.noop")],
      ]);
    }
    case "SeparateDatabaseAndState": {
      const candidates = models.filter((m) => freeFields(m).length > 1);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(freeFields(model));
      model.fields.delete(field.name);
      fileCtx.fragments.push(null);
      // The "stop using the column, drop it later" pattern: state forgets the field now, and the
      // column stays in the database until a later release drops it by hand.
      return call("migrations.SeparateDatabaseAndState", [], [
        ["state_operations", list([call("migrations.RemoveField", [], [["model_name", model.name.toLowerCase()], ["name", field.name]])])],
        ["database_operations", list([])],
      ]);
    }
    case "Custom": {
      const candidates = models.filter((m) => userFields(m).length > 0);
      if (candidates.length === 0) return null;
      const model = rng.pick(candidates);
      const field = rng.pick(userFields(model));
      fileCtx.imports.add("from myproject.ops import BackfillOp");
      fileCtx.fragments.push(null);
      return call("BackfillOp", [], [
        ["model_name", model.name.toLowerCase()],
        ["field", field.name],
        ["batch_size", rng.pick([500, 1000, 5000])],
      ]);
    }
    default:
      throw new Error(`unknown operation kind ${kind}`);
  }
}

function userFieldsName(model) {
  const fields = userFields(model);
  return fields.length ? fields[0].name : "id";
}

function defaultLiteral(field, q) {
  if ("default" in field.kwargs) {
    const d = field.kwargs.default;
    if (typeof d === "string") return `${q}${d}${q}`;
    if (typeof d === "boolean") return d ? "True" : "False";
    if (typeof d === "number") return String(d);
    if (d && d.t === "raw") return d.text === "dict" ? "{}" : d.text === "0" ? "0" : "None";
  }
  if (/Integer|Decimal/.test(field.type)) return "0";
  if (/Boolean/.test(field.type)) return "False";
  if (/Char|Text|Slug|Email/.test(field.type)) return `${q}${q}`;
  return "None";
}

/**
 * A foreign key target: another model of this app (no extra dependency), a permanent model of an
 * earlier app (cross-app dependency on its 0001), or the swappable user model.
 */
function pickFkTarget(g, ownModel) {
  const { rng, state, app } = g;
  const roll = rng.next();
  if (roll < 0.2) return { swappable: true, dependency: { swappable: true } };
  if (roll < 0.55 && g.earlierApps.length > 0) {
    const other = rng.pick(g.earlierApps);
    other.externalRefs.add(other.permanentModel);
    return { app: other.label, model: other.permanentModel, dependency: { app: other.label, name: other.firstMigration } };
  }
  const local = [...state.models.keys()].filter((m) => m !== ownModel);
  if (local.length === 0) return null;
  return { app, model: rng.pick(local) };
}

/**
 * The `fields=[...]` list of CreateModel: one `(name, field)` tuple per line. Black explodes a
 * tuple longer than 88 columns into one element per line.
 */
function renderFieldList(fields, style) {
  const pad = "    ".repeat(4);
  const lines = fields.map((f) => {
    const inline = `${pad}(${quote(f.name, style.q)}, ${render(fieldCall(f), { ...style, black: false }, 4)}),`;
    if (!style.black || inline.length <= 88) return inline;
    const inner = "    ".repeat(5);
    return `${pad}(\n${inner}${quote(f.name, style.q)},\n${inner}${render(fieldCall(f), style, 5)},\n${pad}),`;
  });
  return `[\n${lines.join("\n")}\n${"    ".repeat(3)}]`;
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * Renders a migration module in the layout of Django's MigrationWriter: header comment, sorted
 * imports, module-level functions, then the Migration class with one kwarg per line.
 */
function renderMigration({ style, version, date, imports, functions, initial, replaces, dependencies, atomic, operations }) {
  const q = style.q;
  const hasModels = [...imports].some((i) => i === "from django.db import migrations, models");
  const importSet = new Set(imports);
  if (hasModels) importSet.delete("from django.db import migrations");
  // Django sorts imports by the module name ("import x" and "from x import y" alike).
  const sortedImports = [...importSet].sort((a, b) => {
    const ka = a.split(" ")[1];
    const kb = b.split(" ")[1];
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const out = [];
  out.push(`# Generated by Django ${version} on ${date}`, "");
  out.push(...sortedImports, "");
  for (const fn of functions) out.push("", fn.text, "");
  out.push("", "class Migration(migrations.Migration):", "");
  if (replaces) {
    out.push("    replaces = [");
    for (const [app, name] of replaces) out.push(`        (${quote(app, q)}, ${quote(name, q)}),`);
    out.push("    ]", "");
  }
  if (initial) out.push("    initial = True", "");
  if (!atomic) out.push("    atomic = False", "");
  if (dependencies.length === 0 && style.black) out.push("    dependencies = []", "");
  else {
    out.push("    dependencies = [");
    for (const dep of dependencies) {
      if (dep.swappable) out.push("        migrations.swappable_dependency(settings.AUTH_USER_MODEL),");
      else out.push(`        (${quote(dep.app, q)}, ${quote(dep.name, q)}),`);
    }
    out.push("    ]", "");
  }
  out.push("    operations = [");
  for (const op of operations) out.push(renderOperation(op, style));
  out.push("    ]", "");
  return out.join("\n");
}

/** An operation call, exploded one kwarg per line as OperationWriter does. */
function renderOperation(op, style, depth = 2) {
  const pad = "    ".repeat(depth);
  const inner = "    ".repeat(depth + 1);
  const lines = [`${pad}${op.callee}(`];
  for (const arg of op.args) lines.push(`${inner}${render(arg, style, depth + 1)},`);
  for (const [key, value] of op.kwargs) {
    if (value && value.t === "list" && value.items.length && value.items[0].t === "call" && value.items[0].callee.startsWith("migrations.")) {
      lines.push(`${inner}${key}=[`);
      for (const nested of value.items) lines.push(renderOperation(nested, style, depth + 2));
      lines.push(`${inner}],`);
    } else {
      lines.push(`${inner}${key}=${render(value, style, depth + 1)},`);
    }
  }
  lines.push(`${pad}),`);
  return lines.join("\n");
}

/** Django's auto-naming: fragments joined by `_`, `_and_more` past 52 characters, else `auto_<ts>`. */
function migrationName(number, fragments, initial, stamp, customName) {
  const prefix = String(number).padStart(4, "0");
  if (initial) return `${prefix}_initial`;
  // Data migrations are often named by hand (`makemigrations --name`), else Django falls back.
  if (customName) return `${prefix}_${customName}`;
  if (fragments.length === 0 || fragments.some((f) => f === null)) return `${prefix}_auto_${stamp}`;
  let name = fragments.join("_");
  if (name.length > 52) name = `${fragments[0]}_and_more`;
  return `${prefix}_${name}`;
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

/** A date for the header, advancing with the migration number. */
function dateFor(base, appIndex, number, rng) {
  const d = new Date(base.getTime() + (number * 3 + appIndex) * 86400000 + rng.int(0, 86399) * 1000);
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  const stamp = `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}_${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}`;
  return { date, stamp };
}

function appLabel(index) {
  const word = APP_WORDS[index % APP_WORDS.length];
  const round = Math.floor(index / APP_WORDS.length);
  return round === 0 ? word : `${word}${round + 1}`;
}

function className(label) {
  return label.split(/_/).map((p) => p[0].toUpperCase() + p.slice(1)).join("") + "Config";
}

/**
 * Generates one app's migrations. Returns the files written and the facts later apps need for
 * cross-app foreign keys.
 */
function generateApp({ out, index, label, migrations, seed, earlierApps, wantSquash }) {
  const rng = makeRandom(seed * 1000003 + index * 7919);
  const style = rng.chance(0.3) ? { q: '"', black: true } : { q: "'", black: false };
  const version = `4.2.${rng.int(1, 16)}`;
  const base = new Date(Date.UTC(2022, 0, 1));
  const appDir = path.join(out, label);
  const migDir = path.join(appDir, "migrations");
  fs.mkdirSync(migDir, { recursive: true });
  fs.writeFileSync(path.join(appDir, "__init__.py"), "");
  fs.writeFileSync(path.join(migDir, "__init__.py"), "");
  fs.writeFileSync(
    path.join(appDir, "apps.py"),
    `from django.apps import AppConfig\n\n\nclass ${className(label)}(AppConfig):\n    default_auto_field = 'django.db.models.BigAutoField'\n    name = '${label}'\n`,
  );
  fs.writeFileSync(path.join(appDir, "models.py"), "from django.db import models  # noqa: F401 (models live in migrations for the benchmark)\n");

  const g = { rng, app: label, state: { models: new Map() }, style, earlierApps, externalRefs: new Set() };
  // A squash replaces the first `squashAt` migrations; it takes one of the M file slots.
  const regular = wantSquash ? migrations - 1 : migrations;
  const squashAt = wantSquash ? Math.max(2, Math.floor(regular * 0.4)) : 0;
  let squashSnapshot = null;
  const names = [];
  let written = 0;
  let firstMigration = null;
  let permanentModel = null;

  for (let number = 1; number <= regular; number++) {
    const fileCtx = newFileContext();
    const initial = number === 1;
    const ops = [];
    if (initial) {
      const count = rng.int(1, 2);
      for (let i = 0; i < count; i++) ops.push(makeOperation("CreateModel", g, fileCtx));
      const first = [...g.state.models.values()][0];
      first.permanent = true;
      permanentModel = first.name;
    } else {
      const count = rng.chance(0.45) ? 1 : rng.int(2, 6);
      while (ops.length < count) {
        let op = null;
        for (let attempt = 0; op === null && attempt < 8; attempt++) op = makeOperation(pickKind(rng), g, fileCtx);
        if (op === null) op = makeOperation("CreateModel", g, fileCtx);
        ops.push(op);
      }
    }
    const { date, stamp } = dateFor(base, index, number, rng);
    const customName = fileCtx.fragments.some((f) => f === null) && rng.chance(0.5) ? (fileCtx.functions[0]?.name ?? rng.pick(["data_migration", "backfill", "concurrent_indexes"])) : null;
    const name = migrationName(number, fileCtx.fragments, initial, stamp, customName);
    if (initial) firstMigration = name;
    const dependencies = [];
    const seen = new Set();
    for (const dep of fileCtx.deps) {
      const key = dep.swappable ? "swappable" : `${dep.app}.${dep.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (dep.swappable) fileCtx.imports.add("from django.conf import settings");
      dependencies.push(dep);
    }
    if (!initial) dependencies.push({ app: label, name: names[names.length - 1] });
    // Django lists swappable dependencies first, then the tuples sorted.
    dependencies.sort((a, b) => (a.swappable ? -1 : b.swappable ? 1 : `${a.app}.${a.name}` < `${b.app}.${b.name}` ? -1 : 1));
    const text = renderMigration({ style, version, date, imports: fileCtx.imports, functions: fileCtx.functions, initial, replaces: null, dependencies, atomic: fileCtx.atomic, operations: ops });
    fs.writeFileSync(path.join(migDir, `${name}.py`), text);
    written++;
    names.push(name);
    if (number === squashAt) squashSnapshot = { state: cloneState(g.state), names: [...names] };
  }

  if (wantSquash && squashSnapshot) {
    // `squashmigrations app 00NN`: one file whose operations rebuild the state at 00NN and which
    // `replaces` the originals; the originals stay on disk until every deploy has applied it.
    const fileCtx = newFileContext();
    fileCtx.imports.add("from django.db import migrations, models");
    const ops = [];
    const deferred = [];
    const emitted = new Set();
    for (const model of squashSnapshot.state.models.values()) {
      const fields = [];
      for (const f of model.fields.values()) {
        useImports(fileCtx, f);
        if (f.fk?.swappable) fileCtx.imports.add("from django.conf import settings");
        // A foreign key to a model the squash creates later is added after it, as the optimizer
        // of `squashmigrations` leaves it.
        if (f.fk && !f.fk.swappable && f.fk.app === label && !emitted.has(f.fk.model) && f.fk.model !== model.name) deferred.push([model, f]);
        else fields.push(f);
      }
      emitted.add(model.name);
      ops.push(call("migrations.CreateModel", [], [["name", model.name], ["fields", raw(renderFieldList(fields, style))]]));
    }
    for (const [model, f] of deferred) {
      ops.push(call("migrations.AddField", [], [["model_name", model.name.toLowerCase()], ["name", f.name], ["field", fieldCall(f)]]));
    }
    for (const model of squashSnapshot.state.models.values()) {
      if (model.unique.length) ops.push(call("migrations.AlterUniqueTogether", [], [["name", model.name.toLowerCase()], ["unique_together", set(model.unique.map((p) => tuple(p)))]]));
    }
    const deps = [];
    const seen = new Set();
    for (const model of squashSnapshot.state.models.values()) {
      for (const f of model.fields.values()) {
        if (f.fk?.swappable && !seen.has("swappable")) {
          seen.add("swappable");
          deps.push({ swappable: true });
        } else if (f.fk && !f.fk.swappable && f.fk.app !== label) {
          const other = earlierApps.find((a) => a.label === f.fk.app);
          const key = `${other.label}.${other.firstMigration}`;
          if (!seen.has(key)) {
            seen.add(key);
            deps.push({ app: other.label, name: other.firstMigration });
          }
        }
      }
    }
    const last = squashSnapshot.names[squashSnapshot.names.length - 1];
    const name = `0001_squashed_${last}`;
    const { date } = dateFor(base, index, squashAt, rng);
    const text = renderMigration({
      style,
      version,
      date,
      imports: fileCtx.imports,
      functions: [],
      initial: true,
      replaces: squashSnapshot.names.map((n) => [label, n]),
      dependencies: deps,
      atomic: true,
      operations: ops,
    });
    fs.writeFileSync(path.join(migDir, `${name}.py`), text);
    written++;
  }

  return {
    info: { label, firstMigration, permanentModel, externalRefs: g.externalRefs },
    files: written,
  };
}

/**
 * Writes a Django project into `out` (which must not exist or be empty): a settings module,
 * the custom operation module, and `apps` apps with `migrations` migration files each.
 */
export function generateProject({ out, apps, migrations, seed = 7 }) {
  if (!Number.isInteger(apps) || apps < 1) throw new Error(`--apps must be a positive integer, got ${apps}`);
  if (!Number.isInteger(migrations) || migrations < 2) throw new Error(`--migrations must be an integer >= 2, got ${migrations}`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, "myproject"), { recursive: true });
  const labels = Array.from({ length: apps }, (_, i) => appLabel(i));
  fs.writeFileSync(path.join(out, "manage.py"), `#!/usr/bin/env python\nimport os\nimport sys\n\nif __name__ == "__main__":\n    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")\n    from django.core.management import execute_from_command_line\n\n    execute_from_command_line(sys.argv)\n`);
  fs.writeFileSync(path.join(out, "myproject", "__init__.py"), "");
  fs.writeFileSync(
    path.join(out, "myproject", "settings.py"),
    `SECRET_KEY = "benchmark-only"\nINSTALLED_APPS = [\n    "django.contrib.auth",\n    "django.contrib.contenttypes",\n${labels.map((l) => `    "${l}",\n`).join("")}]\nDATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "bench"}}\nDEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"\n`,
  );
  fs.writeFileSync(
    path.join(out, "myproject", "ops.py"),
    // rollsafe reads this module (the migrations import BackfillOp from it): a database_forwards
    // that runs queries is what it cannot verify, so the calls stay unknown operations.
    `from django.db.migrations.operations.base import Operation\nfrom django.db.models import F\n\n\nclass BackfillOp(Operation):\n    """Copies values in batches; a project-specific operation rollsafe does not know."""\n\n    reversible = True\n\n    def __init__(self, model_name, field, batch_size=1000):\n        self.model_name = model_name\n        self.field = field\n        self.batch_size = batch_size\n\n    def state_forwards(self, app_label, state):\n        pass\n\n    def database_forwards(self, app_label, schema_editor, from_state, to_state):\n        model = to_state.apps.get_model(app_label, self.model_name)\n        rows = model._default_manager.using(schema_editor.connection.alias)\n        pks = list(rows.values_list("pk", flat=True))\n        for start in range(0, len(pks), self.batch_size):\n            rows.filter(pk__in=pks[start : start + self.batch_size]).update(**{self.field: F(self.field)})\n\n    def database_backwards(self, app_label, schema_editor, from_state, to_state):\n        pass\n`,
  );
  const earlierApps = [];
  let files = 0;
  for (let i = 0; i < apps; i++) {
    const result = generateApp({ out, index: i, label: labels[i], migrations, seed, earlierApps, wantSquash: migrations >= 10 && i % 7 === 3 });
    files += result.files;
    earlierApps.push(result.info);
  }
  const manifest = { generatorVersion: GENERATOR_VERSION, apps, migrations, seed, files };
  fs.writeFileSync(path.join(out, ".bench-corpus.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The N×M split used for a target number of migration files. */
export function corpusSpecFor(files) {
  const table = { 250: [10, 25], 500: [20, 25], 1000: [40, 25], 5000: [100, 50], 20000: [200, 100] };
  if (table[files]) return { apps: table[files][0], migrations: table[files][1] };
  const migrations = files <= 2000 ? 25 : files <= 10000 ? 50 : 100;
  const apps = Math.max(1, Math.round(files / migrations));
  return { apps, migrations };
}

/** Returns the manifest if `dir` holds a complete corpus generated with these parameters. */
export function existingCorpus(dir, { apps, migrations, seed = 7 }) {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, ".bench-corpus.json"), "utf8"));
    if (manifest.generatorVersion === GENERATOR_VERSION && manifest.apps === apps && manifest.migrations === migrations && manifest.seed === seed) return manifest;
  } catch {
    // No manifest: not generated yet, or interrupted.
  }
  return null;
}

/** Generates the corpus into `dir` unless an identical one is already there. */
export function ensureCorpus(dir, spec) {
  return existingCorpus(dir, spec) ?? generateProject({ out: dir, ...spec });
}

function parseArgs(argv) {
  const opts = { seed: 7 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--out") opts.out = value();
    else if (arg === "--apps") opts.apps = Number(value());
    else if (arg === "--migrations") opts.migrations = Number(value());
    else if (arg === "--files") opts.files = Number(value());
    else if (arg === "--seed") opts.seed = Number(value());
    else if (arg === "--help" || arg === "-h") opts.help = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.help || !opts.out) {
      process.stdout.write("usage: node bench/generate-corpus.mjs --out DIR (--files N | --apps N --migrations M) [--seed S]\n");
      process.exitCode = opts.help ? 0 : 2;
    } else {
      const spec = opts.files ? corpusSpecFor(opts.files) : { apps: opts.apps, migrations: opts.migrations };
      const t0 = performance.now();
      const manifest = generateProject({ out: opts.out, ...spec, seed: opts.seed });
      process.stdout.write(`wrote ${manifest.files} migration files in ${manifest.apps} apps to ${opts.out} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
  } catch (error) {
    process.stderr.write(`generate-corpus: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
