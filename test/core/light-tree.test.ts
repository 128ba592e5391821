/**
 * The plain-JavaScript tree must be the native tree: every node's type, offsets, flags, field
 * name and error flag, over every fixture file (broken ones included) and crafted edge cases.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type Parser from "tree-sitter";
import { describe, expect, it } from "vitest";
import { lightTree, type LightNode, type LightTreeOptions } from "../../src/parse/light-tree.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import { parsePython } from "../../src/parse/python-parser.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures");

function pythonFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory()) pythonFiles(full, out);
    else if (stat?.isFile() && name.endsWith(".py")) out.push(full);
  }
  return out;
}

/**
 * What the default copy leaves out of a tree without errors, written independently of the
 * implementation: punctuation tokens (outside from-imports) and the insides of strings that
 * cannot interpolate.
 */
const PUNCTUATION = [",", "(", ")", "[", "]", "{", "}", ".", "=", ":"];
function leftOut(native: Parser.SyntaxNode, parent: Parser.SyntaxNode, options: LightTreeOptions): boolean {
  // A backslash joining two lines is left out of every copy, the whole one included.
  if (native.type === "line_continuation") return true;
  if (options.full) return false;
  const bracket = ["(", ")", "[", "]", "{", "}"].includes(native.type);
  if (!native.isNamed && PUNCTUATION.includes(native.type) && parent.type !== "import_from_statement" && !(options.brackets && bracket)) return true;
  return parent.type === "string" && !/^[rRbBuU]{0,2}[fFtT]|^[fFtT]/.test(parent.text);
}

/** The first difference between the two trees, or null. */
function difference(light: LightNode, native: Parser.SyntaxNode, where: string, options: LightTreeOptions, broken: boolean): string | null {
  const facts = (n: LightNode | Parser.SyntaxNode) => [n.type, n.startIndex, n.endIndex, n.isNamed, n.isMissing, n.hasError].join(" ");
  if (facts(light) !== facts(native)) return `${where}: ${facts(light)} vs ${facts(native)}`;
  if (light.text !== native.text) return `${where}: text differs`;
  // An anonymous token is a leaf of the copy, also one tree-sitter makes of two (`not in`,
  // `is not`), except in a broken tree, which is copied whole.
  if (!native.isNamed && !broken) return light.children.length === 0 ? null : `${where}: a token's children were copied`;
  let copied = 0;
  for (let i = 0; i < native.childCount; i++) {
    const nativeChild = native.child(i) as Parser.SyntaxNode;
    if (leftOut(nativeChild, native, options)) continue;
    const child = light.children[copied++];
    if (!child) return `${where}/${i}: missing ${nativeChild.type}`;
    if (child.fieldName !== (native.fieldNameForChild(i) ?? null)) return `${where}/${i}: field ${child.fieldName} vs ${native.fieldNameForChild(i)}`;
    if (child.parent !== light) return `${where}/${i}: wrong parent`;
    const diff = difference(child, nativeChild, `${where}/${i}`, options, broken);
    if (diff) return diff;
  }
  if (light.children.length !== copied) return `${where}: ${light.children.length} children vs ${copied}`;
  return null;
}

function compare(source: string, options: LightTreeOptions = { full: true }): string | null {
  const tree = parsePython(source);
  // A tree with an error is always copied whole.
  const broken = tree.rootNode.hasError;
  return difference(lightTree(tree, source, options), tree.rootNode, "root", broken ? { full: true } : options, broken);
}

