/**
 * Explains why two signatures of the same task differ, in the words of bitbake-diffsigs
 * (`bb.siggen.compare_sigfiles`), so that Yocto users recognise the output.
 */
import type { FileChecksum, SigData } from "./decode.ts";

export interface CompareOptions {
  /**
   * Finds the siginfo pair of a dependency whose hash changed, so that the comparison can show
   * why it changed (bitbake-diffsigs' `recursecb`). Returns undefined when either side is not found.
   */
  resolveDependency?: (depId: string, hashA: string, hashB: string) => Promise<[SigData, SigData] | undefined>;
  /** How many dependency levels to descend into; 0 compares only the two given signatures. */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 5;
const NESTED_INDENT = "    ";
const BLOCK_INDENT = "  ";
const DIFF_CONTEXT_LINES = 3;
/** Beyond this many LCS cells a changed block is shown as all-removed then all-added. */
const MAX_DIFF_CELLS = 4_000_000;

interface Traversal {
  resolveDependency: CompareOptions["resolveDependency"];
  maxDepth: number;
}

/** Returns one string per output line, empty when the signatures are identical. */
export async function compareSigData(a: SigData, b: SigData, options: CompareOptions = {}): Promise<string[]> {
  const traversal: Traversal = {
    resolveDependency: options.resolveDependency,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
  };
  return compareAtDepth(a, b, traversal, 0);
}

/**
 * bitbake's rule: when a dependency's hash changed and its own comparison says why, that
 * explanation replaces everything said about this task so far (its own variables, files and
 * added or removed dependencies), as "in all likelihood they are the same changes this task also
 * saw", and no further dependency is looked at. Only the taint is still reported.
 */
async function compareAtDepth(a: SigData, b: SigData, traversal: Traversal, depth: number): Promise<string[]> {
  const [before, after] = [a.runtaskhashes ?? {}, b.runtaskhashes ?? {}];
  const lines = [
    ...ignoreListLines(a, b),
    ...setChangeLines("Task dependencies", a.taskdeps, b.taskdeps),
    ...hashChangeLines("basehash", a.basehash, b.basehash),
    ...hashChangeLines("taskhash", a.taskhash, b.taskhash),
    ...hashChangeLines("unihash", a.unihash, b.unihash),
    ...gendepsLines(a, b),
    ...varvalLines(a.varvals, b.varvals),
    ...fileChecksumLines(a.file_checksum_values ?? [], b.file_checksum_values ?? []),
    ...runtaskdepsLines(a.runtaskdeps ?? [], b.runtaskdeps ?? []),
    ...addedOrRemovedDependencyLines(before, after),
  ];
  const taint = taintLines(a.taint, b.taint);
  for (const dep of sortedKeys(before).filter((id) => Object.hasOwn(after, id) && before[id] !== after[id])) {
    const [hashA, hashB] = [before[dep]!, after[dep]!];
    const changed = `Hash for task dependency ${dep} changed from ${hashText(hashA)} to ${hashText(hashB)}`;
    const explanation = await dependencyExplanation(dep, hashA, hashB, traversal, depth);
    if (explanation.length > 0) return [changed, ...indent(NESTED_INDENT, explanation), ...taint];
    lines.push(changed);
  }
  return [...lines, ...taint];
}

function ignoreListLines(a: SigData, b: SigData): string[] {
  const lines = setChangeLines("basehash_ignore_vars", a.basehash_ignore_vars, b.basehash_ignore_vars);
  if (a.taskhash_ignore_tasks !== b.taskhash_ignore_tasks) {
    lines.push(
      `taskhash_ignore_tasks changed from ${quoteValue(a.taskhash_ignore_tasks)} to ${quoteValue(b.taskhash_ignore_tasks)}`,
    );
  }
  return lines;
}

/** Sets can hold hundreds of names, so only the difference is listed. */
function setChangeLines(label: string, before: readonly string[], after: readonly string[]): string[] {
  const beforeSet = new Set(before);
  const afterSet = new Set(after);
  const added = after.filter((item) => !beforeSet.has(item));
  const removed = before.filter((item) => !afterSet.has(item));
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${added.join(", ")}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(", ")}`);
  return parts.length > 0 ? [`${label} changed: ${parts.join("; ")}`] : [];
}

function hashChangeLines(label: string, before: string | undefined, after: string | undefined): string[] {
  return before === after ? [] : [`${label} changed from ${hashText(before)} to ${hashText(after)}`];
}

/**
 * Only changed entries: a variable that appears or disappears is already reported by the
 * taskdeps and varvals lines, because gendeps has exactly one entry per non-ignored taskdep.
 */
function gendepsLines(a: SigData, b: SigData): string[] {
  const ignoredByB = new Set(b.basehash_ignore_vars);
  const ignoredInBoth = new Set(a.basehash_ignore_vars.filter((name) => ignoredByB.has(name)));
  const lines: string[] = [];
  for (const name of sortedKeys(a.gendeps)) {
    if (!Object.hasOwn(b.gendeps, name) || ignoredInBoth.has(name)) continue;
    const before = a.gendeps[name] ?? [];
    const after = b.gendeps[name] ?? [];
    if (sameList(before, after)) continue;
    lines.push(`List of dependencies for variable ${name} changed from [${before.join(", ")}] to [${after.join(", ")}]`);
  }
  return lines;
}

function varvalLines(before: Record<string, string | null>, after: Record<string, string | null>): string[] {
  const lines: string[] = [];
  for (const name of sortedKeys(before)) {
    if (!Object.hasOwn(after, name) || before[name] === after[name]) continue;
    const oldValue = before[name] ?? null;
    const newValue = after[name] ?? null;
    // bitbake diffs non-empty values only: by line when either has several, else by word when either has a space.
    if (oldValue && newValue && (oldValue.includes("\n") || newValue.includes("\n"))) {
      lines.push(`Variable ${name} value changed:`, ...indent(BLOCK_INDENT, unifiedDiff(splitLines(oldValue), splitLines(newValue))));
    } else if (oldValue && newValue && (oldValue.includes(" ") || newValue.includes(" "))) {
      lines.push(`Variable ${name} value changed:`, `${BLOCK_INDENT}${wordDiff(oldValue, newValue)}`);
    } else {
      lines.push(`Variable ${name} value changed from ${quoteValue(oldValue)} to ${quoteValue(newValue)}`);
    }
  }
  for (const name of sortedKeys(after).filter((key) => !Object.hasOwn(before, key))) {
    lines.push(...wholeValueLines(`Variable ${name} added with value`, after[name] ?? null, "+"));
  }
  for (const name of sortedKeys(before).filter((key) => !Object.hasOwn(after, key))) {
    lines.push(...wholeValueLines(`Variable ${name} removed, value was`, before[name] ?? null, "-"));
  }
  return lines;
}

function wholeValueLines(heading: string, value: string | null, marker: "+" | "-"): string[] {
  if (value === null || !value.includes("\n")) return [`${heading} ${quoteValue(value)}`];
  return [`${heading}:`, ...splitLines(value).map((line) => `${BLOCK_INDENT}${marker}${line}`)];
}

/**
 * Entries are compared as (name, checksum) pairs, as bitbake does, so that a file listed twice
 * is handled; a removed and an added pair with the same name are one changed checksum.
 */
function fileChecksumLines(before: readonly FileChecksum[], after: readonly FileChecksum[]): string[] {
  const unmatchedAfter = [...after];
  const unmatchedBefore: FileChecksum[] = [];
  for (const entry of before) {
    const index = unmatchedAfter.findIndex(([name, checksum]) => name === entry[0] && checksum === entry[1]);
    if (index >= 0) unmatchedAfter.splice(index, 1);
    else unmatchedBefore.push(entry);
  }
  const lines: string[] = [];
  const removedLines: string[] = [];
  for (const [name, oldChecksum] of unmatchedBefore) {
    const index = unmatchedAfter.findIndex(([otherName]) => otherName === name);
    if (index >= 0) {
      const [[, newChecksum]] = unmatchedAfter.splice(index, 1) as [FileChecksum];
      lines.push(`Checksum for file ${name} changed from ${checksumText(oldChecksum)} to ${checksumText(newChecksum)}`);
    } else {
      removedLines.push(`Dependency on checksum of file ${name} was removed with checksum ${checksumText(oldChecksum)}`);
    }
  }
  for (const [name, checksum] of unmatchedAfter) {
    lines.push(`Dependency on checksum of file ${name} was added with checksum ${checksumText(checksum)}`);
  }
  return [...lines, ...removedLines];
}

/** The taskhash depends on the order of runtaskdeps too, so a reordering is a change. */
function runtaskdepsLines(before: readonly string[], after: readonly string[]): string[] {
  if (sameList(before, after)) return [];
  const changes = diffSequences(before, after).filter((op) => op.kind !== " ");
  return ["runtaskdeps changed:", ...changes.map((op) => `${BLOCK_INDENT}${op.kind}${op.line}`)];
}

function addedOrRemovedDependencyLines(before: Record<string, string>, after: Record<string, string>): string[] {
  const added = sortedKeys(after).filter((dep) => !Object.hasOwn(before, dep));
  const removed = sortedKeys(before).filter((dep) => !Object.hasOwn(after, dep));
  // A dependency renamed with its hash unchanged (e.g. recipe path → pn ids in 2023) is no change.
  const removedHashes = new Set(removed.map((dep) => before[dep]));
  const addedHashes = new Set(added.map((dep) => after[dep]));
  const lines: string[] = [];
  for (const dep of added.filter((id) => !removedHashes.has(after[id]))) {
    lines.push(`Dependency on task ${dep} was added with hash ${hashText(after[dep])}`);
  }
  for (const dep of removed.filter((id) => !addedHashes.has(before[id]))) {
    lines.push(`Dependency on task ${dep} was removed with hash ${hashText(before[dep])}`);
  }
  return lines;
}

async function dependencyExplanation(
  dep: string,
  hashA: string,
  hashB: string,
  traversal: Traversal,
  depth: number,
): Promise<string[]> {
  if (!traversal.resolveDependency || depth >= traversal.maxDepth) return [];
  const pair = await traversal.resolveDependency(dep, hashA, hashB);
  if (!pair) {
    return [`Unable to find matching siginfo for ${dep} with hashes ${hashText(hashA)} and ${hashText(hashB)}`];
  }
  return compareAtDepth(pair[0], pair[1], traversal, depth + 1);
}

function taintLines(before: string | undefined, after: string | undefined): string[] {
  if (before === after) return [];
  return [`Taint (by forced/invalidated task) changed from ${describeTaint(before)} to ${describeTaint(after)}`];
}

function describeTaint(taint: string | undefined): string {
  if (taint === undefined) return "(none)";
  return taint.startsWith("nostamp:") ? `nostamp(uuid4):${taint.slice("nostamp:".length)}` : taint;
}

/** Hashes in full, as bitbake-diffsigs prints them: a shortened one cannot be searched for. */
export function hashText(hash: string | undefined): string {
  return hash ?? "(none)";
}

/** A null checksum means the file did not exist when the hash was computed. */
function checksumText(checksum: string | null): string {
  return checksum ?? "(missing)";
}

function quoteValue(value: string | null): string {
  return value === null ? "(unset)" : `'${value}'`;
}

function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function indent(prefix: string, lines: readonly string[]): string[] {
  return lines.map((line) => prefix + line);
}

/** Python's str.splitlines() for the separators bitbake values use. */
function splitLines(value: string): string[] {
  const lines = value.split(/\r\n|\r|\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

interface DiffOp {
  kind: " " | "-" | "+";
  line: string;
}

/** A minimal edit script by longest common subsequence, after trimming the common ends. */
function diffSequences(before: readonly string[], after: readonly string[]): DiffOp[] {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
  ) {
    suffix++;
  }
  const oldMiddle = before.slice(prefix, before.length - suffix);
  const newMiddle = after.slice(prefix, after.length - suffix);
  const same = (lines: readonly string[]): DiffOp[] => lines.map((line) => ({ kind: " ", line }));
  return [
    ...same(before.slice(0, prefix)),
    ...diffMiddle(oldMiddle, newMiddle),
    ...same(before.slice(before.length - suffix)),
  ];
}

function diffMiddle(before: readonly string[], after: readonly string[]): DiffOp[] {
  if (before.length === 0 || after.length === 0 || before.length * after.length > MAX_DIFF_CELLS) {
    return [
      ...before.map((line): DiffOp => ({ kind: "-", line })),
      ...after.map((line): DiffOp => ({ kind: "+", line })),
    ];
  }
  // common[i][j] = length of the LCS of before[i..] and after[j..], row-major in one array.
  const width = after.length + 1;
  const common = new Uint32Array((before.length + 1) * width);
  for (let i = before.length - 1; i >= 0; i--) {
    for (let j = after.length - 1; j >= 0; j--) {
      common[i * width + j] = before[i] === after[j] ? common[(i + 1) * width + j + 1]! + 1 : Math.max(common[(i + 1) * width + j]!, common[i * width + j + 1]!);
    }
  }
  const ops: DiffOp[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      ops.push({ kind: " ", line: before[i++]! });
      j++;
    } else if (j >= after.length || (i < before.length && common[(i + 1) * width + j]! >= common[i * width + j + 1]!)) {
      ops.push({ kind: "-", line: before[i++]! });
    } else {
      ops.push({ kind: "+", line: after[j++]! });
    }
  }
  return ops;
}

/** Hunks in the format of Python's difflib.unified_diff, without the file header lines. */
function unifiedDiff(before: readonly string[], after: readonly string[]): string[] {
  const ops = diffSequences(before, after);
  const hunks: Array<{ start: number; end: number }> = [];
  ops.forEach((op, index) => {
    if (op.kind === " ") return;
    const start = Math.max(0, index - DIFF_CONTEXT_LINES);
    const end = Math.min(ops.length, index + DIFF_CONTEXT_LINES + 1);
    const last = hunks.at(-1);
    if (last && start <= last.end) last.end = end;
    else hunks.push({ start, end });
  });
  const lines: string[] = [];
  let oldLine = 0;
  let newLine = 0;
  let position = 0;
  for (const hunk of hunks) {
    for (; position < hunk.start; position++) {
      oldLine++;
      newLine++;
    }
    const hunkOps = ops.slice(hunk.start, hunk.end);
    const oldCount = hunkOps.filter((op) => op.kind !== "+").length;
    const newCount = hunkOps.filter((op) => op.kind !== "-").length;
    lines.push(`@@ -${hunkRange(oldLine, oldCount)} +${hunkRange(newLine, newCount)} @@`);
    lines.push(...hunkOps.map((op) => op.kind + op.line));
    oldLine += oldCount;
    newLine += newCount;
    position = hunk.end;
  }
  return lines;
}

function hunkRange(firstIndex: number, count: number): string {
  if (count === 1) return String(firstIndex + 1);
  return `${count === 0 ? firstIndex : firstIndex + 1},${count}`;
}

/**
 * bitbake's worddiff_str: the values split at single spaces and diffed as runs, removed runs as
 * `[-…-]` and added ones as `{+…+}`, quoted, noting a change of whitespace only.
 */
function wordDiff(before: string, after: string): string {
  const runs = longestRunDiff(before.split(" "), after.split(" ")).map(({ kind, items }) => {
    const text = items.join(" ");
    return kind === "=" ? text : kind === "-" ? `[-${text}-]` : `{+${text}+}`;
  });
  const onlyWhitespace = normaliseSpaces(before) === normaliseSpaces(after);
  return `"${runs.join(" ")}"${onlyWhitespace ? " (whitespace changed)" : ""}`;
}

/** Python's ' '.join(value.split()). */
function normaliseSpaces(value: string): string {
  return value.split(/\s+/).filter((word) => word !== "").join(" ");
}

interface Run {
  kind: "=" | "-" | "+";
  items: readonly string[];
}

/**
 * The diff of bitbake's vendored simplediff: the longest common run of items (the first found,
 * scanning `after`), then the same on each side of it, recursively. Its runs, not an LCS's,
 * so that the words come out grouped as bitbake-diffsigs shows them.
 */
function longestRunDiff(before: readonly string[], after: readonly string[]): Run[] {
  const positions = new Map<string, number[]>();
  before.forEach((item, index) => {
    const list = positions.get(item);
    if (list) list.push(index);
    else positions.set(item, [index]);
  });
  // runEnding.get(i): length of the common run ending at before[i] and the current item of `after`.
  let runEnding = new Map<number, number>();
  let best = { before: 0, after: 0, length: 0 };
  after.forEach((item, afterIndex) => {
    const next = new Map<number, number>();
    for (const beforeIndex of positions.get(item) ?? []) {
      const length = (beforeIndex > 0 ? (runEnding.get(beforeIndex - 1) ?? 0) : 0) + 1;
      next.set(beforeIndex, length);
      if (length > best.length) best = { before: beforeIndex - length + 1, after: afterIndex - length + 1, length };
    }
    runEnding = next;
  });
  if (best.length === 0) {
    return [...(before.length > 0 ? [{ kind: "-" as const, items: before }] : []), ...(after.length > 0 ? [{ kind: "+" as const, items: after }] : [])];
  }
  return [
    ...longestRunDiff(before.slice(0, best.before), after.slice(0, best.after)),
    { kind: "=", items: after.slice(best.after, best.after + best.length) },
    ...longestRunDiff(before.slice(best.before + best.length), after.slice(best.after + best.length)),
  ];
}
