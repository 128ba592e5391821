/**
 * What tree-sitter-python accepts but CPython 3 refuses to compile. The grammar is deliberately
 * lenient (it still parses Python 2 and recovers from indentation slips), but Django imports
 * migrations with CPython, so each of these makes `migrate` fail: they must be parse errors.
 * Found by the fuzzer (`npm run fuzz`) with CPython's `compile()` as the oracle.
 */
import type Parser from "tree-sitter";
import type { LightNode } from "./light-tree.js";

type SyntaxNode = LightNode;

/** A construct CPython rejects: where it starts and ends (string offsets) and why. */
export interface Python3Violation {
  startIndex: number;
  endIndex: number;
  message: string;
}

/** CPython's tokenizer refuses more than 200 open brackets (`MAXLEVEL`, "too many nested parentheses"). */
const MAX_BRACKET_LEVEL = 200;

/** CPython's tokenizer refuses a 100th level of indentation (`MAXINDENT`, "too many levels of indentation"). */
const MAX_INDENT_LEVEL = 99;

/**
 * 99 spaces in a row: with no tab in the text, the only way a line reaches column 99, which 100
 * levels need (each level is at least one column deeper). A third of a regular expression's cost.
 */
const SPACES_TO_LEVEL_99 = " ".repeat(MAX_INDENT_LEVEL);

/**
 * The first line CPython refuses for indenting a 100th level, or null. Read before
 * the parse, because tree-sitter-python's scanner keeps every level and, from about 500 of them,
 * fails an assertion in its serialisation that aborts the whole process: such a file is reported
 * without being parsed. Levels are counted as CPython's tokenizer counts them: at the start of a
 * logical line (not inside brackets or a string, not after a backslash), blank and comment-only
 * lines aside, a tab advancing to the next multiple of 8.
 */
export function tooDeeplyIndented(text: string): Python3Violation | null {
  if (!text.includes("\t") && !text.includes(SPACES_TO_LEVEL_99)) return null;
  const levels = [0];
  for (const event of lineStructure(text)) {
    if (event.kind !== "line") continue;
    const { start, column, end: j } = event;
    if (j < text.length && text[j] !== "\n" && text[j] !== "#" && !(text[j] === "\\" && text[j + 1] === "\n")) {
      if (column > (levels[levels.length - 1] ?? 0)) {
        if (levels.length > MAX_INDENT_LEVEL) {
          const end = text.indexOf("\n", start);
          return { startIndex: start, endIndex: end < 0 ? text.length : end, message: `too many levels of indentation (CPython allows ${MAX_INDENT_LEVEL})` };
        }
        levels.push(column);
      } else {
        while (levels.length > 1 && column < (levels[levels.length - 1] ?? 0)) levels.pop();
      }
    }
  }
  return null;
}

/** What CPython's tokenizer sees of a text's lines, in order (`lineStructure`). */
type LineEvent =
  /** A logical line starts at `start`: its indentation's `column`, and `end`, its first other character. */
  | { kind: "line"; start: number; column: number; end: number }
  /** A line break inside brackets at `at`, ending a line that holds a comment or not. */
  | { kind: "continuation"; at: number; afterComment: boolean }
  /** A string literal that does not close. */
  | { kind: "unterminated" };

/**
 * The line structure of `text` as CPython's tokenizer reads it: a logical line starts after a line
 * break outside brackets; line breaks in strings and comments do not count, and a backslash
 * joins two lines.
 */
