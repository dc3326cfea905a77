/**
 * S3 Inventory reports as AWS writes them: a manifest.json naming the gzipped CSV data files
 * (with their MD5), its manifest.checksum (the MD5 of manifest.json), and data files of one
 * object per line, every field quoted, no header row, in the columns the manifest's `fileSchema`
 * names, keys URL-encoded (a space as '+'). Parquet and ORC reports are refused.
 */
import { createHash } from "node:crypto";
import { decodeListedKey } from "../backends/s3-keys.ts";
import { excerpt } from "../policy/diagnostics.ts";
import type { RemoteFile } from "../sstate/files.ts";
import { type Listing, ListingBuilder } from "../sstate/listing.ts";
import { gunzippedLines } from "./gzip-lines.ts";
import { ListingSourceError, type SourceFiles } from "./source.ts";

export interface InventoryDataFile {
  /** Relative to the destination bucket. */
  key: string;
  size: number;
  md5: string;
}

export interface InventoryManifest {
  sourceBucket: string;
  destinationBucket: string;
  /** Epoch ms: when the inventory was taken. */
  createdAt: number;
  columns: InventoryColumns;
  files: InventoryDataFile[];
}

/** Where each field a listing needs is in a row (indexes into the fileSchema). */
export interface InventoryColumns {
  key: number;
  size: number;
  lastModified: number;
  etag?: number;
  isLatest?: number;
  isDeleteMarker?: number;
}

/** The formats AWS writes besides CSV: no decoder for them is small and kept well enough to depend on. */
const COLUMNAR_FORMATS = new Set(["PARQUET", "ORC"]);
const REQUIRED_COLUMNS = [["Key", "key"], ["Size", "size"], ["LastModifiedDate", "lastModified"]] as const;
const OPTIONAL_COLUMNS = [["ETag", "etag"], ["IsLatest", "isLatest"], ["IsDeleteMarker", "isDeleteMarker"]] as const;
const BATCH = 4096;

/**
 * Checks manifest.json against its manifest.checksum, then its fields; every problem is one
 * ListingSourceError naming `shown`.
 */
