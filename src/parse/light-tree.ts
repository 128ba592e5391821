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
const typeIsPunctuation: boolean[] = [];
const typeIsToken: boolean[] = [];

/**
 * Named node types that are single tokens: never a child, so the walk does not ask for one (a
 * native call per node, most of the nodes being leaves). Anonymous nodes are tokens too. In a
 * tree with an error, every node is asked.
 */
const TOKENS = new Set(["identifier", "integer", "float", "comment", "true", "false", "none", "string_start", "string_end", "escape_sequence"]);
const fieldNames: (string | null)[] = [];

/**
 * Anonymous tokens no reader looks at: a third of a migration's nodes. They are still stepped
 * over, but not copied (three native reads and an object each).
 */
const PUNCTUATION = new Set([",", "(", ")", "[", "]", "{", "}", ".", "=", ":"]);
const BRACKETS = new Set(["(", ")", "[", "]", "{", "}"]);

/**
 * A backslash that joins two lines (`\` + newline) is a named extra in tree-sitter-python, so
 * inside brackets it would sit among a call's arguments or a list's items as one more named
 * child. It carries nothing a reader needs (CPython's tokenizer drops it too), so no copy holds
 * it, the whole one included.
 */
const LINE_CONTINUATION = "line_continuation";

/** Parents whose punctuation a reader does look at (a from-import's trailing comma and parentheses). */
const KEEPS_PUNCTUATION = new Set(["import_from_statement"]);

export interface LightTreeOptions {
  /**
   * Copy every node (but line continuations, see {@link LINE_CONTINUATION}). By default, when the tree has no error, the punctuation tokens above and
   * the insides of a string without interpolations (its `string_start`, `string_content`,
   * `escape_sequence` and `string_end`: readers decode the string's text) are left out.
   */
  full?: boolean;
  /** Keep the bracket tokens even so (the check for CPython's 200-level nesting limit reads them). */
  brackets?: boolean;
}

/**
 * Node types none of whose children fills a field (`argument_list`, `list`, `module` …), from the
 * grammar's node-types.json: their children's field id need not be asked for. Types the file
 * does not list (`ERROR`) are asked.
 */
let fieldless: Set<string> | null = null;
function fieldlessTypes(language: unknown): Set<string> {
  if (fieldless) return fieldless;
  const info = (language as { nodeTypeInfo?: { type: string; named: boolean; fields?: Record<string, unknown> }[] } | null)?.nodeTypeInfo ?? [];
  fieldless = new Set(info.filter((t) => t.named && Object.keys(t.fields ?? {}).length === 0).map((t) => t.type));
  return fieldless;
}

/** Whether the string literal starting at `start` can hold interpolations (an f- or t-string prefix). */
function interpolates(source: string, start: number): boolean {
  for (let i = start; i < start + 3 && i < source.length; i++) {
    const ch = source.charCodeAt(i) | 0x20;
    if (ch === 0x66 /* f */ || ch === 0x74 /* t */) return true;
    if (ch !== 0x72 /* r */ && ch !== 0x62 /* b */ && ch !== 0x75 /* u */) return false;
  }
  return false;
}

/** Copies `tree` into `LightNode`s. `source` must be the string the tree was parsed from. */
export function lightTree(tree: Parser.Tree, source: string, options: LightTreeOptions = {}): LightNode {
  const cursor = tree.walk();
  // A MISSING token can be a hidden node (`_newline`) that no cursor visits, so `hasError` cannot
  // always be derived from the visible nodes. When the tree has an error (rare), ask tree-sitter
  // for every node; otherwise no node has one. A broken tree is copied whole: the error
  // collector walks every child.
  const broken = tree.rootNode.hasError;
  const full = broken || options.full === true;
  const brackets = options.brackets === true;
  // Four native reads per copied node: named-ness is a property of the node type, and only an
  // empty node can be a MISSING one.
  const noFields = fieldlessTypes((tree as unknown as { language?: unknown }).language);
  const copy = (typeId: number, type: string, parent: LightNode | null): LightNode => {
    const fieldId = parent === null || noFields.has(parent.type) ? 0 : cursor.currentFieldId;
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
    parent?.children.push(node);
    return node;
  };
  const typeOf = (typeId: number): string => {
    let type = typeNames[typeId];
    if (type === undefined) {
      type = typeNames[typeId] = cursor.nodeType;
      typeIsNamed[typeId] = cursor.nodeIsNamed;
      typeIsPunctuation[typeId] = !typeIsNamed[typeId] && PUNCTUATION.has(type);
      typeIsToken[typeId] = !typeIsNamed[typeId] || TOKENS.has(type);
    }
    return type;
  };
  const rootTypeId = cursor.nodeTypeId;
  const root = copy(rootTypeId, typeOf(rootTypeId), null);
  if (!cursor.gotoFirstChild()) return root;
  // Iterative pre-order walk; the cursor is always on a child of `parent`.
  let parent = root;
  for (;;) {
    const typeId = cursor.nodeTypeId;
    const type = typeOf(typeId);
    const skip = type === LINE_CONTINUATION || (!full && typeIsPunctuation[typeId] === true && !KEEPS_PUNCTUATION.has(parent.type) && !(brackets && BRACKETS.has(type)));
    if (!skip) {
      const node = copy(typeId, type, parent);
      const descend = (broken || typeIsToken[typeId] !== true) && (full || type !== "string" || interpolates(source, node.startIndex));
      if (descend && cursor.gotoFirstChild()) {
        parent = node;
        continue;
      }
    }
    // Next sibling, or the next sibling of the nearest ancestor that has one.
    while (!cursor.gotoNextSibling()) {
      cursor.gotoParent();
      if (parent === root) return root;
      parent = parent.parent as LightNode;
    }
  }
}
