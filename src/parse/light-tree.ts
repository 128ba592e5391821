/**
 * A plain-JavaScript copy of a tree-sitter tree, built in one cursor walk.
 *
 * node-tree-sitter crosses into native code for every node property (`type`, `startIndex`,
 * `childForFieldName`, `namedChildren` …) and allocates a wrapper per node each time; reading a
 * migration that way cost about three times the parse itself. One `TreeCursor` walk copies what
 * the readers need (type, offsets, field name, named/missing flags) into plain objects, after
 * which every lookup is ordinary JavaScript. The API mirrors the subset of `SyntaxNode` the
 * readers use, so they read the same either way.
 */
import type Parser from "tree-sitter";

/** One node of a tree-sitter tree, copied out of the native tree. */
export class LightNode {
  /** Whether the subtree holds an ERROR or MISSING node (set by `lightTree`). */
  hasError = false;
  readonly children: LightNode[] = [];
  private named: LightNode[] | null = null;

  constructor(
    readonly type: string,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly isNamed: boolean,
    readonly isMissing: boolean,
    /** The field this node fills in its parent (`name`, `arguments` …), or null. */
    readonly fieldName: string | null,
    readonly parent: LightNode | null,
    private readonly source: string,
  ) {}

  /** The source text the node spans. */
  get text(): string {
    return this.source.substring(this.startIndex, this.endIndex);
  }

  get namedChildren(): LightNode[] {
    this.named ??= this.children.filter((c) => c.isNamed);
    return this.named;
  }

  childForFieldName(name: string): LightNode | null {
    for (const child of this.children) if (child.fieldName === name) return child;
    return null;
  }

  childrenForFieldName(name: string): LightNode[] {
    return this.children.filter((c) => c.fieldName === name);
  }

  /** This node and its descendants of the given type(s), in source order (like tree-sitter's). */
  descendantsOfType(types: string | readonly string[]): LightNode[] {
    const wanted = typeof types === "string" ? [types] : types;
    const found: LightNode[] = [];
    const stack: LightNode[] = [this];
    while (stack.length > 0) {
      const node = stack.pop() as LightNode;
      if (wanted.includes(node.type)) found.push(node);
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as LightNode);
    }
    return found;
  }
}

/** Memoised id -> name tables: the cursor hands out numeric ids cheaply, names cost a string each. */
const typeNames: string[] = [];
const typeIsNamed: boolean[] = [];
const fieldNames: (string | null)[] = [];

/** Copies `tree` into `LightNode`s. `source` must be the string the tree was parsed from. */
export function lightTree(tree: Parser.Tree, source: string): LightNode {
  const cursor = tree.walk();
  // A MISSING token can be a hidden node (`_newline`) that no cursor visits, so `hasError` cannot
  // always be derived from the visible nodes. When the tree has an error (rare), ask tree-sitter
  // for every node; otherwise no node has one.
  const broken = tree.rootNode.hasError;
  // Four native reads per node: named-ness is a property of the node type, and only an empty
  // node can be a MISSING one.
  const read = (parent: LightNode | null): LightNode => {
    const typeId = cursor.nodeTypeId;
    let type = typeNames[typeId];
    if (type === undefined) {
      type = typeNames[typeId] = cursor.nodeType;
      typeIsNamed[typeId] = cursor.nodeIsNamed;
    }
    const fieldId = cursor.currentFieldId;
    let fieldName: string | null = null;
    if (fieldId) {
      fieldName = fieldNames[fieldId] ?? null;
      if (fieldName === null) fieldName = fieldNames[fieldId] = cursor.currentFieldName;
    }
    const start = cursor.startIndex;
    const end = cursor.endIndex;
    const isMissing = start === end && cursor.nodeIsMissing;
    const node = new LightNode(type, start, end, typeIsNamed[typeId] as boolean, isMissing, fieldName, parent, source);
    if (broken) node.hasError = cursor.currentNode.hasError;
    return node;
  };
  const root = read(null);
  // Iterative pre-order walk.
  const path: LightNode[] = [root];
  let node = root;
  let descend = true;
  for (;;) {
    if (descend && cursor.gotoFirstChild()) {
      const child = read(node);
      node.children.push(child);
      path.push(child);
      node = child;
      continue;
    }
    // The current node's subtree is complete.
    path.pop();
    const parent = path[path.length - 1];
    if (!parent) break;
    if (cursor.gotoNextSibling()) {
      const sibling = read(parent);
      parent.children.push(sibling);
      path.push(sibling);
      node = sibling;
      descend = true;
      continue;
    }
    cursor.gotoParent();
    node = parent;
    descend = false;
  }
  return root;
}
