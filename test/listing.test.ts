import { describe, expect, it } from "vitest";
import type { RemoteFile } from "../src/backends/backend.ts";
import { generateCache } from "../src/demo/generate.ts";
import { collectListing, type Listing } from "../src/sstate/listing.ts";

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
