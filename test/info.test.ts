import { describe, expect, it } from "vitest";
import { DEMO_NOW, generateCache, type GeneratedFile } from "../src/demo/generate.ts";
import { cacheInfo } from "../src/info/report.ts";
import type { RemoteFile } from "../src/sstate/files.ts";
import { listingOf } from "../src/sstate/listing.ts";

const DAY = 86_400_000;

/** The generator's names, read with nothing but string operations (independent of src/sstate). */
function classify(path: string): { kind: string; pn: string; arch: string; task: string; archivePath: string } | undefined {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (!base.startsWith("sstate:")) return undefined;
  const fields = base.split(":");
  const tail = fields[7]!;
  const afterHash = tail.slice(tail.indexOf("_") + 1);
  const task = afterHash.slice(0, afterHash.indexOf("."));
  const ext = afterHash.slice(task.length);
  const archiveExt = ext.startsWith(".tgz") ? ".tgz" : ".tar.zst";
  const companion = ext.slice(archiveExt.length);
  const kind = { "": "archive", ".siginfo": "siginfo", ".sig": "signature", ".done": "done" }[companion] ?? "temp";
  return { kind, pn: fields[1]!, arch: fields[5]!, task, archivePath: path.slice(0, path.length - companion.length) };
}

/** Everything cacheInfo reports, computed the plain way from the generator's entries. */
function groundTruth(files: readonly GeneratedFile[], now: number) {
  const tally = () => ({ files: 0, bytes: 0 });
  const add = (t: { files: number; bytes: number }, f: GeneratedFile) => {
    t.files++;
    t.bytes += f.size;
  };
  const byKind: Record<string, { files: number; bytes: number }> = Object.fromEntries(["archive", "siginfo", "signature", "done", "temp", "unmanaged"].map((k) => [k, tally()]));
  const byArch: Record<string, { files: number; bytes: number; archives: number }> = {};
  const byTask: Record<string, { files: number; bytes: number; archives: number }> = {};
  const byPn: Record<string, { files: number; bytes: number; archives: number }> = {};
  const limits = [1, 7, 30, 90, 365, Infinity].map((days) => days * DAY);
  const ages = ["<1d", "1–7d", "7–30d", "30–90d", "90–365d", ">365d"].map((label) => ({ label, ...tally() }));
  const groups = new Map<string, { files: GeneratedFile[]; archives: GeneratedFile[] }>();
  const archivePaths = new Set<string>();
  for (const file of files) {
    const name = classify(file.path);
    if (!name) {
      add(byKind.unmanaged!, file);
      continue;
    }
    add(byKind[name.kind]!, file);
    for (const [record, key] of [[byArch, name.arch], [byTask, name.task], [byPn, name.pn]] as const) {
      record[key] ??= { files: 0, bytes: 0, archives: 0 };
      add(record[key], file);
      if (name.kind === "archive") record[key].archives++;
    }
    add(ages[limits.findIndex((limit) => now - file.mtimeMs < limit)]!, file);
    const key = `${name.pn} ${name.arch} ${name.task}`;
    if (!groups.has(key)) groups.set(key, { files: [], archives: [] });
    groups.get(key)!.files.push(file);
    if (name.kind === "archive") {
      groups.get(key)!.archives.push(file);
      archivePaths.add(file.path);
    }
  }
  const orphans = tally();
  const siginfoOnly = { groups: 0, ...tally() };
  const duplicates = { groups: 0, surplusFiles: 0, surplusBytes: 0 };
  for (const group of groups.values()) {
    for (const file of group.files) {
      const name = classify(file.path)!;
      if (["siginfo", "signature", "done"].includes(name.kind) && !archivePaths.has(name.archivePath) && group.archives.length > 0) add(orphans, file);
    }
    if (group.archives.length === 0) {
      siginfoOnly.groups++;
      for (const file of group.files) add(siginfoOnly, file);
    }
    if (group.archives.length > 1) {
      const [newest] = [...group.archives].sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? -1 : 1));
      duplicates.groups++;
      duplicates.surplusFiles += group.archives.length - 1;
      duplicates.surplusBytes += group.archives.reduce((sum, a) => sum + a.size, 0) - newest!.size;
    }
  }
  const sortedKeys = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    now: new Date(now).toISOString(),
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    byKind,
    byArch: sortedKeys(byArch),
    byTask: sortedKeys(byTask),
    recipes: Object.keys(byPn).length,
    topRecipes: Object.entries(byPn)
      .map(([pn, t]) => ({ pn, ...t }))
      .sort((a, b) => b.bytes - a.bytes || (a.pn < b.pn ? -1 : 1))
      .slice(0, 10),
    ages,
    orphans,
    siginfoOnly,
    duplicates,
    identicalArchives: null,
  };
}

