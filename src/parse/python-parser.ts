/**
 * The one tree-sitter Python parser instance, created on first use so that commands that never
 * parse (`rollsafe rules`, `--help`) do not pay for loading the native grammar.
 */
import { createRequire } from "node:module";
import type Parser from "tree-sitter";

const require = createRequire(import.meta.url);
let instance: Parser | null = null;

/** Parses Python source into a tree-sitter tree. */
export function parsePython(source: string): Parser.Tree {
  if (!instance) {
    const TreeSitter = require("tree-sitter") as typeof Parser & { SyntaxNode: unknown };
    const python = require("tree-sitter-python") as Parser.Language & { nodeSubclasses?: unknown };
    // On the first setLanguage, the binding compiles a class per named node type for its typed
    // getters (`nameNode` …): about 10 ms of every run that parses, in each parse worker too.
    // rollsafe reads trees through a cursor (light-tree.ts) and asks a node object for
    // `hasError` only, which every node class has: the base class serves for every type.
    python.nodeSubclasses ??= new Proxy([], { get: () => TreeSitter.SyntaxNode });
    instance = new TreeSitter();
    instance.setLanguage(python);
  }
  // The default 32 KiB buffer makes the binding reject longer inputs.
  return instance.parse(source, undefined, { bufferSize: Math.max(32 * 1024, source.length + 1) });
}
