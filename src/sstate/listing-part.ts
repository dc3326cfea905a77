/**
 * Part of a listing parsed where it was listed: a listing thread parses the names it finds with
 * a parser of its own and sends the columns, the dictionary entries its parser added since its
 * previous part, and the digest's text. The thread that builds the listing only translates ids
 * (see ListingBuilder.addPart): nothing per file is parsed twice, and no path crosses threads.
 */
import { Buffer } from "node:buffer";
import { allocate, type Columns, grow, HASH_BYTES, INITIAL_CAPACITY, trim, TYPED_COLUMNS, writeFile } from "./columns.ts";
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
    const trimmed = trim(this.#columns, this.#count);
    const { etags: _etags, taskKeys: _taskKeys, ...columns } = trimmed;
    const part: ListingPart = {
      count: this.#count,
      columns: { ...columns, hashes: new Uint8Array(trimmed.hashes.subarray(0, this.#count * HASH_BYTES)) },
      headers: names.headerTexts.slice(this.#sent.headers),
      tasks: names.tasks.slice(this.#sent.tasks),
      nativelsbs: names.nativelsbs.slice(this.#sent.nativelsbs),
      digestText: new Uint8Array(Buffer.from(this.#digestText, "utf8")),
      bytes: this.#bytes,
      ordered: this.#ordered,
      firstPath: this.#firstPath,
      lastPath: this.#lastPath,
    };
    this.#sent.headers = names.headerTexts.length;
    this.#sent.tasks = names.tasks.length;
    this.#sent.nativelsbs = names.nativelsbs.length;
    this.#columns = allocate(INITIAL_CAPACITY, false);
    this.#count = 0;
    this.#digestText = "";
    this.#bytes = 0;
    this.#ordered = true;
    const transfer = [
      ...TYPED_COLUMNS.filter((name) => name !== "taskKeys").map((name) => part.columns[name].buffer as ArrayBuffer),
      part.columns.hashes.buffer as ArrayBuffer,
      part.digestText.buffer as ArrayBuffer,
    ];
    return { part, transfer };
  }
}
