/**
 * The saved listing file (`sstate-keeper list TARGET --out FILE`): gzipped JSON lines. The first
 * line is the header, naming the format and its version, the target, when it was listed and the
 * listing's totals and digest (the sha256 plans record as `listing.sha256`); then one line per
 * file: `[path, size, mtimeMs]`, with `etag` (or null) and the flags (1 symlink, 2 special)
 * after them when there are any. JSON keeps every path exact whatever it holds, and gzip makes
 * the repeated name parts cost little (about 15 bytes a file).
 */
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { FLAG, type Listing, ListingBuilder } from "../sstate/listing.ts";
import type { RemoteFile } from "../sstate/files.ts";
import { gunzippedLines } from "./gzip-lines.ts";
import { ListingSourceError } from "./source.ts";

export const SAVED_LISTING_FORMAT = "sstate-keeper listing";
/** Bumped on any incompatible change; other versions are refused, never guessed at. */
export const SAVED_LISTING_VERSION = 1;

export interface SavedListingHeader {
  format: typeof SAVED_LISTING_FORMAT;
  version: number;
  /** The target as plans record it (no credentials). */
  target: string;
  /** ISO 8601: when the listing was made. */
  listedAt: string;
  files: number;
  bytes: number;
  sha256: string;
}

const BATCH = 4096;
/** No backend lists such a path: a record holding one was not written by `list`. */
const ESCAPING_PATH = /^\/|(^|\/)\.\.(\/|$)/;

/** The saved listing's bytes, gzipped as they are made (a million-file listing is never one string). */
export function savedListingBytes(listing: Listing, meta: { target: string; listedAt: Date }): AsyncIterable<Uint8Array> {
  const header: SavedListingHeader = {
    format: SAVED_LISTING_FORMAT,
    version: SAVED_LISTING_VERSION,
    target: meta.target,
    listedAt: meta.listedAt.toISOString(),
    files: listing.count,
    bytes: listing.bytes,
    sha256: listing.sha256,
  };
  return Readable.from(recordLines(listing, header)).pipe(createGzip());
}

function* recordLines(listing: Listing, header: SavedListingHeader): Generator<string> {
  yield `${JSON.stringify(header)}\n`;
  let chunk = "";
  for (let i = 0; i < listing.count; i++) {
    const etag = listing.etag(i);
    // The listing's own bits (a path kept as listed) are not the file's.
    const flags = listing.flags[i]! & (FLAG.symlink | FLAG.special);
    const record: unknown[] = [listing.path(i), listing.sizes[i], listing.mtimes[i]];
    if (etag !== undefined || flags !== 0) record.push(etag ?? null);
    if (flags !== 0) record.push(flags);
    chunk += `${JSON.stringify(record)}\n`;
    if (chunk.length > 1 << 16) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk !== "") yield chunk;
}

/**
 * Reads a saved listing: the header first (`checkHeader` may refuse it, e.g. for another target,
 * before the records are read), then every record, then the totals and digest against the
 * header's. Every problem is a ListingSourceError naming the file (and the line).
 */
export async function readSavedListing(
  bytes: AsyncIterable<Uint8Array>,
  shown: string,
  options: { checkHeader?: (header: SavedListingHeader) => void; onCount?: (files: number) => void } = {},
): Promise<{ header: SavedListingHeader; listing: Listing }> {
  const builder = new ListingBuilder();
  let header: SavedListingHeader | undefined;
  let line = 0;
  for await (const lines of gunzippedLines(bytes, shown)) {
    const batch: RemoteFile[] = [];
    for (const text of lines) {
      line++;
      if (header === undefined) {
        header = headerOf(text, shown);
        options.checkHeader?.(header);
        continue;
      }
      if (text === "") throw new ListingSourceError(`${shown}:${line}: an empty line where a file's record should be; the file is damaged — list the target again`);
      batch.push(recordOf(text, `${shown}:${line}`));
      if (batch.length >= BATCH) builder.add(batch.splice(0));
    }
    builder.add(batch);
    options.onCount?.(builder.count);
  }
  if (header === undefined) throw new ListingSourceError(`${shown}: an empty file, not a saved listing (write one with 'sstate-keeper list TARGET --out FILE')`);
  const listing = builder.finish();
  const found = { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 };
  for (const field of ["files", "bytes", "sha256"] as const) {
    if (found[field] !== header[field]) {
      throw new ListingSourceError(
        `${shown}: the records do not match the header (${field} ${found[field]}, the header says ${header[field]}): the file was changed or damaged after it was written — list the target again`,
      );
    }
  }
  return { header, listing };
}

function headerOf(text: string, shown: string): SavedListingHeader {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ListingSourceError(`${shown}: not a saved listing (its first line is not a JSON header); write one with 'sstate-keeper list TARGET --out FILE'`);
  }
  if (data === null || typeof data !== "object" || data.format !== SAVED_LISTING_FORMAT) {
    throw new ListingSourceError(`${shown}: not a saved listing (no "format": "${SAVED_LISTING_FORMAT}" in its header); write one with 'sstate-keeper list TARGET --out FILE'`);
  }
  if (data.version !== SAVED_LISTING_VERSION) {
    throw new ListingSourceError(
      `${shown}: saved listing version ${JSON.stringify(data.version)} is not supported (this version reads ${SAVED_LISTING_VERSION}); list the target again with this version`,
    );
  }
  const problems = [
    typeof data.target === "string" && data.target !== "" ? undefined : "target",
    typeof data.listedAt === "string" && !Number.isNaN(Date.parse(data.listedAt)) ? undefined : "listedAt",
    Number.isInteger(data.files) && (data.files as number) >= 0 ? undefined : "files",
    typeof data.bytes === "number" && data.bytes >= 0 ? undefined : "bytes",
    typeof data.sha256 === "string" && /^[0-9a-f]{64}$/.test(data.sha256) ? undefined : "sha256",
  ].filter((field) => field !== undefined);
  if (problems.length > 0) throw new ListingSourceError(`${shown}: the saved listing's header has no valid ${problems.join(", ")}; the file is damaged — list the target again`);
  return data as unknown as SavedListingHeader;
}

function recordOf(text: string, where: string): RemoteFile {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new ListingSourceError(`${where}: not a file's record (not JSON); the file is damaged — list the target again`);
  }
  const bad = (what: string) => new ListingSourceError(`${where}: not a file's record (${what}); the file is damaged — list the target again`);
  if (!Array.isArray(record) || record.length < 3 || record.length > 5) throw bad("expected [path, size, mtimeMs, etag?, flags?]");
  const [path, size, mtimeMs, etag, flags] = record as unknown[];
  if (typeof path !== "string" || path === "") throw bad("no path");
  if (ESCAPING_PATH.test(path)) throw bad("a path that leaves the target (leading '/' or a '..' segment)");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad("the size is not a whole number of bytes");
  if (typeof mtimeMs !== "number" || !Number.isSafeInteger(mtimeMs)) throw bad("the mtime is not whole milliseconds");
  if (etag !== undefined && etag !== null && typeof etag !== "string") throw bad("the etag is not a string");
  if (flags !== undefined && (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0 || flags > (FLAG.symlink | FLAG.special))) throw bad("unknown flags");
  const file: RemoteFile = { path, size, mtimeMs };
  if (typeof etag === "string") file.etag = etag;
  if (typeof flags === "number" && flags & FLAG.symlink) file.symlink = true;
  if (typeof flags === "number" && flags & FLAG.special) file.special = true;
  return file;
}