function* lineStructure(text: string): Generator<LineEvent> {
  let brackets = 0;
  let lineStart = true;
  let comment = false;
  for (let i = 0; i < text.length; ) {
    if (lineStart) {
      lineStart = false;
      const { column, end } = indentation(text, i);
      yield { kind: "line", start: i, column, end };
      i = end;
      continue;
    }
    const c = text[i];
    if (c === "#") {
      comment = true;
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (c === '"' || c === "'") {
      const string = readString(text, i);
      if (!string.closed) yield { kind: "unterminated" };
      i = string.end;
    } else if (c === "\\") {
      i += 2;
    } else {
      if (c === "(" || c === "[" || c === "{") brackets++;
      else if ((c === ")" || c === "]" || c === "}") && brackets > 0) brackets--;
      else if (c === "\n") {
        if (brackets === 0) lineStart = true;
        else yield { kind: "continuation", at: i, afterComment: comment };
        comment = false;
      }
      i++;
    }
  }
}

/**
 * `text` with the `=` of each `:=` that opens a format spec in an f-string's replacement field
 * made a space, or null when there is none. There an unparenthesized `:=` is never an assignment
 * expression (PEP 572): `f"{x:=^10}"` formats `x` with the spec `=^10` (`=` as the fill,
 * centred). tree-sitter-python reads it as one and fails on what follows when that is not an
 * expression (`{x:=}`, `{x:=^10}`, `{x:=<{width}}`): a valid file then read as a parse error.
 * The same length, so every offset holds; a format spec is text no rule reads. `root`: the tree
 * of `text`.
 */
export function separateFormatSpecs(text: string, root: Parser.SyntaxNode): string | null {
  const equals: number[] = [];
  for (const field of root.descendantsOfType("interpolation")) {
    const expression = field.childForFieldName("expression");
    const name = expression?.type === "named_expression" ? expression.childForFieldName("name") : null;
    if (!name) continue;
    let at = name.endIndex;
    while (text[at] === " " || text[at] === "\t") at++;
    if (text[at] === ":" && text[at + 1] === "=") equals.push(at + 1);
  }
  if (equals.length === 0) return null;
  // Offsets are the string's (UTF-16) indices, as tree-sitter's are here.
  let out = "";
  let from = 0;
  for (const at of equals.sort((a, b) => a - b)) {
    out += `${text.slice(from, at)} `;
    from = at + 1;
  }
  return out + text.slice(from);
}

/**
 * `text` with each line break inside brackets that precedes a line indented less than the logical
 * line it continues made a space (a CRLF two), or null when there is none. Such a line is one
 * CPython joins like any other inside brackets, but tree-sitter-python's scanner emits a dedent
 * before it and fails to parse `f(a=` then `b)` at column 0 inside a class. The same length, so
 * every offset holds. A line break after a comment is kept (the comment would swallow the line).
 * Null for a text with an unterminated string: its line break must stay the error it is.
 */
export function joinDedentedContinuations(text: string): string | null {
  let joined: string[] | null = null;
  let logicalColumn = 0;
  for (const event of lineStructure(text)) {
    if (event.kind === "unterminated") return null;
    if (event.kind === "line") {
      if (event.end < text.length && text[event.end] !== "\n" && text[event.end] !== "#") logicalColumn = event.column;
    } else if (!event.afterComment && indentation(text, event.at + 1).column < logicalColumn) {
      joined ??= [...text];
      joined[event.at] = " ";
      if (text[event.at - 1] === "\r") joined[event.at - 1] = " ";
    }
  }
  return joined ? joined.join("") : null;
}

/**
 * The indentation of the line starting at `lineStart`, as CPython's tokenizer measures it: with
 * tabs to the next multiple of 8 (`column`) and with tabs as one column (`alt`, for TabError); a
 * form feed starts again from 0. `end`: the offset of the line's first other character.
 */
function indentation(text: string, lineStart: number): { column: number; alt: number; end: number } {
  let column = 0;
  let alt = 0;
  let i = lineStart;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (ch === " ") {
      column++;
      alt++;
    } else if (ch === "\t") {
      column = (Math.floor(column / 8) + 1) * 8;
      alt++;
    } else if (ch === "\f") {
      column = 0;
      alt = 0;
    } else break;
  }
  return { column, alt, end: i };
}

/** The offset just past the string literal whose opening quote is at `start`, and whether it closes (an unterminated one ends at its line's end or the text's). */
function readString(text: string, start: number): { end: number; closed: boolean } {
  const quote = text[start] as string;
  const triple = text.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  for (let i = start + close.length; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (!triple && c === "\n") return { end: i, closed: false };
    else if (text.startsWith(close, i)) return { end: i + close.length, closed: true };
  }
  return { end: text.length, closed: false };
}

