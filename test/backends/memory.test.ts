import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/backends/memory.ts";
import { backendConformance } from "./conformance.ts";

backendConformance("memory", async () => {
  const backend = new MemoryBackend();
  return { backend, directories: async () => backend.directories() };
});

describe("memory backend", () => {
  const path = "0c/9b/sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:0c9b_package.tar.zst";

  it("holds objects added by size and mtime, reading as zeros, with their directories", async () => {
    const backend = new MemoryBackend({ objects: [{ path, size: 5, mtimeMs: 1_000 }] });
    expect(await backend.stat(path)).toEqual({ path, size: 5, mtimeMs: 1_000, etag: expect.any(String) });
    expect(await backend.get(path)).toEqual(new Uint8Array(5));
    expect(backend.directories()).toEqual(["0c", "0c/9b"]);
  });

  it("stamps puts with its clock and gives every write a new ETag, even one of the same size and mtime", async () => {
    const backend = new MemoryBackend({ clock: () => 42_000 });
    await backend.put(path, new Uint8Array(3));
    const first = await backend.stat(path);
    await backend.put(path, new Uint8Array(3));
    const second = await backend.stat(path);
    expect(first).toMatchObject({ size: 3, mtimeMs: 42_000 });
    expect(second).toMatchObject({ size: 3, mtimeMs: 42_000 });
    expect(second!.etag).not.toBe(first!.etag);
    expect(await backend.deleteMany([first!])).toEqual([{ path, status: "changed", reason: expect.stringContaining("ETag changed") }]);
  });
});
