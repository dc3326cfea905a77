/**
 * The columns of a listing (or of one part of it, parsed by a listing thread): one typed array
 * per field, one entry per file. A managed file's path is not kept: it is the nativelsb
 * directory, the hash directories, the header, the hash, the task and the ending, all of which
 * the columns hold (a fifth of the bytes of the path, and no string per file for the collector).
 */
import { Buffer } from "node:buffer";
import { compareCodeUnits } from "../util/compare.ts";
import type { RemoteFile } from "./files.ts";
import { endingOf, ENDINGS, INVALID_HASH, KIND, LAYOUT, type ParsedFields, type SstateNames } from "./name.ts";

/** Bits of the `flags` column. */
export const FLAG = {
  symlink: 1,
  special: 2,
  /** The path is kept as it was listed (unmanaged files, temp leftovers); every other path is written from the columns. */
  storedPath: 4,
} as const;

/** Bytes of the `hashes` column per file: a 64-digit unihash (a 32-digit one fills half, INVALID none). */
export const HASH_BYTES = 32;

export interface Columns {
  sizes: Float64Array;
  mtimes: Float64Array;
  kinds: Uint8Array;
  headers: Int32Array;
  tasks: Int32Array;
  taskKeys: Int32Array;
  endings: Uint8Array;
  suffixStarts: Uint16Array;
  nativelsbs: Int32Array;
  layouts: Uint8Array;
  hashLengths: Uint8Array;
  flags: Uint8Array;
  /** HASH_BYTES per file: the unihash of each managed file, in binary. */
  hashes: Buffer;
  /** The paths of the files flagged `storedPath`, by index. */
  storedPaths: Map<number, string>;
  /** Only once some file has one (remote listings). */
  etags: EtagColumn | undefined;
}

/** An ETag as S3 gives a single-part upload's: its MD5, in quotes. */
const QUOTED_MD5 = /^"[0-9a-f]{32}"$/;
const MD5_BYTES = 16;

/**
 * ETags, most of them quoted MD5s kept as 16 bytes each (a ten-million-object bucket's ETags
 * as strings took more than its other columns); any other ETag is kept as it is.
 */
export class EtagColumn {
  /** 0: none, 1: a quoted MD5 in `md5s`, 2: in `others`. */
  #forms: Uint8Array;
  #md5s: Buffer;
  readonly #others: Map<number, string>;

  constructor(capacity: number, from?: EtagColumn) {
    this.#forms = new Uint8Array(capacity);
    this.#md5s = Buffer.alloc(capacity * MD5_BYTES);
    this.#others = from ? from.#others : new Map();
    if (from) {
      this.#forms.set(from.#forms.subarray(0, Math.min(capacity, from.#forms.length)));
      this.#md5s.set(from.#md5s.subarray(0, Math.min(capacity, from.#forms.length) * MD5_BYTES));
    }
  }