describe("lightTree", () => {
  it("copies every node of every fixture file exactly", () => {
    const files = pythonFiles(FIXTURES);
    expect(files.length).toBeGreaterThan(500);
    for (const file of files) expect(compare(readFileSync(file, "utf8")), file).toBeNull();
  });

  it("by default leaves out exactly the punctuation and the insides of plain strings", () => {
    for (const file of pythonFiles(FIXTURES)) {
      const source = readFileSync(file, "utf8");
      expect(compare(source, {}), file).toBeNull();
      expect(compare(source, { brackets: true }), file).toBeNull();
    }
    const source = 'from a import (b, c,)\nx = f(rb"\\x00", f"{g(1)}", Rf\'{h}\', u"z", {"k": [1, 2]}, y=3)\n';
    expect(compare(source, {})).toBeNull();
    const root = lightTree(parsePython(source), source);
    expect(root.descendantsOfType(",").map((n) => n.parent?.type)).toEqual(["import_from_statement", "import_from_statement"]);
    expect(root.descendantsOfType("interpolation").map((n) => n.text)).toEqual(["{g(1)}", "{h}"]);
    expect(root.descendantsOfType("string_content")).toHaveLength(0);
  });

  it("keeps an operator tree-sitter makes of two keywords (`not in`, `is not`) as one token", () => {
    const source = "x = a not in b or c is not d\n";
    for (const options of [{}, { full: true }]) expect(compare(source, options)).toBeNull();
    const operators = lightTree(parsePython(source), source).descendantsOfType("comparison_operator").map((n) => n.children.map((c) => [c.type, c.children.length]));
    expect(operators).toEqual([
      [["identifier", 0], ["not in", 0], ["identifier", 0]],
      [["identifier", 0], ["is not", 0], ["identifier", 0]],
    ]);
  });

  it("reads every fixture migration the same from the shortened copy as from the full one", () => {
    let files = 0;
    for (const file of pythonFiles(FIXTURES)) {
      if (path.basename(path.dirname(file)) !== "migrations") continue;
      const source = readFileSync(file, "utf8");
      const where = { path: file, app: "app", name: path.basename(file, ".py") };
      expect(parseMigrationSource(source, where), file).toEqual(parseMigrationSource(source, where, { fullTree: true }));
      files++;
    }
    expect(files).toBeGreaterThan(400);
  });

  it("flags errors that only a hidden MISSING token carries", () => {
    // tree-sitter inserts a hidden MISSING `_newline` that no cursor visits.
    const source = "from django.db import migrations, models models\n\nclass Migration:\n    pass\n";
    const tree = parsePython(source);
    expect(tree.rootNode.hasError).toBe(true);
    expect(lightTree(tree, source).hasError).toBe(true);
    expect(compare(source)).toBeNull();
  });

  it("keeps offsets in string units for non-ASCII text and answers the SyntaxNode lookups", () => {
    const source = 'x = f("héllo 😀", name="wörld")  # ünïcode\n';
    expect(compare(source)).toBeNull();
    const root = lightTree(parsePython(source), source);
    const call = root.descendantsOfType("call")[0] as LightNode;
    expect(call.childForFieldName("function")?.text).toBe("f");
    expect(call.childForFieldName("arguments")?.namedChildren.map((n) => n.text)).toEqual(['"héllo 😀"', 'name="wörld"']);
    expect(root.descendantsOfType(["comment", "keyword_argument"]).map((n) => n.type)).toEqual(["keyword_argument", "comment"]);
    expect(root.childrenForFieldName("nothing")).toEqual([]);
  });

  it("parses without tree-sitter's class per node type, and the native nodes still answer", () => {
    // The binding compiles one class per named type on the first setLanguage, for typed getters
    // rollsafe never reads; python-parser.ts gives it the base class for every type instead.
    const source = "class Migration(migrations.Migration:\n    operations = []\n";
    const tree = parsePython(source);
    const { SyntaxNode } = createRequire(import.meta.url)("tree-sitter") as { SyntaxNode: unknown };
    const root = tree.rootNode;
    expect(root.constructor).toBe(SyntaxNode);
    expect(root.type).toBe("module");
    expect(root.hasError).toBe(true);
    expect(root.firstNamedChild?.constructor).toBe(SyntaxNode);
    expect(root.firstNamedChild?.type).toBe("class_definition");
    expect(lightTree(tree, source).hasError).toBe(true);
  });
});
