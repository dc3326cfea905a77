/**
 * A whole listing as columns: one typed array per field, one entry per file, in path order.
 * Nothing per file survives as a JS object: a million-file listing is a few dozen arrays, the
 * parser's dictionaries and the paths. Everything computed from it is deterministic.
 */
import { createHash } from "node:crypto";
import { compareCodeUnits } from "../util/compare.ts";
import type { RemoteFile } from "./files.ts";
import { emptyFields, endingOf, KIND, KIND_NAMES, type KindCode, type ManagedKind, type SstateName, SstateNames, TEMP_ENDING_OFFSET } from "./name.ts";

/** Bits of the `flags` column. */
export const FLAG = { symlink: 1, special: 2 } as const;

/** One listed object as an object, for the cold paths (reports, tests); the planner reads columns. */
export interface ListedFile extends RemoteFile {
  /** undefined: unmanaged, never touched (a special file is unmanaged whatever its name). */
  name: SstateName | undefined;
}

export interface ManagedFile extends ListedFile {
  name: SstateName;
}

export function isManaged(file: ListedFile): file is ManagedFile {
  return file.name !== undefined;
}

interface Columns {
  paths: string[];
  sizes: Float64Array;
  mtimes: Float64Array;
  kinds: Uint8Array;
  headers: Int32Array;
  tasks: Int32Array;
  taskKeys: Int32Array;
  endings: Uint8Array;
  suffixStarts: Uint16Array;
  nativelsbs: Uint8Array;
  hashStarts: Uint16Array;
  hashLengths: Uint8Array;
  flags: Uint8Array;
  etags: (string | undefined)[] | undefined;
}

export class Listing {
  readonly names: SstateNames;
  readonly count: number;
  /** Bytes of every listed file. */
  readonly bytes: number;
  /** sha256 over "path\tsize\tmtimeMs\n" of every file in path order: identifies the listing in a plan. */
  readonly sha256: string;
  readonly sizes: Float64Array;
  /** Whole milliseconds. */
  readonly mtimes: Float64Array;
  /** KIND codes; 0 for unmanaged files. */
  readonly kinds: Uint8Array;
  /** Index into `names.headers` (managed files only, as are the columns below). */
  readonly headers: Int32Array;
  readonly tasks: Int32Array;
  readonly taskKeys: Int32Array;
  readonly endings: Uint8Array;
  readonly flags: Uint8Array;
  readonly #paths: string[];
  readonly #suffixStarts: Uint16Array;
  readonly #nativelsbs: Uint8Array;
  readonly #hashStarts: Uint16Array;
  readonly #hashLengths: Uint8Array;
  readonly #etags: (string | undefined)[] | undefined;
  #archiveIndexes: Int32Array | undefined;
  #tasksWithArchive: Uint8Array | undefined;

  constructor(names: SstateNames, count: number, columns: Columns, totals: { bytes: number; sha256: string }) {
    this.names = names;
    this.count = count;
    this.bytes = totals.bytes;
    this.sha256 = totals.sha256;
    this.#paths = columns.paths;
    this.sizes = columns.sizes;
    this.mtimes = columns.mtimes;
    this.kinds = columns.kinds;
    this.headers = columns.headers;
    this.tasks = columns.tasks;
    this.taskKeys = columns.taskKeys;
    this.endings = columns.endings;
    this.#suffixStarts = columns.suffixStarts;
    this.#nativelsbs = columns.nativelsbs;
    this.#hashStarts = columns.hashStarts;
    this.#hashLengths = columns.hashLengths;
    this.flags = columns.flags;
    this.#etags = columns.etags;
  }

  path(i: number): string {
    return this.#paths[i]!;
  }

  etag(i: number): string | undefined {
    return this.#etags?.[i];
  }

  /** Whether any file has an ETag (remote listings): local files have none. */
  get hasEtags(): boolean {
    return this.#etags !== undefined;
  }

  isManaged(i: number): boolean {
    return this.kinds[i] !== KIND.unmanaged;
  }

  kind(i: number): ManagedKind | undefined {
    return KIND_NAMES[this.kinds[i]!];
  }

  pn(i: number): string {
    return this.names.headers[this.headers[i]!]!.pn;
  }

  arch(i: number): string {
    return this.names.headers[this.headers[i]!]!.arch;
  }

  pv(i: number): string {
    return this.names.headers[this.headers[i]!]!.pv;
  }

  pr(i: number): string {
    return this.names.headers[this.headers[i]!]!.pr;
  }

  task(i: number): string {
    return this.names.tasks[this.tasks[i]!]!;
  }

  hash(i: number): string {
    const start = this.#hashStarts[i]!;
    return this.#paths[i]!.slice(start, start + this.#hashLengths[i]!);
  }

  /** Everything after the task: `.tar.zst`, `.tgz.siginfo` … (a temp leftover's, with its tail). */
  suffix(i: number): string {
    const ending = this.endings[i]!;
    return ending >= TEMP_ENDING_OFFSET ? this.#paths[i]!.slice(this.#suffixStarts[i]!) : endingOf(ending).suffix;
  }

