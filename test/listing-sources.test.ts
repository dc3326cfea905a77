// Reading saved listings and S3 Inventory reports, in memory: the parsing, the checks, and the
// listing they give (the CLI end to end, on disk: listing-sources-cli.test.ts).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { inventoryKey } from "../bench/lib/inventory-report.mjs";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { csvFields, inventoryColumns, inventoryFile, type InventoryManifest, parseInventoryManifest, readInventory } from "../src/sources/inventory.ts";
import { readSavedListing, savedListingBytes } from "../src/sources/saved-listing.ts";
import { ListingSourceError } from "../src/sources/source.ts";
import type { RemoteFile } from "../src/sstate/files.ts";
import { type Listing, listingOf } from "../src/sstate/listing.ts";

const REAL_NAMES = readFileSync(new URL("./fixtures/real-sstate-names.txt", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line !== "" && !line.startsWith("#") && line.includes("sstate:"))
  .map((line) => line.replace(/^(\.\/|file:\/\/)/, ""));
/** Keys that AWS's URL-encoding must bring back exactly. */
const ODD_KEYS = ["with space/a b.tar.zst", "plus+sign/c+d.tgz", "per%cent/50%.siginfo", "unicode/é中😀.tar.zst", 'quote"comma,/x', "tab\there"];

async function* chunksOf(bytes: Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const paths = (listing: Listing) => Array.from({ length: listing.count }, (_, i) => listing.path(i));

describe("saved listing", () => {
  const files: RemoteFile[] = [
    ...[...generateCache({ files: 500, now: DEMO_NOW })],
    ...REAL_NAMES.map((path, i) => ({ path, size: i * 1000, mtimeMs: DEMO_NOW - i * 1000, etag: `"${i}"` })),
    ...ODD_KEYS.map((path) => ({ path, size: 1, mtimeMs: DEMO_NOW })),
    { path: "link", size: 4, mtimeMs: DEMO_NOW, symlink: true },
    { path: "fifo", size: 0, mtimeMs: DEMO_NOW, special: true },
  ];
  const listing = listingOf(files);
  const meta = { target: "file:///srv/sstate", listedAt: new Date(DEMO_NOW) };

  it("reads back the same listing, digest and header it was written from, in any chunking", async () => {
    const bytes = await bytesOf(savedListingBytes(listing, meta));
    for (const size of [5, 1 << 16]) {
      const { header, listing: read } = await readSavedListing(chunksOf(bytes, size), "saved.gz");
      expect(header).toEqual({
        format: "sstate-keeper listing",
        version: 1,
        target: meta.target,
        listedAt: meta.listedAt.toISOString(),
        files: listing.count,
        bytes: listing.bytes,
        sha256: listing.sha256,
      });
      expect(read.sha256).toBe(listing.sha256);
      // The files as listed (the parser's own numbering of task keys follows the order it met them).
      const listed = (from: Listing) => [...from.objects()].map(({ name, ...file }) => ({ ...file, kind: name?.kind }));
      expect(listed(read)).toEqual(listed(listing));
    }
  });

  it("lets the caller refuse the header before any record is read", async () => {
    const bytes = await bytesOf(savedListingBytes(listing, meta));
    let records = 0;
    await expect(readSavedListing(chunksOf(bytes), "saved.gz", {
      checkHeader: () => {
        throw new ListingSourceError("other target");
      },
      onCount: (n) => (records = n),
    })).rejects.toThrow("other target");
    expect(records).toBe(0);
  });

  const header = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({ format: "sstate-keeper listing", version: 1, target: "file:///c", listedAt: "2026-11-01T00:00:00.000Z", files: 1, bytes: 1, sha256: "0".repeat(64), ...overrides });
  const good = listingOf([{ path: "a", size: 1, mtimeMs: 5 }]);
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["not gzip", "plain text\n", /^saved\.gz: is not gzip/],
    ["an empty file", gzipSync(""), /^saved\.gz: an empty file, not a saved listing/],
    ["a first line that is not JSON", gzipSync("hello\n"), /^saved\.gz: not a saved listing \(its first line is not a JSON header\)/],
    ["another format", gzipSync(`${header({ format: "rclone" })}\n`), /no "format": "sstate-keeper listing"/],
    ["another version", gzipSync(`${header({ version: 2 })}\n`), /^saved\.gz: saved listing version 2 is not supported \(this version reads 1\)/],
    ["a header without its digest", gzipSync(`${header({ sha256: "x" })}\n`), /header has no valid sha256/],
    ["a record that is not an array", gzipSync(`${header()}\n{"path":"a"}\n`), /^saved\.gz:2: not a file's record \(expected \[path, size, mtimeMs, etag\?, flags\?\]\)/],
    ["a record that is not JSON", gzipSync(`${header()}\n["a",1\n`), /^saved\.gz:2: not a file's record \(not JSON\)/],
    ["a negative size", gzipSync(`${header()}\n["a",-1,5]\n`), /^saved\.gz:2: .*the size is not a whole number/],
    ["a path out of the target", gzipSync(`${header()}\n["../etc/passwd",1,5]\n`), /^saved\.gz:2: .*leaves the target/],
    ["unknown flags", gzipSync(`${header()}\n["a",1,5,null,8]\n`), /^saved\.gz:2: .*unknown flags/],
    ["an empty line", gzipSync(`${header()}\n\n["a",1,5]\n`), /^saved\.gz:2: an empty line/],
    ["fewer records than the header says", gzipSync(`${header({ files: 2, sha256: good.sha256 })}\n["a",1,5]\n`), /the records do not match the header \(files 1, the header says 2\)/],
    ["a record changed after writing", gzipSync(`${header({ sha256: good.sha256 })}\n["a",1,6]\n`), /the records do not match the header \(sha256 /],
    ["a truncated file", gzipSync(`${header({ sha256: good.sha256 })}\n["a",1,5]\n`).subarray(0, 40), /the gzip stream ends early \(truncated file\?\)/],
  ];
  it.each(cases)("refuses %s with one line naming the file", async (_name, content, message) => {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    const error = await readSavedListing(chunksOf(bytes, 16), "saved.gz").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ListingSourceError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it("reads the good case of those records", async () => {
    const { listing: read } = await readSavedListing(chunksOf(gzipSync(`${header({ sha256: good.sha256 })}\n["a",1,5]\n`)), "saved.gz");
    expect(read.sha256).toBe(good.sha256);
  });
});

describe("S3 Inventory CSV", () => {
  it.each([
    ['"b","k","1"', ["b", "k", "1"]],
    ['"b","with ""quote"", and comma","1"', ["b", 'with "quote", and comma', "1"]],
    ["b,k,1", ["b", "k", "1"]],
    ['"b",,"1"', ["b", "", "1"]],
    ['"only"', ["only"]],
  ])("reads %s", (line, fields) => {
    expect(csvFields(line)).toEqual(fields);
  });

  it.each(['"open', '"a"x,"b"', 'a"b,c'])("refuses %s", (line) => {
    expect(csvFields(line)).toBeUndefined();
  });

  it("takes the columns from the fileSchema in any order, ignoring the others", () => {
    expect(inventoryColumns("Bucket, Key, Size, LastModifiedDate, ETag, StorageClass", "m")).toEqual({ key: 1, size: 2, lastModified: 3, etag: 4 });
    expect(inventoryColumns("Bucket,Key,VersionId,IsLatest,IsDeleteMarker,Size,LastModifiedDate", "m")).toEqual({ key: 1, size: 5, lastModified: 6, isLatest: 3, isDeleteMarker: 4 });
    expect(inventoryColumns("LastModifiedDate,StorageClass,Size,Key", "m")).toEqual({ key: 3, size: 2, lastModified: 0 });
    expect(() => inventoryColumns("Bucket, Size, LastModifiedDate", "m")).toThrow(/^m: the fileSchema 'Bucket, Size, LastModifiedDate' has no Key;/);
    expect(() => inventoryColumns("Bucket, Key", "m")).toThrow(/has no Size, LastModifiedDate;/);
  });

  const columns = inventoryColumns("Bucket, Key, Size, LastModifiedDate, ETag, IsLatest, IsDeleteMarker", "m");
  const row = (
    key: string,
    extra: Partial<Record<"size" | "date" | "etag" | "latest" | "marker", string>> = {},
  ) => ["src", key, extra.size ?? "42", extra.date ?? "2026-10-01T10:20:30.456Z", extra.etag ?? "abc-2", extra.latest ?? "true", extra.marker ?? "false"];

  it("decodes every key as AWS encodes it (a space as '+', '+' as %2B) and keeps the target's prefix only", () => {
    for (const key of [...REAL_NAMES, ...ODD_KEYS]) {
      expect(inventoryFile(row(inventoryKey(`sstate/${key}`)), columns, "sstate/", "d:1")?.path).toBe(key);
    }
    expect(inventoryFile(row("sstate/a+b%2Bc"), columns, "sstate/", "d:1")?.path).toBe("a b+c");
    expect(inventoryFile(row("other/a"), columns, "sstate/", "d:1")).toBeUndefined();
    expect(inventoryFile(row("sstate/folder/"), columns, "sstate/", "d:1")).toBeUndefined();
  });

  it("lists the latest versions only, in whole seconds with the ETag quoted as S3 answers it", () => {
    expect(inventoryFile(row("sstate/a"), columns, "sstate/", "d:1")).toEqual({ path: "a", size: 42, mtimeMs: Date.parse("2026-10-01T10:20:30Z"), etag: '"abc-2"' });
    expect(inventoryFile(row("sstate/a", { latest: "false" }), columns, "sstate/", "d:1")).toBeUndefined();
    expect(inventoryFile(row("sstate/a", { marker: "true", size: "" }), columns, "sstate/", "d:1")).toBeUndefined();
  });

  it.each([
    ["a short row", ["src", "sstate/a"], /^d:7: not an inventory record \(2 fields where the fileSchema names more\)$/],
    ["a bad size", row("sstate/a", { size: "4.5" }), /the size '4.5' is not a whole number of bytes/],
    ["a bad date", row("sstate/a", { date: "yesterday" }), /the LastModifiedDate 'yesterday' is not a date/],
    ["a key that is not URL-encoded UTF-8", row("sstate/%E9"), /the key is not URL-encoded UTF-8/],
    ["an empty key", row(""), /an empty key/],
  ])("refuses %s", (_name, fields, message) => {
    expect(() => inventoryFile(fields, columns, "sstate/", "d:7")).toThrow(message);
  });
});

describe("S3 Inventory report", () => {
  const objects = [
    ...[...generateCache({ files: 2000, now: DEMO_NOW })].map((file) => ({ ...file, key: `sstate/${file.path}` })),
    ...[...REAL_NAMES, ...ODD_KEYS].map((path, i) => ({ path, key: `sstate/${path}`, size: i, mtimeMs: DEMO_NOW - i * 1000 })),
    { path: "", key: "elsewhere/not-ours.tar.zst", size: 1, mtimeMs: DEMO_NOW },
  ];
  const schema = "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass";
  const csv = (part: typeof objects) =>
    part.map((o) => `"src","${inventoryKey(o.key)}","${o.size}","${new Date(o.mtimeMs).toISOString()}","${createHash("md5").update(o.key).digest("hex")}","STANDARD"\n`).join("");
  const data = new Map([["src/inv/data/a.csv.gz", gzipSync(csv(objects.slice(0, 900)))], ["src/inv/data/b.csv.gz", gzipSync(csv(objects.slice(900)))]]);
  const manifestOf = (overrides: Record<string, unknown> = {}) => {
    const manifest = {
      sourceBucket: "src",
      destinationBucket: "arn:aws:s3:::inv",
      version: "2016-11-30",
      creationTimestamp: String(DEMO_NOW - 3600_000),
      fileFormat: "CSV",
      fileSchema: schema,
      files: [...data].map(([key, bytes]) => ({ key, size: bytes.length, MD5checksum: createHash("md5").update(bytes).digest("hex") })),
      ...overrides,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    return { bytes, checksum: `${createHash("md5").update(bytes).digest("hex")}\n` };
  };
  const store = (files: Map<string, Uint8Array>) => ({
    exists: async (key: string) => files.has(key),
    shown: (key: string) => `inv/${key}`,
    read: (key: string) => chunksOf(files.get(key)!, 1000),
  });
  const target = { bucket: "src", prefix: "sstate", url: "s3://src/sstate" };
  const parsed = (overrides?: Record<string, unknown>): InventoryManifest => {
    const { bytes, checksum } = manifestOf(overrides);
    return parseInventoryManifest(bytes, checksum, "manifest.json");
  };

  it("gives the listing of the objects under the target's prefix, as the S3 listing would", async () => {
    const listing = await readInventory(parsed(), store(data), target, { shown: "manifest.json" });
    const expected = listingOf(objects.filter((o) => o.key.startsWith("sstate/")).map((o) => ({ path: o.path, size: o.size, mtimeMs: Math.floor(o.mtimeMs / 1000) * 1000 })));
    expect(paths(listing)).toEqual(paths(expected));
    expect(listing.sha256).toBe(expected.sha256);
    expect(listing.etag(0)).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it("merges data files that each list their keys in order (their ranges overlapping) into the same listing", async () => {
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const sortedData = new Map([
      ["src/inv/data/a.csv.gz", gzipSync(csv(objects.filter((_, i) => i % 2 === 0).sort(byKey)))],
      ["src/inv/data/b.csv.gz", gzipSync(csv(objects.filter((_, i) => i % 2 === 1).sort(byKey)))],
    ]);
    const manifest = {
      ...parsed(),
      files: [...sortedData].map(([key, bytes]) => ({ key, size: bytes.length, md5: createHash("md5").update(bytes).digest("hex") })),
    };
    const merged = await readInventory(manifest, store(sortedData), target, { shown: "manifest.json" });
    const unsorted = await readInventory(parsed(), store(data), target, { shown: "manifest.json" });
    expect(paths(merged)).toEqual(paths(unsorted));
    expect(merged.sha256).toBe(unsorted.sha256);
    expect(Array.from({ length: merged.count }, (_, i) => merged.etag(i))).toEqual(Array.from({ length: unsorted.count }, (_, i) => unsorted.etag(i)));
  });

  it("reads the manifest's fields", () => {
    expect(parsed()).toMatchObject({ sourceBucket: "src", destinationBucket: "arn:aws:s3:::inv", createdAt: DEMO_NOW - 3600_000, columns: { key: 1, size: 2, lastModified: 3, etag: 4 } });
  });

  it.each([
    ["not JSON", () => parseInventoryManifest(new TextEncoder().encode("{"), `${createHash("md5").update("{").digest("hex")}`, "m.json"), /^m\.json: not an S3 Inventory manifest \(not JSON: /],
    ["missing fields", () => parsed({ fileSchema: undefined, files: undefined }), /^manifest\.json: not an S3 Inventory manifest: no fileSchema, files$/],
    ["Parquet", () => parsed({ fileFormat: "Parquet" }), /a Parquet inventory report; only CSV reports are read: configure the inventory with output format CSV/],
    ["ORC", () => parsed({ fileFormat: "ORC" }), /a ORC inventory report; only CSV/],
    ["an unknown fileFormat", () => parsed({ fileFormat: "XML" }), /unknown fileFormat 'XML'/],
    ["a fileSchema without Key", () => parsed({ fileSchema: "Bucket, Size, LastModifiedDate" }), /has no Key/],
    ["a bad creationTimestamp", () => parsed({ creationTimestamp: "2026-11-01" }), /creationTimestamp '2026-11-01' is not milliseconds/],
    ["a bad files entry", () => parsed({ files: [{ key: "a", size: 1 }] }), /files\[0\] is not a data file/],
    ["no files", () => parsed({ files: [] }), /files is not a list of data files/],
    ["a bad manifest checksum", () => parseInventoryManifest(manifestOf().bytes, "0".repeat(32), "manifest.json"), /^manifest\.json: its MD5 is [0-9a-f]{32} but manifest\.checksum says 0{32}: /],
  ])("refuses a manifest: %s", (_name, read, message) => {
    expect(read).toThrow(ListingSourceError);
    expect(read).toThrow(message);
  });

  it.each([
    [
      "another bucket",
      () => readInventory(parsed(), store(data), { ...target, bucket: "other", url: "s3://other/sstate" }, { shown: "m" }),
      /^m: an inventory of bucket 'src', not of the target's bucket 'other' \(s3:\/\/other\/sstate\)$/,
    ],
    ["a missing data file", () => readInventory(parsed(), store(new Map([...data].slice(1))), target, { shown: "m" }), /^inv\/src\/inv\/data\/a\.csv\.gz: a data file the manifest names is missing/],
    [
      "a data file whose MD5 differs",
      () => readInventory(parsed(), store(new Map([...data].map(([key, bytes], i) => [key, i === 1 ? gzipSync(csv(objects.slice(901))) : bytes]))), target, { shown: "m" }),
      /^inv\/src\/inv\/data\/b\.csv\.gz: (\d+ bytes where the manifest says \d+|MD5 [0-9a-f]+ where the manifest says [0-9a-f]+): the data file was changed or damaged/,
    ],
    [
      "a truncated data file",
      () => readInventory(parsed(), store(new Map([...data].map(([key, bytes]) => [key, bytes.subarray(0, 500)]))), target, { shown: "m" }),
      // Both are truncated: the data files are read side by side, so either may be found first.
      /^inv\/src\/inv\/data\/[ab]\.csv\.gz: the gzip stream ends early/,
    ],
    [
      "a line that is not CSV",
      () => {
        const bad = new Map([["src/inv/data/a.csv.gz", gzipSync('"src","sstate/a","1","2026-10-01T00:00:00Z"\n"src","open\n')]]);
        const manifest = { ...parsed(), files: [{ key: "src/inv/data/a.csv.gz", size: bad.get("src/inv/data/a.csv.gz")!.length, md5: "" }] };
        return readInventory(manifest, store(bad), target, { shown: "m" });
      },
      /^inv\/src\/inv\/data\/a\.csv\.gz:2: not an inventory record \(not CSV\)$/,
    ],
  ])("refuses %s", async (_name, read, message) => {
    const error = await read().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ListingSourceError);
    expect((error as Error).message).toMatch(message);
  });
});
