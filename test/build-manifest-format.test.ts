import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isBuildManifestPath, manifestsTargetOf, readBuildManifests, readPolicyBuilds } from "../src/evidence/build-manifests.ts";
import { MemoryBackend } from "../src/backends/memory.ts";
import { evaluate } from "../src/plan/planner.ts";
import { buildManifestPath, parseBuildManifest, publishedAtOfName, renderBuildManifest } from "../src/sstate/build-manifest.ts";
import { listingOf } from "../src/sstate/listing.ts";
import { KIND } from "../src/sstate/name.ts";
import { openOptions } from "./support/io.ts";
import { DAY, deletedPaths, hashFrom, listingFrom, NOW, policyFrom, sstatePath } from "./support/listing.ts";

const published = new Date("2026-11-01T12:00:00.000Z");

describe("build manifest format", () => {
  it("names are sortable by time, unique by host and random tail, and never an sstate name", () => {
    const path = buildManifestPath(published, "ci runner/3\n", "1f2e3d4c");
    expect(path).toBe(".sstate-keeper/builds/20261101T120000.000Z-ci_runner_3_-1f2e3d4c.hashes.gz");
    expect(isBuildManifestPath(path)).toBe(true);
    const listing = listingOf([{ path, size: 100, mtimeMs: 0 }]);
    expect(listing.kinds[0]).toBe(KIND.unmanaged);
  });

  it("the name holds the publication time", () => {
    expect(publishedAtOfName(buildManifestPath(published, "h", "00000000"))).toBe(published.getTime());
    expect(publishedAtOfName(".sstate-keeper/builds/copied-by-hand.hashes.gz")).toBeUndefined();
  });

  it("manifests named as published long before the widest window are not read; the others are, by their header", async () => {
    const backend = new MemoryBackend();
    const put = (path: string, text: string) => backend.put(path, gzipSync(text));
    const recent = buildManifestPath(new Date(NOW - 3 * DAY), "a", "00000001");
    const old = buildManifestPath(new Date(NOW - 40 * DAY), "b", "00000002");
    const unnamed = ".sstate-keeper/builds/copied-by-hand.hashes.gz";
    await put(recent, renderBuildManifest({ publishedAt: NOW - 3 * DAY, host: "a", sources: [], hashes: new Set([hashFrom("r")]) }));
    // Were it read, this would fail the plan: it is skipped by its name alone.
    await put(old, "garbage");
    await put(unnamed, renderBuildManifest({ publishedAt: NOW - 2 * DAY, host: "c", sources: [], hashes: new Set([hashFrom("u")]) }));
    const listing = listingOf([recent, old, unnamed].map((path) => ({ path, size: 1, mtimeMs: 0 })));
    const policy = policyFrom("version: 1\nrules:\n  - name: a\n    keep: { used-by-builds: { within: 7d } }\n  - name: b\n    keep: { used-by-builds: { within: 30d } }\n");
    const read = await readPolicyBuilds(policy, { backend, listing, context: { env: {}, ...openOptions() }, baseDir: "/", now: NOW });
    expect([...read.keys()]).toEqual([""]);
    expect(read.get("")!.map((m) => [m.source, m.publishedAt])).toEqual([
      [`${backend.displayUrl}/${recent}`, NOW - 3 * DAY],
      [`${backend.displayUrl}/${unnamed}`, NOW - 2 * DAY],
    ]);
    const wider = policyFrom("version: 1\nrules:\n  - name: a\n    keep: { used-by-builds: { within: 40d } }\n");
    await expect(readPolicyBuilds(wider, { backend, listing, context: { env: {}, ...openOptions() }, baseDir: "/", now: NOW })).rejects.toThrow(`${old}:1: not a build manifest`);
  });

  it.each([
    { path: ".sstate-keeper/builds/x.hashes.gz", manifest: true },
    { path: ".sstate-keeper/builds/old/x.hashes.gz", manifest: false },
    { path: ".sstate-keeper/builds/x.hashes", manifest: false },
    { path: "builds/x.hashes.gz", manifest: false },
  ])("isBuildManifestPath($path) is $manifest", ({ path, manifest }) => {
    expect(isBuildManifestPath(path)).toBe(manifest);
  });

  it("round-trips: the time comes from the header, the hashes are sorted one a line", () => {
    const hashes = new Set([hashFrom("b"), hashFrom("a")]);
    const text = renderBuildManifest({ publishedAt: published.getTime(), host: "ci-3", sources: ["build/tmp/stamps"], hashes });
    expect(text.split("\n").slice(0, 4)).toEqual(["# sstate-keeper build manifest 1", "# published: 2026-11-01T12:00:00.000Z", "# host: ci-3", "# stamps: build/tmp/stamps"]);
    expect(text.split("\n").slice(4, 6)).toEqual([...hashes].sort());
    expect(parseBuildManifest(text)).toEqual({ manifest: { publishedAt: published.getTime(), hashes }, problems: [] });
  });

  it.each([
    { case: "another file", text: "just text\n", message: "not a build manifest" },
    { case: "no time", text: "# sstate-keeper build manifest 1\n# host: x\n", message: "the second line must be '# published: <ISO 8601 time>'" },
    { case: "a bad time", text: "# sstate-keeper build manifest 1\n# published: yesterday\n", message: "the second line must be" },
    { case: "a bad hash line", text: "# sstate-keeper build manifest 1\n# published: 2026-11-01T12:00:00Z\nnot-a-hash\n", message: "'not-a-hash' is neither a unihash" },
  ])("$case is refused", ({ text, message }) => {
    const { manifest, problems } = parseBuildManifest(text);
    expect(manifest).toBeUndefined();
    expect(problems[0]!.message).toContain(message);
  });

  it("reads manifests through a backend and names a broken one", async () => {
    const backend = new MemoryBackend();
    const good = buildManifestPath(published, "a", "00000001");
    await backend.put(good, gzipSync(renderBuildManifest({ publishedAt: published.getTime(), host: "a", sources: [], hashes: new Set([hashFrom("x")]) })));
    expect(await readBuildManifests(backend, [good], (p) => `mem/${p}`)).toEqual([{ publishedAt: published.getTime(), hashes: new Set([hashFrom("x")]), source: `mem/${good}` }]);
    expect(await readBuildManifests(backend, [good, "pruned-since-listing.hashes.gz"], (p) => `mem/${p}`)).toHaveLength(1);
    await backend.put("bad.hashes.gz", gzipSync("# sstate-keeper build manifest 1\n"));
    await expect(readBuildManifests(backend, ["bad.hashes.gz"], (p) => `mem/${p}`)).rejects.toThrow("build manifest mem/bad.hashes.gz:2: the second line must be");
  });

  it.each([
    { location: "s3://bucket/sstate", url: "s3://bucket/sstate/.sstate-keeper/builds" },
    { location: "s3://bucket/sstate/", url: "s3://bucket/sstate/.sstate-keeper/builds" },
    { location: "/srv/manifests", url: "/srv/manifests/.sstate-keeper/builds" },
    { location: "manifests", url: "/policies/manifests/.sstate-keeper/builds" },
  ])("the manifests of $location are listed at $url", ({ location, url }) => {
    expect(manifestsTargetOf(location, "/policies").url).toContain(url);
  });
});

