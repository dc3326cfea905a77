/**
 * A whole listing as columns: one typed array per field, one entry per file, in path order.
 * Nothing per file survives as a JS object: a million-file listing is a few dozen arrays, the
 * parser's dictionaries and the paths. Everything computed from it is deterministic.
 */
import { createHash } from "node:crypto";
import { compareCodeUnits } from "../util/compare.ts";
import { allocate, ARCHIVE_ENDING_OF, type Columns, EtagColumn, FLAG, grow, HASH_BYTES, hashAt, INITIAL_CAPACITY, pathAt, sameStem, sorted, trim, TYPED_COLUMNS, writeFile } from "./columns.ts";
import type { RemoteFile } from "./files.ts";
import { digestLine, type ListingPart, type ThreadPart } from "./listing-part.ts";
import { emptyFields, endingOf, KIND, KIND_NAMES, type ManagedKind, type SstateName, SstateNames, TEMP_ENDING_OFFSET } from "./name.ts";

export { FLAG } from "./columns.ts";

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

/**
 * A managed file's path is not kept: it is the nativelsb directory, the hash directories, the
 * header, the hash, the task and the ending, all of which the columns hold (a fifth of the bytes
 * of the path, and no string per file for the collector to keep).
 */
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
  readonly #columns: Columns;
  #archiveIndexes: Int32Array | undefined;
  #tasksWithArchive: Uint8Array | undefined;

  constructor(names: SstateNames, count: number, columns: Columns, totals: { bytes: number; sha256: string }) {
    this.names = names;
    this.count = count;
    this.bytes = totals.bytes;
    this.sha256 = totals.sha256;
    this.#columns = columns;
    this.sizes = columns.sizes;
    this.mtimes = columns.mtimes;
    this.kinds = columns.kinds;
    this.headers = columns.headers;
    this.tasks = columns.tasks;
    this.taskKeys = columns.taskKeys;
    this.endings = columns.endings;
    this.flags = columns.flags;
  }

  path(i: number): string {
    return pathAt(this.names, this.#columns, i);
  }

  etag(i: number): string | undefined {
    return this.#columns.etags?.get(i);
  }

  /** Whether any file has an ETag (remote listings): local files have none. */
  get hasEtags(): boolean {
    return this.#columns.etags !== undefined;
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
    return hashAt(this.#columns, i);
  }

  /** Everything after the task: `.tar.zst`, `.tgz.siginfo` … (a temp leftover's, with its tail). */
  suffix(i: number): string {
    const ending = this.endings[i]!;
    return ending >= TEMP_ENDING_OFFSET ? this.#columns.storedPaths.get(i)!.slice(this.#columns.suffixStarts[i]!) : endingOf(ending).suffix;
  }

  nativelsb(i: number): string {
    return this.names.nativelsbs[this.#columns.nativelsbs[i]!]!;
  }

  /** The parsed name as an object, or undefined for an unmanaged file. */
  name(i: number): SstateName | undefined {
    if (!this.isManaged(i)) return undefined;
    return {
      kind: KIND_NAMES[this.kinds[i]!]!,
      ...this.names.headers[this.headers[i]!]!,
      hash: this.hash(i),
      task: this.task(i),
      archiveExt: endingOf(this.endings[i]!).archiveExt,
      suffix: this.suffix(i),
      nativelsb: this.nativelsb(i),
      taskKey: this.taskKeys[i]!,
    };
  }

  /** File `i` as an object. */
  file(i: number): ListedFile {
    const file: ListedFile = { path: this.path(i), size: this.sizes[i]!, mtimeMs: this.mtimes[i]!, name: this.name(i) };
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
   * before it, among paths that share the archive path as a prefix; of those, the ones written
   * from the columns share the companion's name up to its ending.
   */
  archiveIndexes(): Int32Array {
    if (this.#archiveIndexes) return this.#archiveIndexes;
    const archiveOf = new Int32Array(this.count).fill(-1);
    const { storedPaths } = this.#columns;
    for (let i = 0; i < this.count; i++) {
      const kind = this.kinds[i]!;
      if (kind !== KIND.siginfo && kind !== KIND.signature && kind !== KIND.done) continue;
      const archiveEnding = ARCHIVE_ENDING_OF[this.endings[i]!]!;
      let archivePath: string | undefined;
      for (let j = i - 1; j >= 0; j--) {
        if (this.flags[j]! & FLAG.storedPath) {
          if (archivePath === undefined) {
            const path = this.path(i);
            archivePath = path.slice(0, path.length - endingOf(this.endings[i]!).suffix.length + endingOf(archiveEnding).suffix.length);
          }
          if (!storedPaths.get(j)!.startsWith(archivePath)) break;
          continue;
        }
        if (!sameStem(this.#columns, i, j)) break;
        if (this.endings[j] === archiveEnding) {
          archiveOf[i] = j;
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

/**
 * Parses names as they stream in; call `finish()` once the backend listing is exhausted. While
 * the files arrive in path order (the local listing sends them so), they are fingerprinted as
 * they come and need no sort; otherwise their paths are kept until the sort.
 */
export class ListingBuilder {
  readonly names: SstateNames;
  #count = 0;
  #columns: Columns = allocate(INITIAL_CAPACITY, false);
  readonly #fields = emptyFields();
  readonly #digest = new ListingDigest();
  /** Every path, once the files came out of order (for the sort in `finish`). */
  #unorderedPaths: string[] | undefined;

  /** `names`: a parser shared with another listing, so that their task keys compare (analyze). */
  constructor(names = new SstateNames()) {
    this.names = names;
  }

  get count(): number {
    return this.#count;
  }

  add(batch: readonly RemoteFile[]): void {
    for (const file of batch) {
      const i = this.#count;
      if (i === this.#columns.sizes.length) this.#columns = grow(this.#columns, i * 2);
      const c = this.#columns;
      writeFile(this.names, this.#fields, c, i, file);
      if (file.etag !== undefined) (c.etags ??= new EtagColumn(c.sizes.length)).set(i, file.etag);
      this.#count++;
      if (this.#unorderedPaths) this.#unorderedPaths.push(file.path);
      else if (!this.#digest.add(file.path, file.size, file.mtimeMs)) {
        this.#unorderedPaths = Array.from({ length: i }, (_, j) => pathAt(this.names, c, j));
        this.#unorderedPaths.push(file.path);
      }
    }
  }

  /**
   * Adds a part parsed by a listing thread (see ListingPartWriter), its ids translated through
   * `origin`: the translation of that thread's ids, one per thread (`partOrigin()`).
   */
  addPart(part: ListingPart, origin: PartOrigin): void {
    if (part.count === 0) return;
    const { names } = this;
    for (const header of part.headers) origin.headers.push(names.headerId(header));
    for (const task of part.tasks) origin.tasks.push(names.taskId(task));
    for (const nativelsb of part.nativelsbs) origin.nativelsbs.push(names.nativelsbId(nativelsb));
    const base = this.#count;
    let capacity = this.#columns.sizes.length;
    while (capacity < base + part.count) capacity *= 2;
    if (capacity > this.#columns.sizes.length) this.#columns = grow(this.#columns, capacity);
    const c = this.#columns;
    const from = part.columns;
    for (const name of TYPED_COLUMNS) if (name !== "taskKeys") (c[name] as { set(from: ArrayLike<number>, at: number): void }).set(from[name], base);
    c.hashes.set(from.hashes, base * HASH_BYTES);
    for (let k = 0; k < part.count; k++) {
      const i = base + k;
      if (c.kinds[i] === KIND.unmanaged) {
        c.taskKeys[i] = -1;
        continue;
      }
      const header = origin.headers[from.headers[k]!]!;
      const task = origin.tasks[from.tasks[k]!]!;
      c.headers[i] = header;
      c.tasks[i] = task;
      c.taskKeys[i] = names.taskKey(header, task);
      c.nativelsbs[i] = origin.nativelsbs[from.nativelsbs[k]!]!;
    }
    for (const [k, path] of from.storedPaths) c.storedPaths.set(base + k, path);
    this.#count += part.count;
    if (this.#unorderedPaths) {
      for (let i = base; i < this.#count; i++) this.#unorderedPaths.push(pathAt(names, c, i));
    } else if (!part.ordered || !this.#digest.addText(part.digestText, part.bytes, part.firstPath, part.lastPath)) {
      this.#unorderedPaths = Array.from({ length: this.#count }, (_, i) => pathAt(names, c, i));
    }
  }

  finish(): Listing {
    let columns = trim(this.#columns, this.#count);
    if (this.#unorderedPaths) {
      columns = sorted(columns, this.#unorderedPaths);
      for (let i = 0; i < this.#count; i++) this.#digest.add(pathAt(this.names, columns, i), columns.sizes[i]!, columns.mtimes[i]!);
    }
    return new Listing(this.names, this.#count, columns, this.#digest.finish());
  }
}

/** A listing of the parts listing threads parsed (see ListingPartWriter), in path order. */
export async function collectListingParts(parts: AsyncIterable<ThreadPart>, options: { onCount?: (n: number) => void; names?: SstateNames } = {}): Promise<Listing> {
  const builder = new ListingBuilder(options.names);
  const origins = new Map<number, PartOrigin>();
  for await (const { thread, part } of parts) {
    let origin = origins.get(thread);
    if (!origin) origins.set(thread, origin = partOrigin());
    builder.addPart(part, origin);
    options.onCount?.(builder.count);
  }
  return builder.finish();
}

/** How one listing thread's ids translate into the listing's (see ListingBuilder.addPart). */
export interface PartOrigin {
  headers: number[];
  tasks: number[];
  nativelsbs: number[];
}

export function partOrigin(): PartOrigin {
  return { headers: [], tasks: [], nativelsbs: [] };
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

/** The listing's bytes and sha256 over "path\tsize\tmtimeMs\n" of files added in path order. */
class ListingDigest {
  private readonly digest = createHash("sha256");
  private bytes = 0;
  private chunk = "";
  private lastPath = "";

  /** False, and forgetting what it was fed, at the first path out of order. */
  add(path: string, size: number, mtimeMs: number): boolean {
    if (path < this.lastPath) {
      this.restart();
      return false;
    }
    this.lastPath = path;
    this.bytes += size;
    this.chunk += digestLine(path, size, mtimeMs);
    if (this.chunk.length > 1 << 16) {
      this.digest.update(this.chunk);
      this.chunk = "";
    }
    return true;
  }

  /** The digest lines of files from `firstPath` to `lastPath`, in order, as UTF-8; false (and all forgotten) if they do not follow what was fed. */
  addText(text: Uint8Array, bytes: number, firstPath: string, lastPath: string): boolean {
    if (firstPath < this.lastPath) {
      this.restart();
      return false;
    }
    this.digest.update(this.chunk);
    this.chunk = "";
    this.digest.update(text);
    this.bytes += bytes;
    this.lastPath = lastPath;
    return true;
  }

  finish(): { bytes: number; sha256: string } {
    this.digest.update(this.chunk);
    return { bytes: this.bytes, sha256: this.digest.digest("hex") };
  }

  /** Out of order: the sorted listing is fed again from the start. */
  private restart(): void {
    Object.assign(this, { digest: createHash("sha256"), bytes: 0, chunk: "", lastPath: "" });
  }
}

/** Kept for callers that sort objects by path the way the listing does. */
export function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodeUnits(a.path, b.path);
}
