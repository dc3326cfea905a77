import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "vitest";
import { FsBackend } from "../src/backends/fs.ts";
import { uploadCleansLeftovers } from "./support/upload-leftovers.ts";

describe("upload to a local mirror", () => {
  uploadCleansLeftovers(async () => {
    const dir = await mkdtemp(join(tmpdir(), "keeper-leftover-mirror-"));
    const backend = new FsBackend(dir);
    return { url: dir, env: {}, dir, write: (path, data) => backend.put(path, data) };
  });
});
