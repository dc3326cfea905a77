import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RemoteFile } from "../src/backends/backend.ts";
import { generateCache } from "../src/demo/generate.ts";
import { ListingPartWriter, type ThreadPart } from "../src/sstate/listing-part.ts";
import { collectListing, collectListingParts, type Listing } from "../src/sstate/listing.ts";
import { parseSstatePath } from "../src/sstate/name.ts";

async function* batchesOf(files: RemoteFile[], size: number): AsyncIterable<RemoteFile[]> {
  for (let start = 0; start < files.length; start += size) yield files.slice(start, start + size).map((file) => ({ ...file }));
}

describe("collectListing", () => {
  const files = [...generateCache({ files: 3000, now: Date.parse("2026-11-01T12:00:00Z") })];
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : 1));

  it("gives the same sorted listing and fingerprint whether files arrive in path order or not", async () => {
    const fromOrdered = await collectListing(batchesOf(sorted, 500));
    const fromShuffled = await collectListing(batchesOf([...sorted.slice(1500), ...sorted.slice(0, 1500)], 500));
    const fromGenerator = await collectListing(batchesOf(files, 700));
    const paths = (listing: Listing) => Array.from({ length: listing.count }, (_, i) => listing.path(i));
    expect(paths(fromOrdered)).toEqual(sorted.map((f) => f.path));
    for (const other of [fromShuffled, fromGenerator]) {
      expect(paths(other)).toEqual(sorted.map((f) => f.path));
      expect(other.sha256).toBe(fromOrdered.sha256);
      expect(other.bytes).toBe(fromOrdered.bytes);
    }
    expect(fromOrdered.bytes).toBe(files.reduce((sum, f) => sum + f.size, 0));
  });

  it("parses every name the same way in either order (an archive's companions reuse its parse only in path order)", async () => {
    const ordered = await collectListing(batchesOf(sorted, 500));
    const shuffled = await collectListing(batchesOf([...sorted].reverse(), 500));
    const names = (listing: Listing) => [...listing.objects()].map((f) => (f.name ? { ...f.name, taskKey: undefined } : undefined));
    expect(names(shuffled)).toEqual(names(ordered));
  });
});

describe("the columnar listing gives back what was listed", () => {
  const NOW = Date.parse("2026-11-01T12:00:00Z");
  const realNames = readFileSync(new URL("./fixtures/real-sstate-names.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.replace(/^(\.\/|file:\/\/)/, ""));
  const HASH = "0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db";
  const base = `sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:${HASH}_populate_sysroot.tar.zst`;
  /** Paths the columns must write exactly, or keep as they were: every layout, odd headers, hashes and leftovers. */
  const oddPaths = [
    `0c/9b/${base}`,
    `0c/${base}`,
    base,
    `universal/0c/9b/${base}.siginfo`,
    `deep/er/0c/9b/${base}`,
    `not-hash/${base}`,
    `0c/9b/${base}.siginfo.Ab12Cd34`,
    `0c/9b/${base}.keeper-0123abcd`,
    `0c/9b/sstate:weird:x86_64-linux:1:2:3:r0:x86_64:14:${HASH}_fetch.tgz`,
    `IN/VA/sstate:bash:core2-64-poky-linux:5.2:r0:core2-64:14:INVALID_package.tar.zst`,
    `cd/8d/sstate:gcc:core2-64-poky-linux:13.2.0:r0:core2-64:10:cd8d1a33b832662b624f5e4bd9f55154_populate_lic.tgz.done`,
    `0C/9B/sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:${HASH.toUpperCase()}_package.tar.zst`,
    "README",
    ".sstate-keeper/builds/ci-1234.json.gz",
    "caf\u00e9/\u4e2d\u6587 \u{1f600}.tar.zst",
  ];
  const etags = ['"5d41402abc4b2a76b9719d911017c592"', '"9b2cf535f27731c974343645a3985328-3"', 'W/"abc"', undefined];
  const files: RemoteFile[] = [...generateCache({ files: 2000, now: NOW }), ...[...realNames, ...oddPaths].map((path, i) => ({ path, size: i, mtimeMs: NOW - i * 1000 }))].map((file, i) => {
    const etag = etags[i % etags.length];
    return etag === undefined ? file : { ...file, etag };
  });
  const unique = [...new Map(files.map((file) => [file.path, file])).values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const expected = unique.map((file) => ({ ...file, name: parseSstatePath(file.path) }));
  const asRecords = (listing: Listing) => [...listing.objects()].map(({ name, ...file }) => ({ ...file, name: name && { ...name, taskKey: 0 } }));
  const withoutTaskKeys = expected.map(({ name, ...file }) => ({ ...file, name: name && { ...name, taskKey: 0 } }));

  it.each([
    ["in path order", unique],
    ["reversed", [...unique].reverse()],
  ])("%s: each file's path, size, mtime, ETag and parsed name as the parser gives them for the path alone", async (_, input) => {
    const listing = await collectListing(batchesOf(input, 333));
    expect(asRecords(listing)).toEqual(withoutTaskKeys);
    for (let i = 0; i < listing.count; i++) expect(listing.hash(i)).toBe(expected[i]!.name?.hash ?? "");
  });

  it("parts parsed by listing threads give the same listing and digest as the files themselves", async () => {
    const local = unique.map(({ etag: _etag, ...file }) => file);
    const direct = await collectListing(batchesOf(local, 500));
    async function* parts(): AsyncIterable<ThreadPart> {
      const writers = [new ListingPartWriter(), new ListingPartWriter()];
      for (let start = 0, unit = 0; start < local.length; start += 97, unit++) {
        const writer = writers[unit % 2]!;
        for (const file of local.slice(start, start + 97)) writer.add(file);
        yield { thread: unit % 2, part: structuredClone(writer.take().part) };
      }
    }
    const fromParts = await collectListingParts(parts());
    expect(asRecords(fromParts)).toEqual(asRecords(direct));
    expect(fromParts.sha256).toBe(direct.sha256);
    expect(Array.from(fromParts.taskKeys)).toEqual(Array.from(direct.taskKeys));
    const everyHash = (listing: Listing) => Array.from({ length: listing.count }, (_, i) => `${listing.hash(i)} ${listing.nativelsb(i)} ${listing.suffix(i)}`);
    expect(everyHash(fromParts)).toEqual(everyHash(direct));
    expect(Array.from(fromParts.archiveIndexes())).toEqual(Array.from(direct.archiveIndexes()));
  });

  it("finds each companion's archive as its path says", async () => {
    const listing = await collectListing(batchesOf(unique, 1000));
    const byPath = new Map(unique.map((file, i) => [file.path, i]));
    const archives = listing.archiveIndexes();
    for (let i = 0; i < listing.count; i++) {
      const name = expected[i]!.name;
      const companion = name && ["siginfo", "signature", "done"].includes(name.kind);
      const archive = companion ? byPath.get(unique[i]!.path.slice(0, unique[i]!.path.length - name.suffix.length + name.archiveExt.length)) : undefined;
      expect(archives[i]).toBe(archive !== undefined && expected[archive]!.name?.kind === "archive" ? archive : -1);
    }
  });
});