  nativelsb(i: number): string {
    return this.names.nativelsbs[this.#nativelsbs[i]!]!;
  }

  /** The parsed name as an object, or undefined for an unmanaged file. */
  name(i: number): SstateName | undefined {
    if (!this.isManaged(i)) return undefined;
    return this.names.nameOf(this.#paths[i]!, {
      kind: this.kinds[i] as KindCode,
      header: this.headers[i]!,
      task: this.tasks[i]!,
      taskKey: this.taskKeys[i]!,
      ending: this.endings[i]!,
      suffixStart: this.#suffixStarts[i]!,
      nativelsb: this.#nativelsbs[i]!,
      hashStart: this.#hashStarts[i]!,
      hashLength: this.#hashLengths[i]!,
    });
  }

  /** File `i` as an object. */
  file(i: number): ListedFile {
    const file: ListedFile = { path: this.#paths[i]!, size: this.sizes[i]!, mtimeMs: this.mtimes[i]!, name: this.name(i) };
    const etag = this.etag(i);
    if (etag !== undefined) file.etag = etag;
    if (this.flags[i]! & FLAG.symlink) file.symlink = true;
    if (this.flags[i]! & FLAG.special) file.special = true;
    return file;
  }

  /** Every file as an object, in path order (for the cold paths that want them so). */
  *objects(): Generator<ListedFile> {
    for (let i = 0; i < this.count; i++) yield this.file(i);
  }

  /**
   * For each .siginfo/.sig/.done, the index of its archive (-1 if absent, and for every other
   * file). A companion's path extends its archive's, so in path order the archive comes shortly
   * before it, among paths that share the archive path as a prefix.
   */
  archiveIndexes(): Int32Array {
    if (this.#archiveIndexes) return this.#archiveIndexes;
    const archiveOf = new Int32Array(this.count).fill(-1);
    for (let i = 0; i < this.count; i++) {
      const kind = this.kinds[i]!;
      if (kind !== KIND.siginfo && kind !== KIND.signature && kind !== KIND.done) continue;
      const path = this.#paths[i]!;
      const archivePath = path.slice(0, path.length - endingOf(this.endings[i]!).suffix.length + endingOf(this.endings[i]!).archiveExt.length);
      // Slices compared with ===: startsWith walks long paths one character at a time.
      for (let j = i - 1; j >= 0 && this.#paths[j]!.slice(0, archivePath.length) === archivePath; j--) {
        if (this.#paths[j]!.length === archivePath.length) {
          if (this.kinds[j] === KIND.archive) archiveOf[i] = j;
          break;
        }
      }
    }
    return (this.#archiveIndexes = archiveOf);
  }

  /** For each taskKey, 1 if the pn+arch+task has at least one archive in the listing. */
  tasksWithArchive(): Uint8Array {
    if (this.#tasksWithArchive) return this.#tasksWithArchive;
    const has = new Uint8Array(this.names.taskKeyCount);
    for (let i = 0; i < this.count; i++) if (this.kinds[i] === KIND.archive) has[this.taskKeys[i]!] = 1;
    return (this.#tasksWithArchive = has);
  }
}

const INITIAL_CAPACITY = 1024;

/**
 * Parses names as they stream in; call `finish()` once the backend listing is exhausted. While
 * the files arrive in path order (the local listing sends them so), they are fingerprinted as
 * they come and need no sort.
 */
export class ListingBuilder {
  readonly names: SstateNames;
  #count = 0;
  #columns: Columns = allocate(INITIAL_CAPACITY, false);
  readonly #fields = emptyFields();
  readonly #digest = new ListingDigest();

  /** `names`: a parser shared with another listing, so that their task keys compare (analyze). */
  constructor(names = new SstateNames()) {
    this.names = names;
  }

  get count(): number {
    return this.#count;
  }

  add(batch: readonly RemoteFile[]): void {
    const fields = this.#fields;
    for (const file of batch) {
      const i = this.#count;
      if (i === this.#columns.sizes.length) this.#columns = grow(this.#columns, i * 2);
      const c = this.#columns;
      c.paths.push(file.path);
      c.sizes[i] = file.size;
      c.mtimes[i] = file.mtimeMs;
      if (file.etag !== undefined) (c.etags ??= new Array<string | undefined>(c.sizes.length))[i] = file.etag;
      c.flags[i] = (file.symlink ? FLAG.symlink : 0) | (file.special ? FLAG.special : 0);
      if (!file.special && this.names.parseInto(file.path, fields)) {
        c.kinds[i] = fields.kind;
        c.headers[i] = fields.header;
        c.tasks[i] = fields.task;
        c.taskKeys[i] = fields.taskKey;
        c.endings[i] = fields.ending;
        c.suffixStarts[i] = fields.suffixStart;
        c.nativelsbs[i] = fields.nativelsb;
        c.hashStarts[i] = fields.hashStart;
        c.hashLengths[i] = fields.hashLength;
      } else {
        c.kinds[i] = KIND.unmanaged;
        c.headers[i] = -1;
        c.taskKeys[i] = -1;
      }
      this.#count++;
      if (this.#digest.ordered) this.#digest.add(file.path, file.size, file.mtimeMs);
    }
  }

  finish(): Listing {
    let columns = trim(this.#columns, this.#count);
    if (!this.#digest.ordered) {
      columns = sorted(columns, this.#count);
      for (let i = 0; i < this.#count; i++) this.#digest.add(columns.paths[i]!, columns.sizes[i]!, columns.mtimes[i]!);
    }
    return new Listing(this.names, this.#count, columns, this.#digest.finish());
  }
}

/** A listing of the given files (tests, small fixed sets). */
export function listingOf(files: readonly RemoteFile[]): Listing {
  const builder = new ListingBuilder();
  builder.add(files);
  return builder.finish();
}

export async function collectListing(batches: AsyncIterable<readonly RemoteFile[]>, options: { onCount?: (n: number) => void; names?: SstateNames } = {}): Promise<Listing> {
  const { onCount } = options;
  const builder = new ListingBuilder(options.names);
  for await (const batch of batches) {
    builder.add(batch);
    onCount?.(builder.count);
  }
  return builder.finish();
}

/** The listing's bytes and sha256 over "path\tsize\tmtimeMs\n" of files added in path order; `ordered` turns false at the first file out of order. */
class ListingDigest {
  ordered = true;
  private readonly digest = createHash("sha256");
  private bytes = 0;
  private chunk = "";
  private lastPath = "";

  add(path: string, size: number, mtimeMs: number): void {
    if (path < this.lastPath) {
      this.ordered = false;
      this.restart();
      return;
    }
    this.lastPath = path;
    this.bytes += size;
    this.chunk += `${path}\t${size}\t${mtimeMs}\n`;
    if (this.chunk.length > 1 << 16) {
      this.digest.update(this.chunk);
      this.chunk = "";
    }
  }

  finish(): { bytes: number; sha256: string } {
    this.digest.update(this.chunk);
    return { bytes: this.bytes, sha256: this.digest.digest("hex") };
  }

  /** Out of order: what was fed is forgotten; the sorted listing is fed again from the start. */
  private restart(): void {
    Object.assign(this, { digest: createHash("sha256"), bytes: 0, chunk: "", lastPath: "" });
  }
}

function allocate(capacity: number, withEtags: boolean): Columns {
  return {
    paths: [],
    sizes: new Float64Array(capacity),
    mtimes: new Float64Array(capacity),
    kinds: new Uint8Array(capacity),
    headers: new Int32Array(capacity),
    tasks: new Int32Array(capacity),
    taskKeys: new Int32Array(capacity),
    endings: new Uint8Array(capacity),
    suffixStarts: new Uint16Array(capacity),
    nativelsbs: new Uint8Array(capacity),
    hashStarts: new Uint16Array(capacity),
    hashLengths: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    etags: withEtags ? new Array<string | undefined>(capacity) : undefined,
  };
}

type TypedColumn = Exclude<keyof Columns, "paths" | "etags">;
const TYPED_COLUMNS: readonly TypedColumn[] = ["sizes", "mtimes", "kinds", "headers", "tasks", "taskKeys", "endings", "suffixStarts", "nativelsbs", "hashStarts", "hashLengths", "flags"];

function grow(columns: Columns, capacity: number): Columns {
  const next = allocate(capacity, false);
  for (const name of TYPED_COLUMNS) (next[name] as { set(from: ArrayLike<number>): void }).set(columns[name]);
  next.paths = columns.paths;
  next.etags = columns.etags;
  if (next.etags) next.etags.length = capacity;
  return next;
}

function trim(columns: Columns, count: number): Columns {
  const trimmed = { ...columns };
  for (const name of TYPED_COLUMNS) (trimmed as Record<TypedColumn, unknown>)[name] = columns[name].slice(0, count);
  if (trimmed.etags) trimmed.etags = trimmed.etags.slice(0, count);
  return trimmed;
}

/** The columns in path order (code units: the same on every runtime and locale). */
function sorted(columns: Columns, count: number): Columns {
  const order = Int32Array.from({ length: count }, (_, i) => i).sort((a, b) => compareCodeUnits(columns.paths[a]!, columns.paths[b]!));
  const out = allocate(count, columns.etags !== undefined);
  for (const name of TYPED_COLUMNS) {
    const from = columns[name] as ArrayLike<number>;
    const to = out[name] as { [index: number]: number };
    for (let i = 0; i < count; i++) to[i] = from[order[i]!]!;
  }
  out.paths = Array.from(order, (i) => columns.paths[i]!);
  if (columns.etags) out.etags = Array.from(order, (i) => columns.etags![i]);
  return out;
}

/** Kept for callers that sort objects by path the way the listing does. */
export function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodeUnits(a.path, b.path);
}