export function parseInventoryManifest(bytes: Uint8Array, checksum: string, shown: string): InventoryManifest {
  const expected = checksum.trim().toLowerCase();
  const actual = createHash("md5").update(bytes).digest("hex");
  if (expected !== actual) {
    throw new ListingSourceError(`${shown}: its MD5 is ${actual} but manifest.checksum says ${excerpt(expected)}: the manifest was changed or damaged; copy the report again`);
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ListingSourceError(`${shown}: not an S3 Inventory manifest (not JSON: ${(error as Error).message})`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new ListingSourceError(`${shown}: not an S3 Inventory manifest (not a JSON object)`);
  const missing = ["sourceBucket", "destinationBucket", "creationTimestamp", "fileFormat", "fileSchema", "files"].filter((field) => data[field] === undefined);
  if (missing.length > 0) throw new ListingSourceError(`${shown}: not an S3 Inventory manifest: no ${missing.join(", ")}`);
  const text = (field: string) => {
    if (typeof data[field] !== "string" || data[field] === "") throw new ListingSourceError(`${shown}: the manifest's ${field} is not a non-empty string`);
    return data[field] as string;
  };
  const format = text("fileFormat");
  if (COLUMNAR_FORMATS.has(format.toUpperCase())) {
    throw new ListingSourceError(`${shown}: a ${format} inventory report; only CSV reports are read: configure the inventory with output format CSV`);
  }
  if (format !== "CSV") throw new ListingSourceError(`${shown}: unknown fileFormat '${excerpt(format)}'; S3 Inventory reports read here are CSV`);
  const created = text("creationTimestamp");
  if (!/^\d{1,16}$/.test(created)) throw new ListingSourceError(`${shown}: the manifest's creationTimestamp '${excerpt(created)}' is not milliseconds since the epoch`);
  return {
    sourceBucket: text("sourceBucket"),
    destinationBucket: text("destinationBucket"),
    createdAt: Number(created),
    columns: inventoryColumns(text("fileSchema"), shown),
    files: dataFilesOf(data.files, shown),
  };
}

/** The columns a listing reads, from a fileSchema such as "Bucket, Key, Size, LastModifiedDate, ETag" (any order; others ignored). */
export function inventoryColumns(fileSchema: string, shown: string): InventoryColumns {
  const names = fileSchema.split(",").map((name) => name.trim());
  const at = (name: string) => {
    const index = names.indexOf(name);
    return index < 0 ? undefined : index;
  };
  const absent = REQUIRED_COLUMNS.filter(([name]) => at(name) === undefined).map(([name]) => name);
  if (absent.length > 0) {
    throw new ListingSourceError(
      `${shown}: the fileSchema '${excerpt(fileSchema)}' has no ${absent.join(", ")}; a listing needs Key, Size and LastModifiedDate (add Size and Last modified to the inventory's fields)`,
    );
  }
  const columns: InventoryColumns = { key: at("Key")!, size: at("Size")!, lastModified: at("LastModifiedDate")! };
  for (const [name, field] of OPTIONAL_COLUMNS) {
    const index = at(name);
    if (index !== undefined) columns[field] = index;
  }
  return columns;
}

function dataFilesOf(files: unknown, shown: string): InventoryDataFile[] {
  if (!Array.isArray(files) || files.length === 0) throw new ListingSourceError(`${shown}: the manifest's files is not a list of data files`);
  return files.map((file: Record<string, unknown> | null, index) => {
    const valid = file !== null && typeof file === "object" && typeof file.key === "string" && file.key !== "" && Number.isSafeInteger(file.size) && typeof file.MD5checksum === "string" &&
      /^[0-9a-fA-F]{32}$/.test(file.MD5checksum);
    if (!valid) throw new ListingSourceError(`${shown}: files[${index}] is not a data file ({"key", "size", "MD5checksum"})`);
    return { key: file.key as string, size: file.size as number, md5: (file.MD5checksum as string).toLowerCase() };
  });
}

/**
 * The fields of one CSV line. AWS quotes every field and URL-encodes keys, so a quote or comma
 * inside a field does not occur in its reports; it is still read as RFC 4180 says (a field in
 * quotes may hold commas, and `""` for a quote). Undefined for a line that is not CSV.
 */
export function csvFields(line: string): string[] | undefined {
  // AWS's own shape, the common case, without a character loop: "a","b","c"
  if (line.length >= 2 && line.charCodeAt(0) === 34 && line.charCodeAt(line.length - 1) === 34) {
    const fields = line.slice(1, -1).split('","');
    if (!fields.some((field) => field.includes('"'))) return fields;
  }
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = "";
      i++;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) return undefined;
        field += line.slice(i, close);
        i = close + 1;
        if (line[i] !== '"') break;
        field += '"';
        i++;
      }
      fields.push(field);
      if (i === line.length) return fields;
      if (line[i] !== ",") return undefined;
      i++;
    } else {
      const comma = line.indexOf(",", i);
      const field = line.slice(i, comma < 0 ? line.length : comma);
      if (field.includes('"')) return undefined;
      fields.push(field);
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

/**
 * The listed file of one data-file row: undefined when the row is not part of the listing (a
 * delete marker, a version that is not the latest, a key outside the target's prefix, a
 * "folder" marker ending in '/', as the S3 listing skips them). Throws for a row that is not
 * an inventory record.
 */
export function inventoryFile(fields: readonly string[], columns: InventoryColumns, keyPrefix: string, where: string): RemoteFile | undefined {
  const bad = (what: string) => new ListingSourceError(`${where}: not an inventory record (${what})`);
  const field = (index: number | undefined) => (index === undefined ? undefined : fields[index]);
  if (fields.length <= Math.max(columns.key, columns.size, columns.lastModified)) throw bad(`${fields.length} fields where the fileSchema names more`);
  if (field(columns.isDeleteMarker) === "true" || field(columns.isLatest) === "false") return undefined;
  let key: string;
  try {
    key = decodeListedKey(fields[columns.key]!);
  } catch {
    throw bad("the key is not URL-encoded UTF-8");
  }
  if (key === "") throw bad("an empty key");
  if (!key.startsWith(keyPrefix) || key.endsWith("/")) return undefined;
  const size = fields[columns.size]!;
  if (!/^\d{1,16}$/.test(size)) throw bad(`the size '${excerpt(size)}' is not a whole number of bytes`);
  const modified = Date.parse(fields[columns.lastModified]!);
  if (Number.isNaN(modified)) throw bad(`the LastModifiedDate '${excerpt(fields[columns.lastModified]!)}' is not a date`);
  // Whole seconds, as the S3 backend lists and stats objects: apply compares against those.
  const file: RemoteFile = { path: key.slice(keyPrefix.length), size: Number(size), mtimeMs: Math.floor(modified / 1000) * 1000 };
  const etag = field(columns.etag);
  // The inventory gives the ETag bare; S3 answers (and plans record) it quoted.
  if (etag !== undefined && etag !== "") file.etag = `"${etag}"`;
  return file;
}

/**
 * The listing an inventory gives of `s3://bucket/prefix`: every data file is checked to exist
 * before any is read, each one's size and MD5 against the manifest once read. The data files are
 * read side by side and merged in key order: each one lists its keys in order, so the listing
 * arrives in path order and needs no sort and no path kept (a data file out of order is still
 * read right: the listing then sorts in memory).
 */
export async function readInventory(
  manifest: InventoryManifest,
  files: SourceFiles & { exists(path: string): Promise<boolean> },
  target: { bucket: string; prefix: string; url: string },
  options: { shown: string; onCount?: (files: number) => void },
): Promise<Listing> {
  if (manifest.sourceBucket !== target.bucket) {
    throw new ListingSourceError(`${options.shown}: an inventory of bucket '${excerpt(manifest.sourceBucket)}', not of the target's bucket '${target.bucket}' (${target.url})`);
  }
  for (const file of manifest.files) {
    if (!(await files.exists(file.key))) throw new ListingSourceError(`${files.shown(file.key)}: a data file the manifest names is missing; copy the whole report (${options.shown})`);
  }
  const keyPrefix = target.prefix === "" ? "" : `${target.prefix}/`;
  const builder = new ListingBuilder();
  for await (const batch of mergedByPath(manifest.files.map((file) => dataFileRecords(file, manifest.columns, files, keyPrefix)))) {
    builder.add(batch);
    options.onCount?.(builder.count);
  }
  return builder.finish();
}

/** The files one data file lists under the target, in its order and in batches; its size and MD5 are checked at its end. */
async function* dataFileRecords(file: InventoryManifest["files"][number], columns: InventoryColumns, files: SourceFiles, keyPrefix: string): AsyncGenerator<RemoteFile[]> {
  const shown = files.shown(file.key);
  const md5 = createHash("md5");
  let size = 0;
  let line = 0;
  for await (
    const lines of gunzippedLines(files.read(file.key), shown, (chunk) => {
      md5.update(chunk);
      size += chunk.length;
    })
  ) {
    const batch: RemoteFile[] = [];
    for (const text of lines) {
      line++;
      if (text === "") continue;
      const fields = csvFields(text);
      if (fields === undefined) throw new ListingSourceError(`${shown}:${line}: not an inventory record (not CSV)`);
      const listed = inventoryFile(fields, columns, keyPrefix, `${shown}:${line}`);
      if (listed !== undefined) batch.push(listed);
    }
    if (batch.length > 0) yield batch;
  }
  const digest = md5.digest("hex");
  if (size !== file.size || digest !== file.md5) {
    throw new ListingSourceError(
      `${shown}: ${
        size !== file.size ? `${size} bytes where the manifest says ${file.size}` : `MD5 ${digest} where the manifest says ${file.md5}`
      }: the data file was changed or damaged; copy the report again`,
    );
  }
}

/**
 * The files of several streams of batches, each in path order, as one stream in path order (the
 * smallest head first; a report has tens of data files, so a scan beats a heap).
 */
async function* mergedByPath(streams: readonly AsyncIterator<RemoteFile[]>[]): AsyncGenerator<RemoteFile[]> {
  const batches: RemoteFile[][] = [];
  const at: number[] = [];
  const refill = async (k: number) => {
    let next = await streams[k]!.next();
    while (!next.done && next.value.length === 0) next = await streams[k]!.next();
    batches[k] = next.done ? [] : next.value;
    at[k] = 0;
  };
  try {
    for (let k = 0; k < streams.length; k++) await refill(k);
    const merged: RemoteFile[] = [];
    for (;;) {
      let smallest = -1;
      for (let k = 0; k < batches.length; k++) {
        if (at[k]! < batches[k]!.length && (smallest < 0 || batches[k]![at[k]!]!.path < batches[smallest]![at[smallest]!]!.path)) smallest = k;
      }
      if (smallest < 0) break;
      merged.push(batches[smallest]![at[smallest]!++]!);
      if (at[smallest] === batches[smallest]!.length) {
        if (merged.length >= BATCH) yield merged.splice(0);
        await refill(smallest);
      }
    }
    if (merged.length > 0) yield merged;
  } finally {
    // One stream failed (or the reader stopped): the others' files are closed too.
    await Promise.all(streams.map((stream) => stream.return?.(undefined)));
  }
}
