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
const HASH_DISPLAY_LENGTH = 8;
const NESTED_INDENT = "    ";
const BLOCK_INDENT = "  ";
const DIFF_CONTEXT_LINES = 3;
/** Beyond this many LCS cells a changed block is shown as all-removed then all-added. */
const MAX_DIFF_CELLS = 4_000_000;

interface Traversal {
  resolveDependency: CompareOptions["resolveDependency"];
  maxDepth: number;
  /** Dependency pairs already expanded, so a change shared by many tasks is explained once. */
  expanded: Set<string>;
}

/** Returns one string per output line, empty when the signatures are identical. */
export async function compareSigData(a: SigData, b: SigData, options: CompareOptions = {}): Promise<string[]> {
  const traversal: Traversal = {
    resolveDependency: options.resolveDependency,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    expanded: new Set(),
  };
  return compareAtDepth(a, b, traversal, 0);
}

async function compareAtDepth(a: SigData, b: SigData, traversal: Traversal, depth: number): Promise<string[]> {
  return [
    ...ignoreListLines(a, b),
    ...setChangeLines("Task dependencies", a.taskdeps, b.taskdeps),
    ...hashChangeLines("basehash", a.basehash, b.basehash),
    ...hashChangeLines("taskhash", a.taskhash, b.taskhash),
    ...hashChangeLines("unihash", a.unihash, b.unihash),
    ...gendepsLines(a, b),
    ...varvalLines(a.varvals, b.varvals),
    ...fileChecksumLines(a.file_checksum_values ?? [], b.file_checksum_values ?? []),
    ...runtaskdepsLines(a.runtaskdeps ?? [], b.runtaskdeps ?? []),
    ...(await taskDependencyLines(a.runtaskhashes ?? {}, b.runtaskhashes ?? {}, traversal, depth)),
    ...taintLines(a.taint, b.taint),
  ];
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
  return before === after ? [] : [`${label} changed from ${shortHash(before)} to ${shortHash(after)}`];
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
    if (oldValue !== null && newValue !== null && (oldValue.includes("\n") || newValue.includes("\n"))) {
      lines.push(`Variable ${name} value changed:`, ...indent(BLOCK_INDENT, unifiedDiff(splitLines(oldValue), splitLines(newValue))));
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
      lines.push(`Checksum for file ${name} changed from ${shortChecksum(oldChecksum)} to ${shortChecksum(newChecksum)}`);
    } else {
      removedLines.push(`Dependency on checksum of file ${name} was removed with checksum ${shortChecksum(oldChecksum)}`);
    }
  }
  for (const [name, checksum] of unmatchedAfter) {
    lines.push(`Dependency on checksum of file ${name} was added with checksum ${shortChecksum(checksum)}`);
  }
  return [...lines, ...removedLines];
}

/** The taskhash depends on the order of runtaskdeps too, so a reordering is a change. */
function runtaskdepsLines(before: readonly string[], after: readonly string[]): string[] {
  if (sameList(before, after)) return [];
  const changes = diffSequences(before, after).filter((op) => op.kind !== " ");
  return ["runtaskdeps changed:", ...changes.map((op) => `${BLOCK_INDENT}${op.kind}${op.line}`)];
}

async function taskDependencyLines(
  before: Record<string, string>,
  after: Record<string, string>,
  traversal: Traversal,
  depth: number,
): Promise<string[]> {
  const added = sortedKeys(after).filter((dep) => !Object.hasOwn(before, dep));
  const removed = sortedKeys(before).filter((dep) => !Object.hasOwn(after, dep));
  // A dependency renamed with its hash unchanged (e.g. recipe path → pn ids in 2023) is no change.
  const removedHashes = new Set(removed.map((dep) => before[dep]));
  const addedHashes = new Set(added.map((dep) => after[dep]));
  const lines: string[] = [];
  for (const dep of added.filter((id) => !removedHashes.has(after[id]))) {
    lines.push(`Dependency on task ${dep} was added with hash ${shortHash(after[dep])}`);
  }
  for (const dep of removed.filter((id) => !addedHashes.has(before[id]))) {
    lines.push(`Dependency on task ${dep} was removed with hash ${shortHash(before[dep])}`);
  }
  for (const dep of sortedKeys(before).filter((id) => Object.hasOwn(after, id) && before[id] !== after[id])) {
    const [hashA, hashB] = [before[dep]!, after[dep]!];
    lines.push(`Hash for task dependency ${dep} changed from ${shortHash(hashA)} to ${shortHash(hashB)}`);
    lines.push(...indent(NESTED_INDENT, await dependencyExplanation(dep, hashA, hashB, traversal, depth)));
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
  const pairKey = `${dep} ${hashA} ${hashB}`;
  if (traversal.expanded.has(pairKey)) return [`(the changes of ${dep} are shown above)`];
  traversal.expanded.add(pairKey);
  const pair = await traversal.resolveDependency(dep, hashA, hashB);
  if (!pair) {
    return [`Unable to find matching siginfo for ${dep} with hashes ${shortHash(hashA)} and ${shortHash(hashB)}`];
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

export function shortHash(hash: string | undefined): string {
  return hash === undefined ? "(none)" : hash.slice(0, HASH_DISPLAY_LENGTH);
}

/** A null checksum means the file did not exist when the hash was computed. */
function shortChecksum(checksum: string | null): string {
  return checksum === null ? "(missing)" : checksum.slice(0, HASH_DISPLAY_LENGTH);
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
      common[i * width + j] =
        before[i] === after[j]
          ? common[(i + 1) * width + j + 1]! + 1
          : Math.max(common[(i + 1) * width + j]!, common[i * width + j + 1]!);
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