/** Python 3 string prefixes are r, u, b, f (3.14: t) and r combined with b, f or t; never u with another. */
const STRING_PREFIX = /^([A-Za-z]*)['"]/;
const VALID_PREFIX = /^(?:[rRuUbBfFtT]|[rR][bBfFtT]|[bBfFtT][rR])?$/;

/** Node types every file is checked for. */
const ALWAYS = ["print_statement", "exec_statement", "<>", "raise_statement", "argument_list", "import_from_statement", "block", "named_expression", "as_pattern", "try_statement"];

/** The clauses one of which a `try` needs: tree-sitter accepts a `try:` block alone (a file cut after it). */
const TRY_ENDINGS = new Set(["except_clause", "except_group_clause", "finally_clause"]);

/**
 * Where CPython's grammar takes `x as y` (tree-sitter's `as_pattern`), by the type of its parent:
 * a `with` item (alone in parentheses too), an `except` clause and a `case` pattern. tree-sitter-python reads one as an
 * expression anywhere (`c as d` as a statement, a call's argument, in parentheses), where CPython
 * says "invalid syntax". Checked against CPython 3.11.
 */
const AS_PARENTS = new Set(["with_item", "except_clause", "except_group_clause", "case_pattern"]);

/**
 * Operators tree-sitter-python binds looser than its `as`, where Python binds `as` last: `with a
 * if b else c as d` and `except A or B as e` put the `as_pattern` inside the operator.
 */
const LOOSER_THAN_AS = new Set(["conditional_expression", "boolean_operator", "not_operator", "comparison_operator", "binary_operator", "unary_operator", "lambda", "await"]);

function asAllowed(node: SyntaxNode): boolean {
  let child = node;
  let parent = node.parent;
  while (parent && LOOSER_THAN_AS.has(parent.type)) {
    // Only at the operator's right end: `with a if b as c else d:` is invalid.
    const operands = parent.namedChildren.filter((c) => c.type !== "comment");
    if (operands[operands.length - 1] !== child) return false;
    child = parent;
    parent = parent.parent;
  }
  if (!parent) return false;
  if (AS_PARENTS.has(parent.type)) return true;
  // One `with` item in parentheses, `with (a as b):` or with a trailing comma `with (a as b,):`.
  return (parent.type === "parenthesized_expression" || parent.type === "tuple") && parent.parent?.type === "with_item";
}

/**
 * Where CPython's grammar takes an unparenthesized assignment expression (`x := 1`), by the type
 * of its parent in tree-sitter's tree: a call's positional argument, an element of a list, set or
 * parenthesized tuple, a subscript, the condition of `if`, `elif` and `while`, a decorator, a
 * `match` subject, a list or set comprehension's or a generator's element, and parentheses. A
 * case guard (`if_clause` under `case_clause`) too. tree-sitter-python takes one anywhere an
 * expression goes (as a statement, an assignment's value, a keyword argument, a default, a
 * lambda's body ...), where CPython says "invalid syntax". Each checked against CPython 3.11.
 * (In an f-string's `{x:=1}` the `:` starts a format spec: tree-sitter's `interpolation`.)
 */
const WALRUS_PARENTS = new Set([
  "parenthesized_expression",
  "argument_list",
  "list",
  "set",
  "tuple",
  "subscript",
  "if_statement",
  "elif_clause",
  "while_statement",
  "decorator",
  "match_statement",
  "list_comprehension",
  "set_comprehension",
  "generator_expression",
  "interpolation",
]);

function walrusAllowed(node: SyntaxNode): boolean {
  const parent = node.parent;
  if (!parent) return false;
  return WALRUS_PARENTS.has(parent.type) || (parent.type === "if_clause" && parent.parent?.type === "case_clause");
}
const BRACKETS = ["(", "[", "{", ")", "]", "}"];
/** A Python 2 octal (`0777`) or long (`10L`) literal outside a string could be in the text. */
const MAYBE_PY2_INTEGER = /(?<![\w."'])(?:0[0-9_]*[1-9][0-9_]*|\d+[lL])(?![\w.])/;
/** Letters right before a quote: a string prefix to check (or words inside other strings). */
const QUOTE_PREFIX = /(?<![\w])([A-Za-z]{1,3})['"]/g;

/** Whether the text may hold a string with a backquote or an invalid prefix (a cheap gate). */
function mayHaveBadString(source: string): boolean {
  if (source.includes("`")) return true;
  for (const match of source.matchAll(QUOTE_PREFIX)) if (!VALID_PREFIX.test(match[1] ?? "")) return true;
  return false;
}

/**
 * Characters tree-sitter-python skips as whitespace (its extras: `\s`, which is Unicode's
 * White_Space, and U+200B, U+2060, U+FEFF) that CPython's tokenizer refuses outside strings and
 * comments, where it takes only space, tab and form feed between tokens: a no-break space pasted
 * from a web page, a vertical tab. CPython calls each an "invalid non-printable character".
 */
const FOREIGN_WHITESPACE = /[\v\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]/g;

/** Where the text has FOREIGN_WHITESPACE outside every string and comment (the decoder drops a leading BOM). */
function foreignWhitespace(root: SyntaxNode, source: string, add: (start: number, message: string) => void): void {
  let quoted: SyntaxNode[] | null = null;
  let next = 0;
  for (const match of source.matchAll(FOREIGN_WHITESPACE)) {
    const at = match.index;
    // Strings are copied whole (f-strings' replacement fields included) and comments are tokens.
    quoted ??= root.descendantsOfType(["string", "comment"]);
    while (next < quoted.length && (quoted[next] as SyntaxNode).endIndex <= at) next++;
    const inside = next < quoted.length && (quoted[next] as SyntaxNode).startIndex <= at;
    if (!inside) add(at, `invalid non-printable character U+${(match[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`);
  }
}

/** Whether the text opens enough brackets that the nesting limit could be hit (the bracket tokens are then needed). */
export function mayNestTooDeep(source: string): boolean {
  return countOpenBrackets(source) > MAX_BRACKET_LEVEL;
}

function countOpenBrackets(source: string): number {
  let count = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source.charCodeAt(i);
    if (ch === 40 || ch === 91 || ch === 123) count++;
  }
  return count;
}

/**
 * Returns every place where the tree holds syntax that CPython 3 does not accept (at most
 * `limit`). One `descendantsOfType` pass collects every node of interest; node types that
 * are common but rarely wrong (integers, strings, brackets) are only collected when a cheap text
 * check says a violation is possible.
 */
export function python3Violations(root: SyntaxNode, source: string, limit = 20): Python3Violation[] {
  const found: Python3Violation[] = [];
  const add = (node: SyntaxNode, message: string) => {
    if (found.length < limit) found.push({ startIndex: node.startIndex, endIndex: node.endIndex, message });
  };
  const types = [...ALWAYS, ...CLAUSES];
  if (MAYBE_PY2_INTEGER.test(source)) types.push("integer");
  if (mayHaveBadString(source)) types.push("string");
  const checkBrackets = mayNestTooDeep(source);
  if (checkBrackets) types.push(...BRACKETS);
  const blocks: SyntaxNode[] = [];
  const clauses: SyntaxNode[] = [];
  const brackets: SyntaxNode[] = [];
  for (const node of root.descendantsOfType(types)) {
    switch (node.type) {
      case "print_statement":
      case "exec_statement":
        // `print >>f, x` is also a valid Python 3 expression (a tuple holding a shift).
        if (node.namedChildren[0]?.type !== "chevron") add(node, `Python 2 \`${node.type === "print_statement" ? "print" : "exec"}\` statement`);
        break;
      case "<>":
        add(node, "Python 2 `<>` operator");
        break;
      case "integer":
        // `0777` (Python 2 octal) and `10L` (Python 2 long); `0`, `00`, `0_0` stay valid.
        if (/^0[0-9_]*[1-9]/.test(node.text) || /[lL]$/.test(node.text)) add(node, `Python 2 integer literal \`${node.text}\``);
        break;
      case "string": {
        const text = node.text;
        if (text.startsWith("`")) {
          add(node, "Python 2 backquotes");
          break;
        }
        const prefix = STRING_PREFIX.exec(text)?.[1] ?? "";
        if (!VALID_PREFIX.test(prefix)) add(node, `string prefix \`${prefix}\` is not valid in Python 3`);
        break;
      }
      case "raise_statement":
        // `raise E, "message"`: the Python 2 form.
        if (node.namedChildren[0]?.type === "expression_list") add(node, "Python 2 `raise E, value`");
        break;
      case "argument_list":
        checkArguments(node, add);
        break;
      case "import_from_statement":
        checkFromImport(node, add);
        break;
      case "named_expression":
        if (!walrusAllowed(node)) add(node, "an assignment expression (`:=`) is not allowed here without parentheses: invalid syntax");
        break;
      case "as_pattern":
        if (!asAllowed(node)) add(node, "`as` outside `with`, `except` and `case`: invalid syntax");
        break;
      case "try_statement":
        if (!node.children.some((c) => TRY_ENDINGS.has(c.type))) add(node, "expected 'except' or 'finally' block");
        break;
      case "block":
        blocks.push(node);
        if (!node.namedChildren.some((c) => c.type !== "comment")) add(node.parent ?? node, "expected an indented block");
        break;
      default:
        if (BRACKETS.includes(node.type)) brackets.push(node);
        else clauses.push(node);
    }
  }
  foreignWhitespace(root, source, (start, message) => {
    if (found.length < limit) found.push({ startIndex: start, endIndex: start + 1, message });
  });
  const deep = checkBrackets ? deepestBracket(brackets) : null;
  if (deep) add(deep, `too many nested parentheses (CPython allows ${MAX_BRACKET_LEVEL})`);
  const indentation = inconsistentIndentation(root, source, blocks, clauses);
  if (indentation) found.push(indentation);
  // In a tree with an error, tree-sitter's own errors already make the file a parse error.
  if (!root.hasError) {
    const hasCR = source.includes("\r");
    for (const statements of [root, ...blocks]) {
      for (const statement of statements.namedChildren) {
        if (found.length >= limit) break;
        const at = SIMPLE_STATEMENTS.has(statement.type) ? strayLineBreak([statement], statement.startIndex, statement.endIndex, source, hasCR) : headerLineBreak(statement, source, hasCR);
        if (at >= 0) found.push({ startIndex: statement.startIndex, endIndex: at, message: "line break inside a statement, outside brackets and without a backslash: invalid syntax" });
      }
    }
  }
  return found;
}

/**
 * Statements that end at the end of their logical line. (Compound statements span lines by
 * design: their headers are checked, `headerLineBreak`.)
 */
const SIMPLE_STATEMENTS = new Set([
  "expression_statement",
  "return_statement",
  "delete_statement",
  "raise_statement",
  "pass_statement",
  "break_statement",
  "continue_statement",
  "import_statement",
  "import_from_statement",
  "future_import_statement",
  "assert_statement",
  "global_statement",
  "nonlocal_statement",
  "type_alias_statement",
]);

/** Compound statements and their clauses: a header (`class A(B):`, `elif x:`) that ends at its colon, then a block. */
const COMPOUND = new Set([
  "class_definition",
  "function_definition",
  "if_statement",
  "elif_clause",
  "else_clause",
  "for_statement",
  "while_statement",
  "with_statement",
  "try_statement",
  "except_clause",
  "except_group_clause",
  "finally_clause",
  "match_statement",
  "case_clause",
]);

/**
 * `strayLineBreak` of a compound statement's header, and of its clauses' (`elif`, `else`,
 * `except` ...): from the statement's start to the colon after the last node before its block.
 * CPython ends the logical line at a line break there too (`class\nMigration(...):` is invalid
 * syntax), where tree-sitter-python, expecting the rest of the header, skips it as whitespace.
 */
function headerLineBreak(statement: SyntaxNode, source: string, hasCR: boolean): number {
  if (statement.type === "decorated_definition") {
    const definition = statement.childForFieldName("definition");
    return definition ? headerLineBreak(definition, source, hasCR) : -1;
  }
  if (!COMPOUND.has(statement.type)) return -1;
  const header: SyntaxNode[] = [];
  let colon = -1;
  for (const child of statement.children) {
    // The colon is copied in a full tree (tests compare it with the shortened one), not otherwise.
    if (child.type === ":") colon = child.startIndex;
    if (child.type === "block" || child.type === ":") break;
    if (child.type !== "comment") header.push(child);
  }
  const last = header[header.length - 1];
  if (colon < 0) colon = source.indexOf(":", last ? last.endIndex : statement.startIndex);
  if (colon >= 0) {
    const at = strayLineBreak(header, statement.startIndex, colon, source, hasCR);
    if (at >= 0) return at;
  }
  for (const clause of statement.namedChildren) {
    if (!COMPOUND.has(clause.type)) continue;
    const at = headerLineBreak(clause, source, hasCR);
    if (at >= 0) return at;
  }
  return -1;
}

/** The offset of the character before the line break that ends at `at` (LF, CR, or the LF of CRLF). */
function beforeLineBreak(text: string, at: number): number {
  return text.charCodeAt(at) === 0x0a && text.charCodeAt(at - 1) === 0x0d ? at - 2 : at - 1;
}

const OPENING = new Set(["(", "[", "{"]);
const CLOSING = new Set([")", "]", "}"]);

/**
 * The offset of the first line break in `source[start, end)`, read through `nodes` (a
 * statement, or the nodes of a compound statement's header), that CPython's tokenizer ends the
 * logical line at (outside brackets, not after a backslash), or -1. tree-sitter-python's scanner
 * emits a NEWLINE token only where the grammar can take one, so after `=` or an operator it
 * skips the line break as whitespace: `initial =` on one line and `dependencies = []` on the next
 * parse as one chained assignment.
 *
 * The light tree leaves out punctuation, so the text between two copied tokens holds only
 * whitespace, backslashes and left-out punctuation, brackets among them: scanning those gaps
 * gives the bracket depth exactly. A subtree without a line break has balanced brackets and is
 * stepped over whole, as are strings and comments.
 */
function strayLineBreak(nodes: SyntaxNode[], start: number, end: number, source: string, hasCR: boolean): number {
  const spans = (first: number, last: number): boolean => {
    const lf = source.indexOf("\n", first);
    return (lf >= 0 && lf < last) || (hasCR && source.slice(first, last).includes("\r"));
  };
  const spansLines = (node: SyntaxNode): boolean => spans(node.startIndex, node.endIndex);
  if (!spans(start, end)) return -1;
  let depth = 0;
  let from = start;
  /** Scans source[from, to) for brackets and line breaks; the offending offset, or -1. */
  const gap = (to: number): number => {
    for (let i = from; i < to; i++) {
      const ch = source.charCodeAt(i);
      if (ch === 0x28 || ch === 0x5b || ch === 0x7b) depth++;
      else if (ch === 0x29 || ch === 0x5d || ch === 0x7d) depth--;
      else if ((ch === 0x0a || ch === 0x0d) && depth <= 0) {
        // A backslash right before LF, CR or CRLF joins the lines (one in the gap: a comment's
        // last backslash is in the comment, before the gap).
        const before = beforeLineBreak(source, i);
        if (before < from || source.charCodeAt(before) !== 0x5c) return i;
      }
    }
    return -1;
  };
  // Pre-order, iteratively (a statement can nest deeper than the call stack allows).
  const stack: SyntaxNode[] = [...nodes].reverse();
  while (stack.length > 0) {
    const node = stack.pop() as SyntaxNode;
    if (node.children.length === 0 || node.type === "string" || node.type === "comment" || !spansLines(node)) {
      const at = gap(node.startIndex);
      if (at >= 0) return at;
      // Bracket tokens are copied where a reader needs them (from-imports, deep nesting).
      if (OPENING.has(node.type)) depth++;
      else if (CLOSING.has(node.type)) depth--;
      from = node.endIndex;
    } else {
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as SyntaxNode);
    }
  }
  return gap(end);
}

type Add = (node: SyntaxNode, message: string) => void;

function checkArguments(node: SyntaxNode, add: Add): void {
  // `f(,)`: tree-sitter takes a lone comma for an empty argument list (the comma is not copied).
  if (node.namedChildren.every((c) => c.type === "comment") && node.text.replace(/#[^\n]*/g, "").includes(",")) {
    add(node, "a comma without an argument: invalid syntax");
    return;
  }
  let keyword = false;
  let doubleSplat = false;
  const names = new Set<string>();
  for (const arg of node.namedChildren) {
    if (arg.type === "comment") continue;
    if (arg.type === "keyword_argument") {
      keyword = true;
      const name = arg.childForFieldName("name")?.text ?? "";
      if (names.has(name)) add(arg, `keyword argument repeated: \`${name}\``);
      names.add(name);
    } else if (arg.type === "dictionary_splat") doubleSplat = true;
    else if (arg.type === "list_splat") {
      if (doubleSplat) add(arg, "`*` unpacking after `**` unpacking");
    } else if (keyword || doubleSplat) {
      add(arg, `positional argument follows ${keyword ? "keyword argument" : "`**` unpacking"}`);
    }
  }
}

function checkFromImport(node: SyntaxNode, add: Add): void {
  const children = node.children;
  if (children[children.length - 1]?.type === "," && !children.some((c) => c.type === "(")) {
    add(node, "trailing comma not allowed without surrounding parentheses");
  }
  // `from m import a.b`: the grammar allows a dotted name, Python only a plain one.
  for (const name of node.childrenForFieldName("name")) {
    const imported = name.type === "aliased_import" ? name.childForFieldName("name") : name;
    if (imported && imported.namedChildren.length > 1) add(imported, "a from-import names plain identifiers, not dotted names");
  }
}

/** The first bracket that opens level 201, or null. */
function deepestBracket(brackets: SyntaxNode[]): SyntaxNode | null {
  if (brackets.length <= MAX_BRACKET_LEVEL) return null;
  let level = 0;
  for (const b of brackets) {
    if (b.parent?.type === "interpolation") continue;
    if (b.type === "(" || b.type === "[" || b.type === "{") {
      if (++level > MAX_BRACKET_LEVEL) return b;
    } else level = Math.max(0, level - 1);
  }
  return null;
}

/** Node types that start a logical line: statements, clauses and definitions. */
const CLAUSES = [
  "elif_clause",
  "else_clause",
  "except_clause",
  "except_group_clause",
  "finally_clause",
  "case_clause",
  "decorator",
  "function_definition",
  "class_definition",
];

/**
 * CPython's indentation check (`tokenizer.c`): every logical line's indentation is measured
 * twice, with tabs to the next multiple of 8 and with tabs as one column; a line that compares
 * differently with the enclosing indentation under the two measures is a TabError, and a
 * dedent to a level that was never opened is an IndentationError. tree-sitter accepts both.
 */
function inconsistentIndentation(root: SyntaxNode, text: string, blocks: SyntaxNode[], clauses: SyntaxNode[]): Python3Violation | null {
  const starts = new Set<number>();
  /** Lines that open a block: the only ones allowed to indent further. */
  const opensBlock = new Set<number>();
  const lineStartOf = (node: SyntaxNode) => text.lastIndexOf("\n", node.startIndex - 1) + 1;
  /**
   * Whether the node starts a logical line: only blanks before it on its line, and that line not
   * joined to the one before by a backslash. (A statement after `;`, or after a compound
   * statement's colon, shares its logical line.)
   */
  let commentEnds: Set<number> | null = null;
  const startsLine = (node: SyntaxNode): boolean => {
    for (let i = node.startIndex - 1; i >= 0; i--) {
      const ch = text.charCodeAt(i);
      if (ch === 0x0a || ch === 0x0d) {
        const before = beforeLineBreak(text, i);
        if (text.charCodeAt(before) !== 0x5c) return true;
        // A backslash that ends a comment joins nothing.
        commentEnds ??= new Set(root.descendantsOfType("comment").map((c) => c.endIndex));
        return commentEnds.has(before + 1);
      }
      if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0c) return false;
    }
    return true;
  };
  const addRow = (node: SyntaxNode) => {
    if (startsLine(node)) starts.add(lineStartOf(node));
  };
  for (const node of root.namedChildren) if (node.type !== "comment") addRow(node);
  for (const block of blocks) {
    const statements = block.namedChildren.filter((node) => node.type !== "comment");
    for (const node of statements) addRow(node);
    if (statements[0] && startsLine(statements[0])) opensBlock.add(lineStartOf(statements[0]));
  }
  for (const node of clauses) addRow(node);
  const stack: [number, number][] = [[0, 0]];
  for (const lineStart of [...starts].sort((a, b) => a - b)) {
    const { column: col, alt, end: i } = indentation(text, lineStart);
    const [topCol, topAlt] = stack[stack.length - 1] as [number, number];
    const bad = (message: string): Python3Violation => ({ startIndex: lineStart, endIndex: i, message });
    if (col === topCol) {
      if (alt !== topAlt) return bad("inconsistent use of tabs and spaces in indentation");
    } else if (col > topCol) {
      if (!opensBlock.has(lineStart)) return bad("unexpected indent");
      if (alt <= topAlt) return bad("inconsistent use of tabs and spaces in indentation");
      stack.push([col, alt]);
    } else {
      while (stack.length > 1 && col < (stack[stack.length - 1] as [number, number])[0]) stack.pop();
      const [c, a] = stack[stack.length - 1] as [number, number];
      if (col !== c) return bad("unindent does not match any outer indentation level");
      if (alt !== a) return bad("inconsistent use of tabs and spaces in indentation");
    }
  }
  return null;
}
