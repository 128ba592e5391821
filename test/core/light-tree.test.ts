/**
 * The plain-JavaScript tree must be the native tree: every node's type, offsets, flags, field
 * name and error flag, over every fixture file (broken ones included) and crafted edge cases.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type Parser from "tree-sitter";
import { describe, expect, it } from "vitest";
import { lightTree, type LightNode } from "../../src/parse/light-tree.js";
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

/** The first difference between the two trees, or null. */
function difference(light: LightNode, native: Parser.SyntaxNode, where: string): string | null {
  const facts = (n: LightNode | Parser.SyntaxNode) => [n.type, n.startIndex, n.endIndex, n.isNamed, n.isMissing, n.hasError].join(" ");
  if (facts(light) !== facts(native)) return `${where}: ${facts(light)} vs ${facts(native)}`;
  if (light.children.length !== native.childCount) return `${where}: ${light.children.length} children vs ${native.childCount}`;
  if (light.text !== native.text) return `${where}: text differs`;
  for (let i = 0; i < native.childCount; i++) {
    const child = light.children[i] as LightNode;
    if (child.fieldName !== (native.fieldNameForChild(i) ?? null)) return `${where}/${i}: field ${child.fieldName} vs ${native.fieldNameForChild(i)}`;
    if (child.parent !== light) return `${where}/${i}: wrong parent`;
    const diff = difference(child, native.child(i) as Parser.SyntaxNode, `${where}/${i}`);
    if (diff) return diff;
  }
  return null;
}

function compare(source: string): string | null {
  const tree = parsePython(source);
  return difference(lightTree(tree, source), tree.rootNode, "root");
}

describe("lightTree", () => {
  it("copies every node of every fixture file exactly", () => {
    const files = pythonFiles(FIXTURES);
    expect(files.length).toBeGreaterThan(500);
    for (const file of files) expect(compare(readFileSync(file, "utf8")), file).toBeNull();
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
});
