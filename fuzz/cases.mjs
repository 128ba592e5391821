/**
 * Fuzz case generation: real migration fixtures mutated in ways that hostile or broken input
 * takes in practice. Every case is a pure function of `(seed, index)`, so a failure is
 * reproduced from its seed and case number alone (`npm run fuzz -- --seed S --case N`).
 *
 * Each case carries a label saying what rollsafe must conclude about the mutated file:
 * - `invalid`: CPython cannot compile it (so Django cannot load it): rollsafe must report a
 *   `parse-error` with a location;
 * - `too-large`: over rollsafe's file size limit: it must be reported (an `io-error`), not parsed;
 * - `same-as-seed`: the mutation does not change the meaning (a BOM, CRLF line ends): rollsafe
 *   must report exactly what it reports for the original;
 * - `any`: no claim from the generator; CPython, when available, is the oracle.
 */
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import path from "node:path";

/** mulberry32: a small, fast, seedable PRNG (deterministic across platforms). */
export function prng(seed) {
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
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

/** Mixes the run seed and a case number into one 32-bit seed. */
export function caseSeed(seed, index) {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

/**
 * The seed corpus: every migration module under `fixtures/` with its app's other migrations
 * (so that graph and state replay run over realistic history) and the app's `apps.py`.
 */
export function loadSeeds(repo) {
  const seeds = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === "migrations" && existsSync(path.join(full, "__init__.py"))) addApp(full);
        else walk(full);
      }
    }
  };
  const addApp = (migrationsDir) => {
    const appDir = path.dirname(migrationsDir);
    const files = readdirSync(migrationsDir)
      .filter((n) => n.endsWith(".py") && n !== "__init__.py" && statSync(path.join(migrationsDir, n)).isFile())
      .sort();
    const siblings = files.map((name) => ({ name, bytes: readFileSync(path.join(migrationsDir, name)) }));
    const appsPy = existsSync(path.join(appDir, "apps.py")) ? readFileSync(path.join(appDir, "apps.py")) : null;
    // Django skips modules named `_x` or `~x`, and so does rollsafe: they are siblings, never targets.
    for (const name of files.filter((n) => !/^[_~]/.test(n))) {
      seeds.push({
        rel: path.relative(repo, path.join(migrationsDir, name)).split(path.sep).join("/"),
        appName: path.basename(appDir),
        name,
        bytes: readFileSync(path.join(migrationsDir, name)),
        siblings,
        appsPy,
      });
    }
  };
  walk(path.join(repo, "fixtures"));
  return seeds;
}

// ---------------------------------------------------------------------------------------------
// A rough Python tokenizer: enough to find token boundaries and bracket depth.

const TOKEN =
  /(#[^\r\n]*)|((?:[rRbBuUfF]{1,2})?(?:'''[\s\S]*?'''|"""[\s\S]*?"""|'(?:\\[\s\S]|[^'\\\r\n])*'|"(?:\\[\s\S]|[^"\\\r\n])*"))|([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)|(\d[\w.]*)|([ \t\f]+|\r\n|\r|\n|\\\r?\n)|([\s\S])/y;

/** Splits source text into tokens: `{ start, end, text, depth }` (depth before the token). */
export function tokenize(text) {
  const tokens = [];
  let depth = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) break;
    const tok = match[0];
    tokens.push({ start, end: start + tok.length, text: tok, depth });
    if (tok === "(" || tok === "[" || tok === "{") depth++;
    else if (tok === ")" || tok === "]" || tok === "}") depth = Math.max(0, depth - 1);
  }
  return tokens;
}

/** Bracket depth after the whole text (0 for balanced text). */
function depthAfter(tokens) {
  const last = tokens[tokens.length - 1];
  if (!last) return 0;
  const t = last.text;
  return last.depth + (t === "(" || t === "[" || t === "{" ? 1 : t === ")" || t === "]" || t === "}" ? -1 : 0);
}

const utf8 = (s) => Buffer.from(s, "utf8");

