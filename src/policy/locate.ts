import { type Document, isMap, isNode, isScalar, type LineCounter, type Node } from "yaml";

/** A position in the policy file, 1-based. */
export interface SourcePosition {
  line: number;
  col: number;
}

export type JsonPath = readonly (string | number)[];

/**
 * Maps a JSON path (as ajv reports it) back to the YAML source. `key: true` points at the
 * key of the last segment (for unknown keys) rather than its value. This is the one place
 * that walks yaml's document API.
 */
export function locate(doc: Document, lines: LineCounter, path: JsonPath, options: { key?: boolean } = {}): SourcePosition {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = nodeAt(doc, path.slice(0, depth), depth === path.length && options.key === true);
    if (node?.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, col };
    }
  }
  return { line: 1, col: 1 };
}

function nodeAt(doc: Document, path: JsonPath, wantKey: boolean): Node | undefined {
  if (path.length === 0) return isNode(doc.contents) ? doc.contents : undefined;
  if (wantKey) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const keyName = path[path.length - 1];
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(keyName));
      if (pair && isNode(pair.key)) return pair.key;
    }
  }
  const found = doc.getIn(path, true);
  return isNode(found) ? found : undefined;
}

/** Decodes an ajv `instancePath` ("/rules/0/keep") into path segments. */
export function decodePointer(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((raw) => raw.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^(?:0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}
