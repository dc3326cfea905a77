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
  #digestText = "";
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
    this.#digestText += digestLine(file.path, file.size, file.mtimeMs);
    this.#bytes += file.size;
    this.#count++;
  }

  /** The part of the files added since the previous one, and the buffers to transfer with it. */
  take(): { part: ListingPart; transfer: ArrayBuffer[] } {
    const names = this.#names;
    const count = this.#count;
    // Copied out at their size: the writer's own columns stay for the next part (no buffer is
    // left for this thread's collector, whose memory the process would keep after it ends).
    const columns = Object.fromEntries(TYPED_COLUMNS.filter((name) => name !== "taskKeys").map((name) => [name, this.#columns[name].slice(0, count)])) as Omit<PartColumns, "hashes" | "storedPaths">;
    const digestText = new Uint8Array(Buffer.byteLength(this.#digestText, "utf8"));
    Buffer.from(digestText.buffer).write(this.#digestText, "utf8");
    const part: ListingPart = {
      count,
      // A copy: Buffer#slice is a view, and the transfer would take the writer's own.
      columns: { ...columns, hashes: new Uint8Array(this.#columns.hashes.subarray(0, count * HASH_BYTES)), storedPaths: this.#columns.storedPaths },
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
    this.#digestText = "";
    this.#bytes = 0;
    this.#ordered = true;
    const transfer = [...TYPED_COLUMNS.filter((name) => name !== "taskKeys").map((name) => part.columns[name].buffer as ArrayBuffer), part.columns.hashes.buffer as ArrayBuffer, digestText.buffer];
    return { part, transfer };
  }
}