describe("used-by-builds in the planner", () => {
  const seeds = ["a", "b", "c", "d"];
  const files = seeds.flatMap((seed) => {
    const archive = sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed });
    return [{ path: archive }, { path: `${archive}.siginfo` }];
  });
  const manifest = (daysAgo: number, used: string[]) => ({ publishedAt: NOW - daysAgo * DAY, hashes: new Set(used.map(hashFrom)) });
  const builds = new Map([
    ["", [manifest(1, ["a"]), manifest(6.9, ["b"]), manifest(7.1, ["c"]), manifest(-0.1, ["d"])]],
    ["s3://elsewhere", [manifest(20, ["a", "b", "c", "d"])]],
  ]);
  const plan = (selector: string) =>
    evaluate({
      listing: listingFrom(files),
      policy: policyFrom(`version: 1\nrules:\n  - name: used\n    keep: ${selector}\n  - name: rest\n    delete: { all: true }\n`),
      now: NOW,
      referencedHashes: new Map(),
      builds,
    });
  const keptSeeds = (selector: string) => {
    const gone = new Set(deletedPaths(plan(selector)));
    return seeds.filter((seed) => !gone.has(sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed })));
  };

  it.each([
    { selector: "{ used-by-builds: { within: 7d } }", kept: ["a", "b", "d"] },
    { selector: "{ used-by-builds: { within: 1d } }", kept: ["a", "d"] },
    { selector: "{ used-by-builds: { within: 8d } }", kept: ["a", "b", "c", "d"] },
    { selector: "{ used-by-builds: { within: 21d, from: 's3://elsewhere' } }", kept: ["a", "b", "c", "d"] },
    { selector: "{ used-by-builds: { within: 19d, from: 's3://elsewhere' } }", kept: [] },
    { selector: "{ used-by-builds: { within: 7d, from: 's3://nowhere' } }", kept: [] },
  ])("$selector keeps the files of $kept (a manifest from the future counts)", ({ selector, kept }) => {
    expect(keptSeeds(selector)).toEqual(kept);
  });

  it("is a keep selector with a required window", () => {
    expect(() => policyFrom("version: 1\nrules:\n  - name: x\n    delete: { used-by-builds: { within: 7d } }\n")).toThrow("can only be used in a keep rule");
    expect(() => policyFrom("version: 1\nrules:\n  - name: x\n    keep: { used-by-builds: { from: x } }\n")).toThrow("used-by-builds");
  });
});
