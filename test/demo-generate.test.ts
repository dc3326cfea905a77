import { describe, expect, it } from "vitest";
import { DEMO_NOW, generateCache, type GeneratedFile } from "../src/demo/generate.ts";

const DAY = 86_400_000;
const SWSPEC_TASKS = new Set(["fetch", "unpack", "patch", "populate_lic", "preconfigure"]);
const HOST_ARCHS = new Set(["x86_64", "x86_64_x86_64-nativesdk_linux"]);

/** Parsed independently of src/sstate so that the generator is checked against the spec itself. */
const SSTATE_PATH =
  /^(?:(universal)\/)?([0-9a-f]{2})\/([0-9a-f]{2})\/(sstate:([^:]+):([^:]*):([^:]+):([^:]+):([^:]*):(\d+):([0-9a-f]{64})_([a-z0-9_]+?)(\.tar\.zst|\.tgz))(\.siginfo|\.sig|\.done|[a-z0-9]{8}|\.[A-Za-z0-9]{8})?$/;

interface ParsedPath {
  nativeLsb: string | undefined;
  dirs: [string, string];
  pn: string;
  pkgTarget: string;
  pv: string;
  pr: string;
  arch: string;
  sstateVersion: number;
  hash: string;
  task: string;
  archiveExtension: string;
  kind: "archive" | "siginfo" | "signature" | "done" | "temp";
}

