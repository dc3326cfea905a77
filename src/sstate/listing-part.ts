/**
 * Part of a listing parsed where it was listed: a listing thread parses the names it finds with
 * a parser of its own and sends the columns, the dictionary entries its parser added since its
 * previous part, and the digest's text. The thread that builds the listing only translates ids
 * (see ListingBuilder.addPart): nothing per file is parsed twice, and no path crosses threads.
 */
import { Buffer } from "node:buffer";
import { allocate, type Columns, grow, HASH_BYTES, INITIAL_CAPACITY, TYPED_COLUMNS, writeFile } from "./columns.ts";
import type { RemoteFile } from "./files.ts";
import { emptyFields, SstateNames } from "./name.ts";

/** Columns as they cross threads (structured clone turns a Buffer into a Uint8Array). */
export type PartColumns = Omit<Columns, "hashes" | "etags" | "taskKeys"> & { hashes: Uint8Array };

export interface ListingPart {
  count: number;
  /** Ids in the columns are the writer's own; the entries below say what its new ones are. */
  columns: PartColumns;
  /** The writer's dictionary entries since its previous part, in id order. */
  headers: string[];
  tasks: string[];
  nativelsbs: string[];
  /** The digest lines (`digestLine`) of the part's files, UTF-8; meaningful only when `ordered`. */
  digestText: Uint8Array;
  bytes: number;
  /** Whether the part's files came in path order, from `firstPath` to `lastPath`. */
  ordered: boolean;
  firstPath: string;
  lastPath: string;
}

/** The columns a part carries (task keys are the listing's to give), widest elements first. */
const PART_COLUMNS = (() => {
  const sample = allocate(1, false);
  return TYPED_COLUMNS.filter((name) => name !== "taskKeys").sort((a, b) => sample[b].BYTES_PER_ELEMENT - sample[a].BYTES_PER_ELEMENT);
})();

/** A part and the listing thread that parsed it (whose ids it uses). */
export interface ThreadPart {
  thread: number;
  part: ListingPart;
}

/** What the listing's digest reads of each file, in path order. */
export function digestLine(path: string, size: number, mtimeMs: number): string {
  return `${path}\t${size}\t${mtimeMs}\n`;
}

/** Parses files into parts, for one listing thread: its dictionaries last as long as it does. */
export class ListingPartWriter {
  readonly #names = new SstateNames({ forListingThread: true });
  readonly #fields = emptyFields();
  #columns = allocate(INITIAL_CAPACITY, false);
  #count = 0;
  /** The digest lines as UTF-8, written as they come (a string of them would live until `take`). */
  #digestText = Buffer.alloc(1 << 16);
  #digestBytes = 0;
  #bytes = 0;
  #ordered = true;
  #firstPath = "";
  #lastPath = "";
  readonly #sent = { headers: 0, tasks: 0, nativelsbs: 0 };

  add(file: RemoteFile): void {
    const i = this.#count;
    if (i === this.#columns.sizes.length) this.#columns = grow(this.#columns, i * 2);
    writeFile(this.#names, this.#fields, this.#columns, i, file);
    if (i === 0) this.#firstPath = file.path;
    else if (file.path < this.#lastPath) this.#ordered = false;
    this.#lastPath = file.path;
    const line = digestLine(file.path, file.size, file.mtimeMs);
    if (this.#digestBytes + 3 * line.length > this.#digestText.length) {
      const larger = Buffer.alloc(2 * this.#digestText.length + 3 * line.length);
      this.#digestText.copy(larger, 0, 0, this.#digestBytes);
      this.#digestText = larger;
    }
    this.#digestBytes += this.#digestText.write(line, this.#digestBytes, "utf8");
    this.#bytes += file.size;
    this.#count++;
  }

  /** The part of the files added since the previous one, and the buffers to transfer with it. */
  take(): { part: ListingPart; transfer: ArrayBuffer[] } {
    const names = this.#names;
    const count = this.#count;
    // Copied out at their size into one buffer (one transfer; views widest first, each aligned):
    // the writer's own columns stay for the next part, and no buffer is left for this thread's
    // collector, whose memory the process would keep after the thread ends.
    const digestBytes = this.#digestBytes;
    const buffer = new ArrayBuffer(PART_COLUMNS.reduce((total, name) => total + count * this.#columns[name].BYTES_PER_ELEMENT, 0) + count * HASH_BYTES + digestBytes);
    let offset = 0;
    const view = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(from: T, length: number): T => {
      // Plain typed arrays (a Buffer's own constructor is not one to call so).
      const Plain = from instanceof Float64Array ? Float64Array : from instanceof Int32Array ? Int32Array : from instanceof Uint16Array ? Uint16Array : Uint8Array;
      const to = new Plain(buffer, offset, length) as T;
      to.set(from.subarray(0, length) as never);
      offset += length * from.BYTES_PER_ELEMENT;
      return to;
    };
    const columns = Object.fromEntries(PART_COLUMNS.map((name) => [name, view(this.#columns[name], count)])) as Omit<PartColumns, "hashes" | "storedPaths">;
    const hashes = view(this.#columns.hashes, count * HASH_BYTES);
    const digestText = view(this.#digestText, digestBytes);
    const part: ListingPart = {
      count,
      columns: { ...columns, hashes, storedPaths: this.#columns.storedPaths },
      headers: names.headerTexts.slice(this.#sent.headers),
      tasks: names.tasks.slice(this.#sent.tasks),
      nativelsbs: names.nativelsbs.slice(this.#sent.nativelsbs),
      digestText,
      bytes: this.#bytes,
      ordered: this.#ordered,
      firstPath: this.#firstPath,
      lastPath: this.#lastPath,
    };
    this.#sent.headers = names.headerTexts.length;
    this.#sent.tasks = names.tasks.length;
    this.#sent.nativelsbs = names.nativelsbs.length;
    this.#columns.storedPaths = new Map();
    this.#count = 0;
    this.#digestBytes = 0;
    this.#bytes = 0;
    this.#ordered = true;
    return { part, transfer: [buffer] };
  }
}