/** Whether the seed declares a non-UTF-8 source encoding (then any byte is decodable). */
function hasForeignCoding(bytes) {
  const head = bytes.subarray(0, 400).toString("latin1").split(/\r?\n/).slice(0, 2);
  return head.some((l) => /^[ \t\f]*#.*?coding[:=][ \t]*(?!utf-?8)[-\w.]+/i.test(l));
}

/** Offsets just after a newline at bracket depth 0: places where a new statement may start. */
function statementStarts(text) {
  const starts = [0];
  for (const t of tokenize(text)) if ((t.text === "\n" || t.text === "\r\n") && t.depth === 0) starts.push(t.end);
  return starts;
}

/** Inserts `snippet` (whole lines) at module level, before the Migration class when there is one. */
function insertAtModuleLevel(text, snippet) {
  const cls = text.search(/^class /m);
  const at = cls >= 0 ? cls : text.length;
  const before = text.slice(0, at);
  return `${before}${before === "" || before.endsWith("\n") ? "" : "\n"}${snippet}\n${text.slice(at)}`;
}

/** Inserts operation source right after `operations = [`, or builds a migration around them. */
function insertOperations(text, opsSource) {
  const match = /^\s*operations\s*=\s*\[/m.exec(text);
  if (match) {
    const at = match.index + match[0].length;
    return `${text.slice(0, at)}\n${opsSource}\n${text.slice(at)}`;
  }
  return `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = []\n    operations = [\n${opsSource}\n    ]\n`;
}

// ---------------------------------------------------------------------------------------------
// Random Python values and operations with wrong argument types.

const OPERATION_NAMES = [
  "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable", "AlterUniqueTogether", "AlterIndexTogether",
  "AlterOrderWithRespectTo", "AlterModelOptions", "AlterModelManagers", "AddField", "RemoveField", "AlterField",
  "RenameField", "AddIndex", "RemoveIndex", "RenameIndex", "AddConstraint", "RemoveConstraint", "RunSQL",
  "RunPython", "SeparateDatabaseAndState", "AlterModelTableComment", "AlterConstraint",
];
const PARAMS = ["name", "model_name", "fields", "field", "old_name", "new_name", "table", "options", "bases", "index",
  "constraint", "sql", "reverse_sql", "state_operations", "database_operations", "code", "preserve_default",
  "unique_together", "managers", "old_fields", "hints", "elidable", "atomic"];
const FIELD_CLASSES = ["CharField", "IntegerField", "ForeignKey", "BooleanField", "TextField", "DecimalField",
  "ManyToManyField", "OneToOneField", "JSONField", "BigAutoField", "NotAField"];

function randomValue(rng, depth = 0) {
  const leaf = [
    () => String(rng.int(1000) - 500),
    () => "None",
    () => rng.pick(["True", "False"]),
    () => rng.pick(['""', '"x"', '"book"', '"library.book"', "'ïd'", '"a b"', '"1abc"', "b'\\x00'", "f'{x}'", '"\\\\"', "r'\\d'"]),
    () => rng.pick(["1.5", "-0.0", "1e308", "0x10", "1_000", "3j", "float('nan')"]),
    () => rng.pick(["x", "models", "models.CASCADE", "settings.AUTH_USER_MODEL", "lambda: 1", "...", "not_defined.attr"]),
  ];
  if (depth >= 3 || rng.chance(0.5)) return rng.pick(leaf)();
  const n = rng.int(4);
  const items = Array.from({ length: n }, () => randomValue(rng, depth + 1));
  switch (rng.int(5)) {
    case 0:
      return `[${items.join(", ")}]`;
    case 1:
      return `(${items.join(", ")}${n === 1 ? "," : ""})`;
    case 2:
      return `{${items.map((v, i) => `${rng.chance(0.7) ? JSON.stringify(`k${i}`) : v}: ${v}`).join(", ")}}`;
    case 3:
      return `models.${rng.pick(FIELD_CLASSES)}(${items.map((v, i) => (rng.chance(0.5) ? `${rng.pick(["max_length", "null", "default", "to", "on_delete", "db_index", "unique", "db_column", "primary_key"])}=${v}` : v)).join(", ")})`;
    default:
      return n === 0 ? "set()" : `{${items.join(", ")}}`;
  }
}

/** One operation call with arguments of random (mostly wrong) types. */
function randomOperation(rng, depth = 0) {
  const name = rng.pick(OPERATION_NAMES);
  const args = [];
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    const value = name === "SeparateDatabaseAndState" && depth < 3 && rng.chance(0.4)
      ? `[${randomOperation(rng, depth + 1)}]`
      : rng.chance(0.05)
        ? `${rng.pick(["*", "**"])}${randomValue(rng, 3)}`
        : randomValue(rng);
    if (value.startsWith("*") || rng.chance(0.4)) args.push(value);
    else args.push(`${rng.pick(PARAMS)}=${value}`);
  }
  // Python rejects a positional argument after a keyword one; keep the call valid syntax.
  const positional = args.filter((a) => !/^\w+=/.test(a) && !a.startsWith("**"));
  const keyword = args.filter((a) => /^\w+=/.test(a) || a.startsWith("**"));
  const unique = [...new Map(keyword.map((k, i) => [k.startsWith("**") ? `**${i}` : k.split("=")[0], k])).values()];
  return `migrations.${name}(${[...positional, ...unique].join(", ")})`;
}

/** Fixed wrong-type calls named in the issue, always among the candidates. */
const WRONG_TYPE_CLASSICS = [
  "migrations.RemoveField(1, None)",
  "migrations.AddField(model_name=['book'], name={'a': 1}, field=42)",
  "migrations.CreateModel(fields=42)",
  "migrations.CreateModel(name=None, fields=[('id',), 7, ('x', None), ()])",
  "migrations.RenameField('book', 1, 2)",
  "migrations.AlterField(model_name='book', name='title', field=models.CharField(max_length='many'))",
  "migrations.RunSQL(sql=42, reverse_sql=[None, 3])",
  "migrations.RunPython(1, 2)",
  "migrations.AddIndex(model_name='book', index=5)",
  "migrations.SeparateDatabaseAndState(database_operations=5, state_operations='x')",
  "migrations.AlterUniqueTogether(name='book', unique_together=1)",
  "migrations.DeleteModel()",
  "migrations.RenameModel(old_name=[], new_name={})",
  "migrations.AddConstraint(model_name='book', constraint=models.UniqueConstraint(fields=7, name=None))",
  "migrations.AlterModelTable('book', 12)",
  "migrations.RemoveIndex(model_name=None, name=None)",
];

// ---------------------------------------------------------------------------------------------
// Mutators. Each takes (rng, seed) and returns { bytes, label, note }.

const PY2_SNIPPETS = [
  { code: 'print "rollsafe"', label: "invalid" },
  // Also a valid Python 3 expression (`print >> sys.stderr, 'x'`): no claim.
  { code: "print >>sys.stderr, 'x'", label: "any" },
  { code: 'exec "x = 1"', label: "invalid" },
  { code: "X = 1 <> 2", label: "invalid" },
  { code: "X = 0777", label: "invalid" },
  { code: "X = 10L", label: "invalid" },
  { code: "X = `1`", label: "invalid" },
  { code: "X = ur'abc'", label: "invalid" },
  { code: "def f():\n    raise ValueError, 'x'", label: "invalid" },
  // `except A, B:` is valid again since Python 3.14 (PEP 758), so no claim is made.
  { code: "try:\n    pass\nexcept ValueError, TypeError:\n    pass", label: "any" },
];

const INVALID_UTF8 = [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]];

