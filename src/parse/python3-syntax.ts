/**
 * What tree-sitter-python accepts but CPython 3 refuses to compile. The grammar is deliberately
 * lenient (it still parses Python 2 and recovers from indentation slips), but Django imports
 * migrations with CPython, so each of these makes `migrate` fail: they must be parse errors.
 * Found by the fuzzer (`npm run fuzz`) with CPython's `compile()` as the oracle.
 */
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

/** Python 3 string prefixes are r, u, b, f (3.14: t) and r combined with b, f or t; never u with another. */
const STRING_PREFIX = /^([A-Za-z]*)['"]/;
const VALID_PREFIX = /^(?:[rRuUbBfFtT]|[rR][bBfFtT]|[bBfFtT][rR])?$/;

/** Node types every file is checked for. */
const ALWAYS = ["print_statement", "exec_statement", "<>", "raise_statement", "argument_list", "import_from_statement", "block"];
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
      case "block":
        blocks.push(node);
        if (!node.namedChildren.some((c) => c.type !== "comment")) add(node.parent ?? node, "expected an indented block");
        break;
      default:
        if (BRACKETS.includes(node.type)) brackets.push(node);
        else clauses.push(node);
    }
  }
  const deep = checkBrackets ? deepestBracket(brackets) : null;
  if (deep) add(deep, `too many nested parentheses (CPython allows ${MAX_BRACKET_LEVEL})`);
  const indentation = inconsistentIndentation(root, source, blocks, clauses);
  if (indentation) found.push(indentation);
  return found;
}

type Add = (node: SyntaxNode, message: string) => void;

function checkArguments(node: SyntaxNode, add: Add): void {
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
  const addRow = (node: SyntaxNode) => starts.add(lineStartOf(node));
  for (const node of root.namedChildren) if (node.type !== "comment") addRow(node);
  for (const block of blocks) {
    const statements = block.namedChildren.filter((node) => node.type !== "comment");
    for (const node of statements) addRow(node);
    if (statements[0]) opensBlock.add(lineStartOf(statements[0]));
  }
  for (const node of clauses) addRow(node);
  const stack: [number, number][] = [[0, 0]];
  for (const lineStart of [...starts].sort((a, b) => a - b)) {
    let col = 0;
    let alt = 0;
    let i = lineStart;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === " ") {
        col++;
        alt++;
      } else if (ch === "\t") {
        col = (Math.floor(col / 8) + 1) * 8;
        alt++;
      } else if (ch === "\f") {
        col = 0;
        alt = 0;
      } else break;
    }
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