  set(i: number, etag: string): void {
    if (QUOTED_MD5.test(etag)) {
      this.#forms[i] = 1;
      writeHex(etag, 1, 2 * MD5_BYTES, this.#md5s, i * MD5_BYTES);
    } else {
      this.#forms[i] = 2;
      this.#others.set(i, etag);
    }
  }

  get(i: number): string | undefined {
    const form = this.#forms[i];
    if (form === 1) return `"${this.#md5s.toString("hex", i * MD5_BYTES, (i + 1) * MD5_BYTES)}"`;
    return form === 2 ? this.#others.get(i) : undefined;
  }

  /** The ETags of files `order[0]`, `order[1]` … as files 0, 1 … */
  permuted(order: Int32Array): EtagColumn {
    const out = new EtagColumn(order.length);
    order.forEach((from, i) => {
      const etag = this.get(from);
      if (etag !== undefined) out.set(i, etag);
    });
    return out;
  }
}

export const INITIAL_CAPACITY = 1024;

/** Parses file `i` into the columns (all but its ETag); its path is stored when the columns cannot write it. */
export function writeFile(names: SstateNames, fields: ParsedFields, c: Columns, i: number, file: RemoteFile): void {
  c.sizes[i] = file.size;
  c.mtimes[i] = file.mtimeMs;
  let flags = (file.symlink ? FLAG.symlink : 0) | (file.special ? FLAG.special : 0);
  if (!file.special && names.parseInto(file.path, fields)) {
    c.kinds[i] = fields.kind;
    c.headers[i] = fields.header;
    c.tasks[i] = fields.task;
    c.taskKeys[i] = fields.taskKey;
    c.endings[i] = fields.ending;
    c.suffixStarts[i] = fields.suffixStart;
    c.nativelsbs[i] = fields.nativelsb;
    c.layouts[i] = fields.layout;
    c.hashLengths[i] = fields.hashLength;
    if (fields.hashLength !== INVALID_HASH.length) writeHex(file.path, fields.hashStart, fields.hashLength, c.hashes, i * HASH_BYTES);
    if (fields.kind === KIND.temp) flags |= FLAG.storedPath;
  } else {
    // Every column is written: a listing thread's columns are reused from part to part.
    c.kinds[i] = KIND.unmanaged;
    c.headers[i] = -1;
    c.tasks[i] = 0;
    c.taskKeys[i] = -1;
    c.endings[i] = 0;
    c.suffixStarts[i] = 0;
    c.nativelsbs[i] = 0;
    c.layouts[i] = 0;
    c.hashLengths[i] = 0;
    flags |= FLAG.storedPath;
  }
  c.flags[i] = flags;
  if (flags & FLAG.storedPath) c.storedPaths.set(i, file.path);
}

/** For each (non-temp) ending code, the code of its archive's ending: `.tgz.siginfo` → `.tgz`. */
export const ARCHIVE_ENDING_OF: readonly number[] = ENDINGS.map((ending) => ENDINGS.findIndex((candidate) => candidate.kind === KIND.archive && candidate.archiveExt === ending.archiveExt));

export function hashAt(columns: Columns, i: number): string {
  const length = columns.hashLengths[i]!;
  if (length === INVALID_HASH.length) return INVALID_HASH;
  return columns.hashes.toString("hex", i * HASH_BYTES, i * HASH_BYTES + length / 2);
}

export function pathAt(names: SstateNames, columns: Columns, i: number): string {
  if (columns.flags[i]! & FLAG.storedPath) return columns.storedPaths.get(i)!;
  const hash = hashAt(columns, i);
  const nativelsb = names.nativelsbs[columns.nativelsbs[i]!]!;
  const layout = columns.layouts[i]!;
  const hashDirs = layout === LAYOUT.twoLevels ? `${hash.slice(0, 2)}/${hash.slice(2, 4)}/` : layout === LAYOUT.oneLevel ? `${hash.slice(0, 2)}/` : "";
  return `${nativelsb === "" ? "" : `${nativelsb}/`}${hashDirs}${names.headerTexts[columns.headers[i]!]}:${hash}_${names.tasks[columns.tasks[i]!]}${endingOf(columns.endings[i]!).suffix}`;
}

/** Whether two managed files with paths written from the columns have the same name up to the ending, and the same directory. */
export function sameStem(columns: Columns, i: number, j: number): boolean {
  if (
    columns.headers[i] !== columns.headers[j] || columns.tasks[i] !== columns.tasks[j] || columns.hashLengths[i] !== columns.hashLengths[j] || columns.nativelsbs[i] !== columns.nativelsbs[j] ||
    columns.layouts[i] !== columns.layouts[j]
  ) return false;
  const { hashes } = columns;
  for (let at = i * HASH_BYTES, other = j * HASH_BYTES, end = at + HASH_BYTES; at < end; at++, other++) if (hashes[at] !== hashes[other]) return false;
  return true;
}

export function allocate(capacity: number, withEtags: boolean): Columns {
  return {
    sizes: new Float64Array(capacity),
    mtimes: new Float64Array(capacity),
    kinds: new Uint8Array(capacity),
    headers: new Int32Array(capacity),
    tasks: new Int32Array(capacity),
    taskKeys: new Int32Array(capacity),
    endings: new Uint8Array(capacity),
    suffixStarts: new Uint16Array(capacity),
    nativelsbs: new Int32Array(capacity),
    layouts: new Uint8Array(capacity),
    hashLengths: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    hashes: Buffer.alloc(capacity * HASH_BYTES),
    storedPaths: new Map(),
    etags: withEtags ? new EtagColumn(capacity) : undefined,
  };
}

export type TypedColumn = Exclude<keyof Columns, "hashes" | "storedPaths" | "etags">;
export const TYPED_COLUMNS: readonly TypedColumn[] = ["sizes", "mtimes", "kinds", "headers", "tasks", "taskKeys", "endings", "suffixStarts", "nativelsbs", "layouts", "hashLengths", "flags"];

export function grow(columns: Columns, capacity: number): Columns {
  const next = allocate(capacity, false);
  for (const name of TYPED_COLUMNS) (next[name] as { set(from: ArrayLike<number>): void }).set(columns[name]);
  next.hashes.set(columns.hashes);
  next.storedPaths = columns.storedPaths;
  next.etags = columns.etags && new EtagColumn(capacity, columns.etags);
  return next;
}

/**
 * The columns cut to `count` files. Views where the spare capacity is small (the common case of
 * a doubling that came late), copies where it is not: a copy holds both while it is made.
 */
export function trim(columns: Columns, count: number): Columns {
  const trimmed = { ...columns };
  const views = columns.sizes.length - count <= columns.sizes.length / 8;
  for (const name of TYPED_COLUMNS) (trimmed as Record<TypedColumn, unknown>)[name] = views ? columns[name].subarray(0, count) : columns[name].slice(0, count);
  trimmed.hashes = views ? columns.hashes.subarray(0, count * HASH_BYTES) : Buffer.from(columns.hashes.subarray(0, count * HASH_BYTES));
  if (columns.etags && !views) trimmed.etags = new EtagColumn(count, columns.etags);
  return trimmed;
}

/** The columns in path order (code units: the same on every runtime and locale). */
export function sorted(columns: Columns, paths: readonly string[]): Columns {
  const count = paths.length;
  const order = Int32Array.from({ length: count }, (_, i) => i).sort((a, b) => compareCodeUnits(paths[a]!, paths[b]!));
  const out = allocate(count, columns.etags !== undefined);
  for (const name of TYPED_COLUMNS) {
    const from = columns[name] as ArrayLike<number>;
    const to = out[name] as { [index: number]: number };
    for (let i = 0; i < count; i++) to[i] = from[order[i]!]!;
  }
  for (let i = 0; i < count; i++) {
    const from = order[i]!;
    columns.hashes.copy(out.hashes, i * HASH_BYTES, from * HASH_BYTES, (from + 1) * HASH_BYTES);
    const stored = columns.storedPaths.get(from);
    if (stored !== undefined) out.storedPaths.set(i, stored);
  }
  if (columns.etags) out.etags = columns.etags.permuted(order);
  return out;
}

const HEX_VALUES = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 16; digit++) HEX_VALUES["0123456789abcdef".charCodeAt(digit)] = digit;

/** Writes the `length` hex digits of `text` at `start` (lowercase, as parsing checked) into `into` as bytes. */
function writeHex(text: string, start: number, length: number, into: Uint8Array, offset: number): void {
  for (let at = start, end = start + length; at < end; at += 2) into[offset++] = (HEX_VALUES[text.charCodeAt(at)]! << 4) | HEX_VALUES[text.charCodeAt(at + 1)]!;
}
