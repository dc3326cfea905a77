import { type Document, isAlias, isMap, isNode, isPair, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import { excerpt } from "./diagnostics.ts";
import type { SourcePosition } from "./locate.ts";

/** Nesting levels of mappings and lists: a policy needs six (rules → rule → delete → per → item). */
export const MAX_POLICY_DEPTH = 64;
/** Aliases in one policy: enough to share a few lists. */
export const MAX_POLICY_ALIASES = 100;
/** Values (scalars, mappings, lists) with every alias expanded: a real policy has a few hundred. */
export const MAX_POLICY_VALUES = 100_000;

export interface DocumentProblem {
  code: string;
  message: string;
  position: SourcePosition;
}

type Report = (node: Node, code: string, message: string) => void;

/**
 * The shape checks that must pass before a parsed policy is converted to data: nesting depth,
 * aliases (after their anchor, not inside it, few, and not expanding into more than
 * MAX_POLICY_VALUES values: an alias bomb), unique plain keys. One iterative walk in source
 * order, so a hostile document costs time linear in its size and no stack: the YAML library's
 * own duplicate-key check compares every key with every other, and its alias resolution
 * searches the whole document once per alias.
 */
export function checkDocumentShape(doc: Document, lines: LineCounter): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  const positionOf = (node: Node): SourcePosition => {
    if (!node.range) return { line: 1, col: 1 };
    const { line, col } = lines.linePos(node.range[0]);
    return { line, col };
  };
  const at: Report = (node, code, message) => problems.push({ code, message, position: positionOf(node) });
  /** The latest node of each anchor name; an alias refers to the last one before it. */
  const anchors = new Map<string, Node>();
  /** Values each finished node stands for, its aliases expanded; an anchor not yet finished is still open. */
  const sizes = new Map<Node, number>();
  let aliases = 0;
  let expansionReported = false;
  // Each collection is entered, its children visited in source order (pushed in reverse), then left.
  const pending: { node: Node; depth: number; leave?: true }[] = isNode(doc.contents) ? [{ node: doc.contents, depth: 0 }] : [];
  const children: Node[][] = [];
  while (pending.length > 0) {
    const { node, depth, leave } = pending.pop()!;
    if (leave) {
      const size = children.pop()!.reduce((sum, child) => sum + (sizes.get(child) ?? 1), 1);
      sizes.set(node, size);
      if (size > MAX_POLICY_VALUES && !expansionReported) {
        expansionReported = true;
        const through = aliases > 0 ? " (its aliases expanded)" : "";
        at(node, "yaml-size", `this holds more than ${MAX_POLICY_VALUES.toLocaleString("en-US")} values${through}: a policy needs a few hundred`);
      }
      continue;
    }
    children.at(-1)?.push(node);
    if (node.anchor) anchors.set(node.anchor, node);
    if (isAlias(node)) {
      if (++aliases === MAX_POLICY_ALIASES + 1) at(node, "yaml-aliases", `more than ${MAX_POLICY_ALIASES} aliases: a policy needs few if any`);
      const anchored = anchors.get(node.source);
      if (anchored === undefined) at(node, "yaml-alias", `alias *${node.source} refers to no anchor &${node.source} before it`);
      else if (!sizes.has(anchored) && (isMap(anchored) || isSeq(anchored))) at(node, "yaml-alias", `alias *${node.source} is inside its own anchor: the value would contain itself`);
      else sizes.set(node, sizes.get(anchored) ?? 1);
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth === MAX_POLICY_DEPTH) {
      at(node, "yaml-depth", `nested more than ${MAX_POLICY_DEPTH} levels deep: a policy needs a handful`);
      continue;
    }
    if (isMap(node)) checkKeys(node.items, at, positionOf);
    children.push([]);
    pending.push({ node, depth, leave: true });
    for (let i = node.items.length - 1; i >= 0; i--) {
      const item = node.items[i];
      if (isPair(item)) {
        if (isNode(item.value)) pending.push({ node: item.value, depth: depth + 1 });
        if (isNode(item.key)) pending.push({ node: item.key, depth: depth + 1 });
      } else if (isNode(item)) pending.push({ node: item, depth: depth + 1 });
    }
  }
  return problems;
}

function checkKeys(pairs: readonly unknown[], at: Report, positionOf: (node: Node) => SourcePosition): void {
  const seen = new Map<string, Node>();
  for (const pair of pairs) {
    if (!isPair(pair) || !isNode(pair.key)) continue;
    const key = pair.key;
    if (!isScalar(key)) {
      at(key, "yaml-key", `a key must be a plain word, not ${isAlias(key) ? "an alias" : isMap(key) ? "a mapping" : "a list"}`);
      continue;
    }
    const name = String(key.value);
    const first = seen.get(name);
    if (first) at(key, "yaml-duplicate-key", `duplicate key '${excerpt(name)}' (first on line ${positionOf(first).line})`);
    else seen.set(name, key);
  }
}