function deepCall(depth) {
  return "f(".repeat(depth) + "1" + ")".repeat(depth);
}

/** The mutators, with a weight for random selection. */
export const MUTATORS = {
  truncate: {
    weight: 10,
    run(rng, seed) {
      const text = seed.bytes.toString("utf8");
      const tokens = tokenize(text);
      const cut = tokens.length === 0 ? 0 : rng.int(tokens.length);
      return truncateAt(seed, tokens, cut);
    },
  },
  "flip-bytes": {
    weight: 10,
    run(rng, seed) {
      const bytes = Buffer.from(seed.bytes);
      const n = 1 + rng.int(8);
      for (let i = 0; i < n && bytes.length > 0; i++) bytes[rng.int(bytes.length)] ^= 1 + rng.int(255);
      return { bytes, label: "any", note: `${n} byte(s) flipped` };
    },
  },
  "nul-byte": {
    weight: 4,
    run(rng, seed) {
      const at = rng.int(seed.bytes.length + 1);
      return { bytes: Buffer.concat([seed.bytes.subarray(0, at), Buffer.from([0]), seed.bytes.subarray(at)]), label: "invalid", note: `NUL at byte ${at}` };
    },
  },
  "invalid-utf8": {
    weight: 4,
    run(rng, seed) {
      const at = rng.int(seed.bytes.length + 1);
      const bad = rng.pick(INVALID_UTF8);
      const bytes = Buffer.concat([seed.bytes.subarray(0, at), Buffer.from(bad), seed.bytes.subarray(at)]);
      // Inside a comment the bytes are harmless (CPython never decodes comments), elsewhere fatal:
      // CPython's verdict decides, not the insertion point.
      return { bytes, label: "any", note: `bytes ${bad.map((b) => b.toString(16)).join(" ")} at ${at}` };
    },
  },
  bom: {
    weight: 2,
    run(_rng, seed) {
      // A BOM changes nothing, unless a coding declaration names another encoding than utf-8:
      // then CPython refuses the file ("encoding problem: ... with BOM"), and its verdict decides.
      const cookie = /^[ \t\f]*#.*?coding[:=]/m.test(seed.bytes.subarray(0, 400).toString("latin1").split("\n").slice(0, 2).join("\n"));
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), seed.bytes]), label: cookie ? "any" : "same-as-seed", note: "UTF-8 BOM" };
    },
  },
  "unicode-space": {
    weight: 2,
    run(rng, seed) {
      // tree-sitter skips every Unicode space between tokens; CPython takes only space, tab and
      // form feed there (in strings and comments anything goes): CPython's verdict decides.
      const text = seed.bytes.toString("utf8");
      const spaces = [...text.matchAll(/ /g)].map((m) => m.index);
      if (spaces.length === 0) return { bytes: seed.bytes, label: "same-as-seed", note: "no space to replace" };
      const at = rng.pick(spaces);
      const space = rng.pick(["\v", "\f", "\u00a0", "\u2003", "\u200b", "\u3000", "\ufeff"]);
      const bytes = Buffer.from(text.slice(0, at) + space + text.slice(at + 1), "utf8");
      return { bytes, label: "any", note: `U+${space.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")} for the space at ${at}` };
    },
  },
  crlf: {
    weight: 2,
    run(_rng, seed) {
      const text = seed.bytes.toString("latin1").replace(/\r?\n/g, "\r\n");
      return { bytes: Buffer.from(text, "latin1"), label: "same-as-seed", note: "CRLF line ends" };
    },
  },
  "mixed-line-ends": {
    weight: 3,
    run(rng, seed) {
      const text = seed.bytes.toString("latin1").replace(/\n/g, () => rng.pick(["\n", "\r\n", "\r", "\n"]));
      return { bytes: Buffer.from(text, "latin1"), label: "any", note: "mixed LF, CRLF and CR" };
    },
  },
  "mixed-tabs": {
    weight: 3,
    run(rng, seed) {
      const text = seed.bytes.toString("latin1").replace(/^( {4})+/gm, (indent) => (rng.chance(0.3) ? "\t".repeat(indent.length / 4) : rng.chance(0.5) ? indent.replace(/ {8}/, "\t") : indent));
      return { bytes: Buffer.from(text, "latin1"), label: "any", note: "indentation partly turned into tabs" };
    },
  },
  python2: {
    weight: 4,
    run(rng, seed) {
      const snippet = rng.pick(PY2_SNIPPETS);
      const text = insertAtModuleLevel(seed.bytes.toString("utf8"), snippet.code);
      return { bytes: utf8(text), label: hasForeignCoding(seed.bytes) ? "any" : snippet.label, note: `Python 2: ${snippet.code.split("\n").join(" / ")}`, utf8Rewritten: true };
    },
  },
  "deep-nesting": {
    weight: 3,
    run(rng, seed) {
      const depth = rng.pick([5000, 5000, 1000, 250, 150, 50]);
      const kind = rng.pick(["call", "list", "attr", "field-default", "operation-arg"]);
      const text = seed.bytes.toString("utf8");
      let out;
      let label = depth > 200 ? "invalid" : "any";
      if (kind === "call") out = insertAtModuleLevel(text, `X = ${deepCall(depth)}`);
      else if (kind === "list") out = insertAtModuleLevel(text, `X = ${"[".repeat(depth)}${"]".repeat(depth)}`);
      else if (kind === "attr") {
        out = insertAtModuleLevel(text, `X = a${".b".repeat(depth)}`);
        label = "any";
      } else if (kind === "field-default") {
        out = insertOperations(text, `        migrations.AddField(model_name="book", name="deep", field=models.IntegerField(default=${deepCall(depth)})),`);
      } else {
        out = insertOperations(text, `        migrations.RemoveField(${deepCall(depth)}, ${"[".repeat(depth)}${"]".repeat(depth)}),`);
      }
      return { bytes: utf8(out), label: hasForeignCoding(seed.bytes) ? "any" : label, note: `${depth}-deep ${kind}`, utf8Rewritten: true };
    },
  },
  "long-line": {
    weight: 2,
    run(rng, seed) {
      const size = rng.pick([1 << 20, 1 << 20, 200_000]);
      const kind = rng.pick(["comment", "string", "identifier", "expression"]);
      const text = seed.bytes.toString("utf8");
      let out;
      if (kind === "comment") out = insertAtModuleLevel(text, `# ${"x".repeat(size)}`);
      else if (kind === "string") out = insertOperations(text, `        migrations.AlterModelOptions(name="book", options={"verbose_name": "${"é".repeat(size / 2)}"}),`);
      else if (kind === "identifier") out = insertAtModuleLevel(text, `${"a".repeat(size)} = 1`);
      else out = insertAtModuleLevel(text, `X = ${"1 + ".repeat(size / 4)}1`);
      return { bytes: utf8(out), label: "any", note: `${(size / 1024).toFixed(0)} KiB ${kind} line`, utf8Rewritten: true, big: true };
    },
  },
  "huge-file": {
    weight: 0,
    run(rng, seed) {
      const target = 20 * 1024 * 1024;
      const line = `# ${"padding ".repeat(12)}\n`;
      const pad = Buffer.from(line.repeat(Math.ceil(target / line.length)));
      return { bytes: Buffer.concat([seed.bytes, pad]), label: "too-large", note: "20 MiB file", big: true };
    },
  },
  "big-valid-file": {
    weight: 0,
    run(_rng, seed) {
      // Under the size limit: parsed in full, which is where memory and time can explode.
      const ops = [];
      let size = 0;
      for (let i = 0; size < 3 * 1024 * 1024; i++) {
        const op = `        migrations.AddField(model_name="book", name="f${i}", field=models.IntegerField(null=True)),`;
        ops.push(op);
        size += op.length + 1;
      }
      return { bytes: utf8(insertOperations(seed.bytes.toString("utf8"), ops.join("\n"))), label: "any", note: `${ops.length} operations (~3 MiB)`, utf8Rewritten: true, big: true };
    },
  },
  empty: {
    weight: 1,
    run(rng) {
      const text = rng.pick(["", "\n", "   \n\n\t\n", "# only a comment\n", "\ufeff"]);
      return { bytes: utf8(text), label: "any", note: `empty-ish file ${JSON.stringify(text)}` };
    },
  },
  binary: {
    weight: 2,
    run(rng) {
      const headers = [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], [0x50, 0x4b, 0x03, 0x04], []];
      const head = Buffer.from(rng.pick(headers));
      const body = Buffer.alloc(rng.int(4096) + 1);
      const noNul = rng.chance(0.3);
      for (let i = 0; i < body.length; i++) body[i] = noNul ? 1 + rng.int(255) : rng.int(256);
      const bytes = Buffer.concat([head, body]);
      let valid = true;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        valid = false;
      }
      return { bytes, label: bytes.includes(0) || !valid ? "invalid" : "any", note: `${bytes.length} random bytes` };
    },
  },
  "wrong-types": {
    weight: 8,
    run(rng, seed) {
      const ops = [];
      const n = 1 + rng.int(4);
      for (let i = 0; i < n; i++) ops.push(`        ${rng.chance(0.3) ? rng.pick(WRONG_TYPE_CLASSICS) : randomOperation(rng)},`);
      return { bytes: utf8(insertOperations(seed.bytes.toString("utf8"), ops.join("\n"))), label: "any", note: ops.map((o) => o.trim()).join(" "), utf8Rewritten: true };
    },
  },
  "nested-sdas": {
    weight: 3,
    run(rng, seed) {
      const levels = rng.pick([2, 5, 20, 60, 99, 400, 2000]);
      let inner = rng.chance(0.5) ? rng.pick(WRONG_TYPE_CLASSICS) : 'migrations.RemoveField(model_name="book", name="title")';
      for (let i = 0; i < levels; i++) {
        inner = rng.chance(0.5)
          ? `migrations.SeparateDatabaseAndState(database_operations=[${inner}])`
          : `migrations.SeparateDatabaseAndState(state_operations=[${inner}], database_operations=[${inner.length < 2000 ? inner : "migrations.RunSQL('')"}])`;
      }
      const text = insertOperations(seed.bytes.toString("utf8"), `        ${inner},`);
      // Each level opens `(` and `[`; `operations = [` and the innermost call add a few more.
      const depth = depthAfterMax(text);
      // The estimate can be off by one or two around CPython's limit of 200: claim only well past it.
      return { bytes: utf8(text), label: hasForeignCoding(seed.bytes) ? "any" : depth > 210 ? "invalid" : "any", note: `${levels} nested SeparateDatabaseAndState (bracket depth ${depth})`, utf8Rewritten: true };
    },
  },
  "token-edit": {
    weight: 8,
    run(rng, seed) {
      const text = seed.bytes.toString("utf8");
      const tokens = tokenize(text).filter((t) => !/^\s+$/.test(t.text));
      if (tokens.length === 0) return { bytes: seed.bytes, label: "any", note: "no tokens" };
      const pieces = [];
      const edits = 1 + rng.int(3);
      let out = text;
      for (let i = 0; i < edits; i++) {
        const current = tokenize(out).filter((t) => !/^\s+$/.test(t.text));
        if (current.length === 0) break;
        const t = rng.pick(current);
        const other = rng.pick(current);
        const op = rng.pick(["delete", "duplicate", "replace"]);
        pieces.push(`${op} ${JSON.stringify(t.text.slice(0, 20))}`);
        if (op === "delete") out = out.slice(0, t.start) + out.slice(t.end);
        else if (op === "duplicate") out = out.slice(0, t.end) + " " + t.text + out.slice(t.end);
        else out = out.slice(0, t.start) + other.text + out.slice(t.end);
      }
      return { bytes: utf8(out), label: "any", note: pieces.join(", "), utf8Rewritten: true };
    },
  },
  dependencies: {
    weight: 3,
    run(rng, seed) {
      const text = seed.bytes.toString("utf8");
      const options = [
        "[('nope', '0001_initial')]",
        `[('${seed.appName}', '${seed.name.slice(0, -3)}')]`,
        "[(1, 2), None, ('a',), ('a', 'b', 'c')]",
        "42",
        "[migrations.swappable_dependency(42)]",
        "[('__setting__', '__first__')]",
        `[('${seed.appName}', '__latest__'), ('${seed.appName}', '__first__')]`,
      ];
      const replacement = rng.pick(options);
      const out = /dependencies\s*=\s*\[[\s\S]*?\]\n/.test(text)
        ? text.replace(/dependencies\s*=\s*\[[\s\S]*?\]\n/, `dependencies = ${replacement}\n`)
        : insertOperations(text, "");
      const extra = rng.chance(0.3) ? out.replace(/^(\s*)dependencies\s*=/m, `$1replaces = ${rng.pick(options)}\n$1run_before = ${rng.pick(options)}\n$1dependencies =`) : out;
      return { bytes: utf8(extra), label: "any", note: `dependencies = ${replacement}`, utf8Rewritten: true };
    },
  },
};