function parse(path: string): ParsedPath | undefined {
  const match = SSTATE_PATH.exec(path);
  if (!match) return undefined;
  const [, nativeLsb, dir0, dir1, , pn, pkgTarget, pv, pr, arch, version, hash, task, archiveExtension, suffix] = match;
  const kinds: Record<string, ParsedPath["kind"]> = { ".siginfo": "siginfo", ".sig": "signature", ".done": "done" };
  return {
    nativeLsb,
    dirs: [dir0!, dir1!],
    pn: pn!,
    pkgTarget: pkgTarget!,
    pv: pv!,
    pr: pr!,
    arch: arch!,
    sstateVersion: Number(version),
    hash: hash!,
    task: task!,
    archiveExtension: archiveExtension!,
    kind: suffix === undefined ? "archive" : (kinds[suffix] ?? "temp"),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

function generate(files: number, seed?: number): GeneratedFile[] {
  return [...generateCache({ files, now: DEMO_NOW, ...(seed === undefined ? {} : { seed }) })];
}

describe("generateCache", () => {
  const cache = generate(30_000);
  const parsed = cache.map((file) => ({ file, name: parse(file.path) }));
  const managed = parsed.flatMap(({ file, name }) => (name ? [{ file, name }] : []));

  it("is deterministic for the same options and varies with the seed", () => {
    expect(generate(5_000)).toEqual(cache.slice(0, 5_000));
    expect(generate(5_000, 7)).toEqual(generate(5_000, 7));
    const otherSeed = generate(5_000, 2);
    expect(otherSeed).not.toEqual(cache.slice(0, 5_000));
    expect(otherSeed.filter((file, index) => file.path === cache[index]!.path).length).toBeLessThan(10);
  });

  it("yields exactly the requested number of files", () => {
    for (const files of [0, 1, 2, 3, 4, 10, 777, 12_345]) expect(generate(files)).toHaveLength(files);
    expect(cache).toHaveLength(30_000);
    expect(() => generate(-1)).toThrow(RangeError);
    expect(() => generate(1.5)).toThrow(RangeError);
  });

  it("never repeats a path", () => {
    expect(new Set(cache.map((file) => file.path)).size).toBe(cache.length);
  });

  it("lays out every sstate file as [universal/]<h0:2>/<h2:4>/<name>", () => {
    const violations = managed.filter(({ file, name }) => {
      const swspec = name.pkgTarget === "" && name.arch === "";
      return (
        name.dirs[0] !== name.hash.slice(0, 2) ||
        name.dirs[1] !== name.hash.slice(2, 4) ||
        swspec !== SWSPEC_TASKS.has(name.task) ||
        (name.nativeLsb === "universal") !== (!swspec && HOST_ARCHS.has(name.arch)) ||
        (name.archiveExtension === ".tgz") !== (name.sstateVersion === 3) ||
        file.path.length - file.path.lastIndexOf("/") - 1 > 255
      );
    });
    expect(violations.map(({ file }) => file.path)).toEqual([]);
  });

  it("gives native recipes the build host's target and Isar recipes its own", () => {
    const violations = managed.filter(
      ({ name }) =>
        (name.pn.endsWith("-native") && name.arch !== "" && name.pkgTarget !== "x86_64-linux") ||
        (name.pkgTarget.endsWith("-isar") && name.sstateVersion !== 10),
    );
    expect(violations.map(({ file }) => file.path)).toEqual([]);
    const isarImage = managed.find(({ name }) => name.pn === "isar-image-base" && name.kind === "archive");
    expect(isarImage?.name).toMatchObject({ pkgTarget: "amd64-isar", arch: "amd64", sstateVersion: 10 });
    const archs = new Set(managed.map(({ name }) => name.arch));
    for (const arch of ["core2-64", "cortexa57", "qemux86_64", "allarch", "x86_64", "x86_64_x86_64-nativesdk_linux", "amd64"]) {
      expect(archs).toContain(arch);
    }
  });

  it("mixes everything a real cache holds", () => {
    const byKind = groupBy(managed, ({ name }) => name.kind);
    expect(byKind.get("archive")!.length).toBeGreaterThan(5_000);
    expect(byKind.get("siginfo")!.length).toBeGreaterThan(byKind.get("archive")!.length);
    expect(byKind.get("signature")!.length / byKind.get("archive")!.length).toBeGreaterThan(0.03);
    expect(byKind.get("signature")!.length / byKind.get("archive")!.length).toBeLessThan(0.2);
    expect(byKind.get("done")!.length).toBeGreaterThan(0);

    const temps = byKind.get("temp")!.map(({ file }) => file.path);
    expect(temps.some((path) => /\.tar\.zst[a-z0-9]{8}$/.test(path))).toBe(true);
    expect(temps.some((path) => /\.tar\.zst\.[A-Za-z0-9]{8}$/.test(path))).toBe(true);

    const unmanaged = parsed.filter(({ name }) => !name).map(({ file }) => file.path);
    expect(unmanaged).toContain("README");
    expect(unmanaged.length).toBeLessThan(10);

    const archiveStems = new Set(byKind.get("archive")!.map(({ file }) => file.path));
    const siginfoOnlyTasks = new Set(
      byKind.get("siginfo")!.filter(({ file }) => !archiveStems.has(file.path.slice(0, -".siginfo".length))).map(({ name }) => name.task),
    );
    for (const task of ["fetch", "unpack", "patch", "configure", "compile", "install"]) expect(siginfoOnlyTasks).toContain(task);

    expect(managed.some(({ name }) => name.archiveExtension === ".tgz" && name.kind === "archive")).toBe(true);
    const tasks = new Set(managed.map(({ name }) => name.task));
    for (const task of ["populate_sysroot", "package_write_ipk", "package_write_rpm", "deploy", "image_complete", "dpkg_build"]) {
      expect(tasks).toContain(task);
    }
  });

  it("keeps several hash generations of some tasks, built hours to weeks apart", () => {
    const archives = managed.filter(({ name }) => name.kind === "archive");
    const generations = [...groupBy(archives, ({ name }) => `${name.pn}:${name.arch}:${name.task}`).values()];
    const counts = generations.map((group) => group.length);
    expect(counts.filter((count) => count >= 2).length).toBeGreaterThan(counts.length / 4);
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(4);
    expect(counts.filter((count) => count === 1).length).toBeGreaterThan(0);
    for (const group of generations) {
      const mtimes = group.map(({ file }) => file.mtimeMs).sort((a, b) => a - b);
      const closestGapMs = Math.min(...mtimes.slice(1).map((mtime, index) => mtime - mtimes[index]!));
      if (group.length > 1) expect(closestGapMs, group[0]!.file.path).toBeGreaterThan(DAY / 24);
    }
  });

  it("dates files within the last ~120 days, many of them very recent", () => {
    const outOfRange = managed.filter(({ file }) => file.mtimeMs > DEMO_NOW || file.mtimeMs < DEMO_NOW - 122 * DAY);
    expect(outOfRange.map(({ file }) => file.path)).toEqual([]);
    expect(cache.every((file) => Number.isInteger(file.mtimeMs) && file.mtimeMs <= DEMO_NOW)).toBe(true);
    const withinHour = managed.filter(({ file }) => file.mtimeMs > DEMO_NOW - DAY / 24).length;
    expect(withinHour / managed.length).toBeGreaterThan(0.03);
    expect(managed.filter(({ file }) => file.mtimeMs < DEMO_NOW - 60 * DAY).length).toBeGreaterThan(0);
  });

  it("sizes files like real ones", () => {
    const implausible = managed.filter(
      ({ file, name }) =>
        !Number.isInteger(file.size) ||
        file.size < 0 ||
        (name.kind === "siginfo" && (file.size < 2 * 1024 || file.size > 30 * 1024)) ||
        (name.kind === "archive" && file.size < 1024),
    );
    expect(implausible.map(({ file }) => file.path)).toEqual([]);
    const archiveSizes = managed.filter(({ name }) => name.kind === "archive").map(({ file }) => file.size);
    expect(Math.max(...archiveSizes)).toBeGreaterThan(100 * 1024 * 1024);
  });
});
