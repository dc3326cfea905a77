import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/backends/backend.ts";
import { FsBackend } from "../../src/backends/fs.ts";
import { MemoryBackend } from "../../src/backends/memory.ts";
import { parseTarget, wrapOpenedBackends } from "../../src/backends/registry.ts";
import { openOptions } from "../support/io.ts";

describe("backends a target opens", () => {
  it("pass through every registered wrapper, in the order registered; the target itself is unchanged", async () => {
    const seen: Backend[] = [];
    const replacement = new MemoryBackend();
    wrapOpenedBackends((backend) => (seen.push(backend), backend));
    wrapOpenedBackends(() => replacement);

    const target = parseTarget("/srv/sstate-cache", "/");
    const opened = await target.open({}, openOptions());

    expect(target).toMatchObject({ scheme: "file", url: "file:///srv/sstate-cache" });
    expect(seen).toEqual([expect.any(FsBackend)]);
    expect(opened).toBe(replacement);
  });
});