function listed(files: readonly (GeneratedFile & { etag?: string })[]): RemoteFile[] {
  return files.map((file) => ({ ...file }));
}

describe("cacheInfo", () => {
  // Every seventh archive is dropped, so that some companions lose their archive (orphans) and
  // some pn+arch+task groups lose all of theirs (siginfo-only).
  let archivesSeen = 0;
  const files = [...generateCache({ files: 8000, now: DEMO_NOW })].filter((file) => classify(file.path)?.kind !== "archive" || ++archivesSeen % 7 !== 0);
  const now = DEMO_NOW + 3 * DAY;

  it("equals the ground truth computed from the generator's entries", () => {
    const truth = groundTruth(files, now);
    expect(truth.orphans.files).toBeGreaterThan(50);
    expect(truth.duplicates.groups).toBeGreaterThan(100);
    expect(truth.byKind.temp!.files).toBeGreaterThan(0);
    expect(truth.byKind.done!.files).toBeGreaterThan(0);
    expect(cacheInfo(listingOf(listed(files)), { now })).toEqual(truth);
  });

  it("does not depend on the order of the files", () => {
    const shuffled = listingOf(listed(files).reverse());
    const sorted = listingOf(listed(files));
    expect(cacheInfo(shuffled, { now })).toEqual(cacheInfo(sorted, { now }));
  });

  it("counts archives with the same size and ETag under different hashes, not copies of one hash", () => {
    const hash = (c: string) => c.repeat(64);
    const archive = (dir: string, c: string, pn = "zlib") => `${dir}${c}${c}/${c}${c}/sstate:${pn}:core2-64-poky-linux:1.3.1:r0:core2-64:14:${hash(c)}_populate_sysroot.tar.zst`;
    const file = (path: string, size: number, etag: string | undefined) => ({ path, size, mtimeMs: DEMO_NOW, ...(etag ? { etag } : {}) });
    const report = cacheInfo(
      listingOf(
        listed([
          file(archive("", "a"), 100, '"same"'),
          file(archive("", "b"), 100, '"same"'),
          file(archive("", "c"), 100, '"same"'),
          // One hash under two nativelsb directories is one build, not a hash equivalence miss.
          file(archive("universal/", "d", "zlib-native"), 300, '"copy"'),
          file(archive("ubuntu-22.04/", "d", "zlib-native"), 300, '"copy"'),
          // Same ETag, different size: different content.
          file(archive("", "e"), 101, '"same"'),
          file(`${archive("", "a")}.siginfo`, 100, '"same"'),
        ]),
      ),
      { now: DEMO_NOW },
    );
    expect(report.identicalArchives).toEqual({
      groups: 1,
      files: 3,
      surplusBytes: 200,
      examples: [{ size: 100, etag: '"same"', files: 3, paths: [archive("", "a"), archive("", "b"), archive("", "c")] }],
    });
    expect(cacheInfo(listingOf(listed([file(archive("", "a"), 1, undefined)])), { now: DEMO_NOW }).identicalArchives).toBeNull();
  });
});