function depthAfterMax(text) {
  let max = 0;
  for (const t of tokenize(text)) max = Math.max(max, t.depth);
  return max + 1;
}

/** Truncates the seed just before token number `cut` (a token boundary). */
export function truncateAt(seed, tokens, cut) {
  const text = seed.bytes.toString("utf8");
  const offset = tokens[cut]?.start ?? text.length;
  const kept = tokens.slice(0, cut);
  const open = depthAfter(kept) > 0;
  const bytes = utf8(text.slice(0, offset));
  return { bytes, label: open && !hasForeignCoding(seed.bytes) ? "invalid" : "any", note: `truncated before token ${cut} (byte ${bytes.length})`, utf8Rewritten: true };
}

const RANDOM_MUTATORS = Object.entries(MUTATORS).filter(([, m]) => m.weight > 0);
const TOTAL_WEIGHT = RANDOM_MUTATORS.reduce((sum, [, m]) => sum + m.weight, 0);

function pickMutator(rng) {
  let r = rng.next() * TOTAL_WEIGHT;
  for (const [name, m] of RANDOM_MUTATORS) {
    r -= m.weight;
    if (r < 0) return name;
  }
  return RANDOM_MUTATORS[0][0];
}

/**
 * Builds case `index` of the run `seed`. The first cases go through every mutator once (so even a
 * small run covers each), the rest pick mutators by weight; some stack two or three mutators.
 * A seed file written in a foreign encoding is only mutated byte-wise (text mutators assume UTF-8).
 */
