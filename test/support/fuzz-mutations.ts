/**
 * Mutations for the fuzz test (test/fuzz.test.ts): of policy text (bytes, lines, YAML
 * structure) and of plan JSON (any field, any type, forged paths and targets). Every choice
 * comes from the seeded generator, so a failing case is reproduced by its seed and index.
 */
import { parse, stringify } from "yaml";

export type Random = () => number;

export interface Picker {
  random: Random;
  below(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function picker(random: Random): Picker {
  const below = (n: number) => Math.floor(random() * n);
  return { random, below, pick: (items) => items[below(items.length)]!, chance: (p) => random() < p };
}

const HASH = "0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f";
/** Values of every YAML/JSON type, including the ones that broke parsers and validators before. */
export function randomValue(p: Picker, depth = 0): unknown {
  switch (p.below(depth > 2 ? 12 : 15)) {
    case 0:
      return p.pick(["", "30d", "1w2d", "0s", "2TiB", "500MB", "*", "!*", "!", "**/*", "[", "a".repeat(p.below(300)), "🙂ünï\u0001", "sstate:x", "../..", "\\", "~", "null"]);
    case 1:
      return p.pick([0, 1, -1, 2, 100, 101, 1.5, -0, 1e308, -1e308, 2 ** 53, 99999999999999999999, Number.MIN_VALUE]);
    case 2:
      return p.pick([true, false, null]);
    case 3:
      return p.pick(["archive", "siginfo", "temp", "signature", "done", "pn", "arch", "task", "suffix", "pv"]);
    case 4:
      return p.pick([HASH, HASH.slice(0, 32), `${HASH}_populate_sysroot`, "not-a-hash"]);
    case 5:
      return p.pick(["keep-newest", "expire-archives", "r", "a-b.c_d", "-bad", "x y"]);
    case 6:
      return p.pick(["missing.hashes", "no/such/stamps", "./", ".", "hashes.txt", "stamps"]);
    case 7:
      return `${p.below(1000)}${p.pick(["s", "m", "h", "d", "w", "y", "", "d2"])}`;
    case 8:
      return `${p.below(5000)}${p.pick(["B", "KB", "MB", "GiB", "TiB", "", " MB", "PB"])}`;
    case 9:
      return p.pick(["file:///", "s3://user:pw@bucket/x", "http://[::1", "ftp://host/x", "webdav+https://h/x/", "relative/path", "/definitely/not/here"]);
    case 10:
      return "x".repeat(p.pick([1000, 70_000, 300_000]));
    case 11:
      return p.pick([{}, [], [[]], { a: {} }]);
    case 12:
      return Array.from({ length: p.below(4) }, () => randomValue(p, depth + 1));
    case 13:
      return Object.fromEntries(Array.from({ length: p.below(4) }, () => [String(randomValue(p, depth + 1)).slice(0, 20), randomValue(p, depth + 1)]));
    default:
      return nested(p, p.pick([10, 63, 64, 65, 200]));
  }
}

function nested(p: Picker, depth: number): unknown {
  let value: unknown = randomValue(p, 3);
  for (let i = 0; i < depth; i++) value = p.chance(0.5) ? [value] : { a: value };
  return value;
}

const SELECTOR_KEYS = [
  "pn",
  "arch",
  "task",
  "pv",
  "path",
  "kind",
  "suffix",
  "older-than",
  "newer-than",
  "larger-than",
  "smaller-than",
  "newest",
  "except-newest",
  "per",
  "orphan",
  "all",
  "stamps",
  "hashes",
  "siginfo-only",
];
const KEYS = [
  ...SELECTOR_KEYS,
  "version",
  "rules",
  "guards",
  "target",
  "description",
  "name",
  "keep",
  "delete",
  "min-age",
  "max-delete-percent",
  "max-delete-bytes",
  "allow-empty",
  "<<",
  "__proto__",
  "constructor",
  "?",
];

/** The policy mutations, by name (the name is part of every failure message). */
export const POLICY_MUTATIONS: Record<string, (text: string, p: Picker) => string | Uint8Array> = {
  "byte-flip": (text, p) => {
    const bytes = new TextEncoder().encode(text);
    for (let n = 1 + p.below(4); n > 0 && bytes.length > 0; n--) bytes[p.below(bytes.length)] = p.below(256);
    return bytes;
  },
  truncate: (text, p) => text.slice(0, p.below(text.length + 1)),
  "duplicate-line": (text, p) => {
    const lines = text.split("\n");
    const at = p.below(lines.length);
    lines.splice(at, 0, ...Array(1 + p.below(3)).fill(lines[at]));
    return lines.join("\n");
  },
  "duplicate-slice": (text, p) => {
    const start = p.below(text.length + 1);
    const end = start + p.below(text.length - start + 1);
    return text.slice(0, end) + text.slice(start, end) + text.slice(end);
  },
  "anchor-alias": (text, p) => {
    const lines = text.split("\n");
    const valueLines = lines.map((line, i) => [line, i] as const).filter(([line]) => /:\s*\S/.test(line) && !line.trimStart().startsWith("#"));
    if (valueLines.length === 0) return text;
    const [line, at] = p.pick(valueLines);
    lines[at] = line.replace(/:\s*/, ": &x ");
    const [, target] = p.pick(valueLines);
    if (p.chance(0.3)) lines.splice(p.below(at + 1), 0, "dangling: *x");
    else lines[target] = lines[target]!.replace(/:\s*.*$/, ": *x");
    return lines.join("\n");
  },
  "alias-bomb": (text, p) => {
    const width = 2 + p.below(9);
    const levels = 2 + p.below(8);
    const bomb = [`b0: &b0 [${Array(width).fill('"x"').join(", ")}]`];
    for (let i = 1; i < levels; i++) bomb.push(`b${i}: &b${i} [${Array(width).fill(`*b${i - 1}`).join(", ")}]`);
    return p.chance(0.5) ? `${bomb.join("\n")}\n${text}` : `${text}\n${bomb.join("\n")}\n`;
  },
  "deep-nesting": (text, p) => {
    // A few levels past the limit, or far past it (what the parser itself cannot follow: slower, so rarer).
    const depth = p.chance(0.1) ? p.pick([20_000, 100_000]) : p.pick([30, 63, 64, 65, 100, 1000]);
    const open = p.chance(0.5) ? "[" : "{a: ";
    const close = open === "[" ? "]" : "}";
    return text.replace(/: .*$/m, `: ${open.repeat(depth)}1${close.repeat(depth)}`);
  },
  "random-key": (text, p) => {
    const lines = text.split("\n");
    const indent = " ".repeat(p.pick([0, 2, 4, 6]));
    lines.splice(p.below(lines.length + 1), 0, `${indent}${p.pick(KEYS)}: ${JSON.stringify(randomValue(p))}`);
    return lines.join("\n");
  },
  "type-swap": (text, p) => {
    let data: unknown;
    try {
      data = parse(text, { logLevel: "silent" });
    } catch {
      return text;
    }
    const swapped = swapRandomNode(data, p);
    try {
      return stringify(swapped, { aliasDuplicateObjects: false });
    } catch {
      return JSON.stringify(swapped) ?? "";
    }
  },
  "huge-repeat": (text, p) => {
    const lines = text.split("\n");
    const at = p.below(lines.length);
    const times = Math.min(p.pick([100, 2000, 10_000]), Math.ceil(MAX_MUTATED_LENGTH / (lines[at]!.length + 1)));
    lines.splice(at, 1, ...Array(times).fill(lines[at]));
    return lines.join("\n");
  },
  "huge-value": (text, p) => text.replace(/: .*$/m, `: "${"y".repeat(p.pick([10_000, 200_000, 300_000]))}"`),
};

/** Mutations compound; past this length, more text only tests the size limit again. */
const MAX_MUTATED_LENGTH = 400_000;

/** Applies one named mutation to text, keeping the result within MAX_MUTATED_LENGTH. */
export function mutate(mutations: Record<string, (text: string, p: Picker) => string | Uint8Array>, name: string, content: string | Uint8Array, p: Picker): string | Uint8Array {
  const mutated = mutations[name]!(typeof content === "string" ? content : new TextDecoder().decode(content), p);
  return mutated.length > MAX_MUTATED_LENGTH ? mutated.slice(0, MAX_MUTATED_LENGTH) : mutated;
}

/** Replaces one node of parsed data with a value of a random type (the root included). */
export function swapRandomNode(data: unknown, p: Picker): unknown {
  const slots: { parent: Record<string | number, unknown>; key: string | number }[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 50 || value === null || typeof value !== "object") return;
    for (const key of Object.keys(value)) {
      const parent = value as Record<string | number, unknown>;
      const index = Array.isArray(value) ? Number(key) : key;
      slots.push({ parent, key: index });
      visit(parent[index], depth + 1);
    }
  };
  visit(data, 0);
  if (slots.length === 0 || p.chance(0.05)) return randomValue(p);
  const slot = p.pick(slots);
  const choice = p.below(4);
  if (choice === 0) delete slot.parent[slot.key];
  else if (choice === 1 && !Array.isArray(slot.parent)) slot.parent[`${String(slot.key)}${p.pick(["", "x", "-"])}${p.below(3)}`] = randomValue(p);
  else slot.parent[slot.key] = randomValue(p);
  return data;
}

/** Text-level damage to a plan file, done after any JSON-level edit. */
export const PLAN_TEXT_MUTATIONS: Record<string, (text: string, p: Picker) => string | Uint8Array> = {
  "byte-flip": POLICY_MUTATIONS["byte-flip"]!,
  truncate: POLICY_MUTATIONS.truncate!,
  "duplicate-slice": POLICY_MUTATIONS["duplicate-slice"]!,
  "deep-nesting": (text, p) => {
    const depth = p.pick([100, 10_000, 100_000]);
    return text.replace(/"summary": /, `"summary": ${"[".repeat(depth)}${"]".repeat(depth)}, "x": `);
  },
};