export function generateCase(seeds, seed, index, options = {}) {
  const rng = prng(caseSeed(seed, index));
  const names = Object.keys(MUTATORS);
  const forced = options.forced ?? names;
  const mutatorName = index < forced.length ? forced[index] : pickMutator(rng);
  const source = rng.pick(seeds);
  let result = MUTATORS[mutatorName].run(rng, source);
  const steps = [mutatorName];
  if (index >= forced.length && !result.big && result.label !== "same-as-seed" && rng.chance(0.15)) {
    // Stacked mutations: the claims of each step no longer hold, so no label.
    const second = pickMutator(rng);
    if (!["long-line"].includes(second)) {
      const r2 = MUTATORS[second].run(rng, { ...source, bytes: result.bytes });
      result = { ...r2, label: "any", note: `${result.note}; then ${r2.note}` };
      steps.push(second);
    }
  }
  // A `migrations/` directory without a numbered module is not taken for Django's, so a seed
  // like `utils.py` keeps its numbered siblings.
  const withSiblings = !/^\d/.test(source.name) || (!result.big && rng.chance(0.6));
  return {
    index,
    seedFile: source.rel,
    mutator: steps.join("+"),
    label: result.label,
    note: result.note,
    appName: source.appName,
    fileName: source.name,
    bytes: result.bytes,
    original: source.bytes,
    siblings: withSiblings ? source.siblings.filter((s) => s.name !== source.name) : [],
    appsPy: source.appsPy,
  };
}

/** Every token-boundary truncation of one seed file, as cases. */
export function sweepCases(seed) {
  const tokens = tokenize(seed.bytes.toString("utf8"));
  return Array.from({ length: tokens.length }, (_, cut) => {
    const result = truncateAt(seed, tokens, cut);
    return {
      index: cut,
      seedFile: seed.rel,
      mutator: "truncate-sweep",
      label: result.label,
      note: result.note,
      appName: seed.appName,
      fileName: seed.name,
      bytes: result.bytes,
      original: seed.bytes,
      siblings: seed.siblings.filter((s) => s.name !== seed.name),
      appsPy: seed.appsPy,
    };
  });
}
