// info, upload and analyze (isar-sstate parity) end to end on local directories.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FsBackend } from "../src/backends/fs.ts";
import { run } from "../src/cli/main.ts";
import type { GeneratedFile } from "../src/demo/generate.ts";
import { parseSstatePath } from "../src/sstate/name.ts";
import { DEMO_NOW_ISO, generatedCache } from "./support/cache.ts";
import { testIo } from "./support/io.ts";
import { listAll } from "./support/list-all.ts";
import { BASE_PAIR_EXPLAINED_LINES, FIXTURE_ARCH, H, INSTALL_LINES, placeFixturePairs, placeSiginfo, POPULATE_SYSROOT_LINES } from "./support/siginfo-fixtures.ts";

async function cli(...argv: string[]) {
  const io = testIo({ cwd: tmpdir() });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

const freshDir = (prefix: string) => mkdtemp(join(tmpdir(), `keeper-${prefix}-`));

/** The generated files upload must copy: managed, not temp leftovers. */
function uploadable(files: readonly GeneratedFile[], wanted: (pn: string, arch: string) => boolean = () => true): GeneratedFile[] {
  return files.filter((file) => {
    const name = parseSstatePath(file.path);
    return name !== undefined && name.kind !== "temp" && wanted(name.pn, name.arch);
  });
}

const listing = (root: string) => listAll(new FsBackend(root));

const pathsOf = (files: readonly { path: string }[]) => files.map((f) => f.path).sort();

let cache: Awaited<ReturnType<typeof generatedCache>>;
const TEMP_LEFTOVER = "ab/cd/sstate:busybox:core2-64-poky-linux:1.37.0:r0:core2-64:14:abcd000000000000000000000000000000000000000000000000000000000000_package.tar.zstq1w2e3r4";

beforeAll(async () => {
  cache = await generatedCache(1500, { smallFiles: true });
  // Make sure there is at least one interrupted write, whatever the generator drew.
  await mkdir(join(cache.root, "ab/cd"), { recursive: true });
  await writeFile(join(cache.root, TEMP_LEFTOVER), "partial");
  cache.files.push({ path: TEMP_LEFTOVER, size: "partial".length, mtimeMs: Date.parse(DEMO_NOW_ISO) });
});

describe("info", () => {
  it("prints the counts as JSON, text and markdown", async () => {
    const json = await cli("info", cache.root, "--format", "json", "--now", DEMO_NOW_ISO);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.target).toBe(`file://${cache.root}`);
    expect(report.files).toBe(cache.files.length);
    expect(report.bytes).toBe(cache.files.reduce((sum, f) => sum + f.size, 0));
    expect(report.byKind.temp.files).toBeGreaterThanOrEqual(1);
    expect(report.byKind.unmanaged).toEqual({ files: 3, bytes: cache.files.filter((f) => !f.path.includes("sstate:")).reduce((sum, f) => sum + f.size, 0) });
    expect(Object.keys(report)).toEqual(expect.arrayContaining(["byArch", "byTask", "topRecipes", "ages", "orphans", "siginfoOnly", "duplicates"]));

    const text = await cli("info", cache.root, "--now", DEMO_NOW_ISO);
    expect(text.stdout).toContain(`Cache file://${cache.root}, now ${DEMO_NOW_ISO}`);
    expect(text.stdout).toMatch(/^ {2}archive +[\d,]+ +[\d.]+ \w?i?B$/m);
    expect(text.stdout).toContain("identical archives     not checked: this backend has no ETags");

    const markdown = await cli("info", cache.root, "--now", DEMO_NOW_ISO, "--format", "markdown");
    expect(markdown.stdout).toMatch(/^### sstate cache `file:\/\//);
    expect(markdown.stdout).toContain("| kind | files | bytes |");
    expect(markdown.stdout).toContain("<details><summary>Per task</summary>");
  });

  it("refuses a missing target and bad options", async () => {
    expect((await cli("info")).code).toBe(2);
    expect((await cli("info", cache.root, "--now", "yesterday")).stderr).toContain("--now 'yesterday' is not an ISO 8601 time");
    const missing = await cli("info", join(cache.root, "nope"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such directory");
  });
});

describe("upload", () => {
  it("copies every managed file once, never temp leftovers or unmanaged files, and nothing the second time", async () => {
    const target = join(await freshDir("upload"), "new-mirror");
    const first = await cli("upload", cache.root, target);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const expected = uploadable(cache.files);
    const uploaded = await listing(target);
    expect(pathsOf(uploaded)).toEqual(pathsOf(expected));
    expect(uploaded.map((f) => f.size)).toEqual(expected.sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => f.size));
    expect(existsSync(join(target, TEMP_LEFTOVER))).toBe(false);
    expect(existsSync(join(target, "README"))).toBe(false);
    expect(await readFile(join(target, expected[0]!.path))).toEqual(await readFile(join(cache.root, expected[0]!.path)));
    const bytes = expected.reduce((sum, f) => sum + f.size, 0);
    expect(first.stdout).toContain(`  uploaded          ${expected.length.toLocaleString("en-US")} files`);
    expect(first.stdout).toContain("  skipped existing  0 files, 0 B");
    expect(first.stdout).toMatch(/never uploaded +[1-9]\d* temp leftovers, 3 unmanaged files/);
    expect(bytes).toBeGreaterThan(0);

    const second = await cli("upload", cache.root, target);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("  uploaded          0 files, 0 B");
    expect(second.stdout).toContain(`  skipped existing  ${expected.length.toLocaleString("en-US")} files`);
  });

  it("uploads only what --pn and --arch select, with ! negating", async () => {
    const target = await freshDir("upload-filtered");
    const { code, stdout } = await cli("upload", cache.root, target, "--pn", "*-native", "--pn", "!quilt-*", "--arch", "x86_64");
    expect(code).toBe(0);
    const expected = uploadable(cache.files, (pn, arch) => pn.endsWith("-native") && !pn.startsWith("quilt-") && arch === "x86_64");
    expect(expected.length).toBeGreaterThan(20);
    expect(pathsOf(await listing(target))).toEqual(pathsOf(expected));
    const filtered = uploadable(cache.files).length - expected.length;
    expect(stdout).toContain(`  filtered out      ${filtered.toLocaleString("en-US")} files`);
    expect(stdout).toContain("(--pn *-native --pn !quilt-* --arch x86_64)");
  });

  it("uploads nothing with --dry-run and names what it would upload", async () => {
    const target = join(await freshDir("upload-dry"), "not-yet");
    const { code, stdout } = await cli("upload", cache.root, target, "--dry-run", "--pn", "busybox");
    expect(code).toBe(0);
    expect(existsSync(target)).toBe(false);
    const expected = uploadable(cache.files, (pn) => pn === "busybox");
    expect(stdout.split("\n").filter((line) => line.startsWith("would upload ")).map((line) => line.split(" ")[2]).sort()).toEqual(pathsOf(expected));
    expect(stdout).toContain(`  would upload      ${expected.length} files`);
  });

  it("reports each failed upload and exits 5, having uploaded the rest", async () => {
    const target = await freshDir("upload-fail");
    const [blocked, ...rest] = uploadable(cache.files, (pn) => pn === "busybox").filter((f) => f.path.includes("/"));
    // A file where the hash directory must go: the upload of everything under it fails.
    const blockedDir = blocked!.path.slice(0, blocked!.path.lastIndexOf("/"));
    await mkdir(join(target, blockedDir.slice(0, blockedDir.lastIndexOf("/"))), { recursive: true });
    await writeFile(join(target, blockedDir), "in the way");
    const { code, stderr, stdout } = await cli("upload", cache.root, target, "--pn", "busybox");
    expect(code).toBe(5);
    expect(stderr).toContain(`upload failed: ${blocked!.path}: `);
    expect(stdout).toMatch(/ {2}failed +\d+ files \(each named above\)/);
    const arrived = new Set(pathsOf(await listing(target)));
    for (const file of rest.filter((f) => !f.path.startsWith(`${blockedDir}/`))) expect(arrived.has(file.path)).toBe(true);
  });

  it("refuses bad arguments with exit 2", async () => {
    expect((await cli("upload", cache.root)).code).toBe(2);
    const emptyGlob = await cli("upload", cache.root, tmpdir(), "--pn", "!");
    expect(emptyGlob.code).toBe(2);
    expect(emptyGlob.stderr).toContain("--pn: '!' is an empty glob");
    expect((await cli("upload", cache.root, tmpdir(), "--concurrency", "0")).stderr).toContain("--concurrency 0: expected a whole number");
  });
});

describe("analyze", () => {
  let local: string;
  let remote: string;
  const dedent = (lines: string[]) => lines.map((line) => line.slice(4));

  beforeAll(async () => {
    local = await freshDir("analyze-local");
    remote = await freshDir("analyze-remote");
    await placeFixturePairs(local, remote);
  });

  it("explains a missing archive task with the newest remote candidate, following changed dependencies", async () => {
    // An older candidate: the newest (the fixture placed last) must be the one compared.
    const older = await placeSiginfo(remote, "zlib-populate-sysroot-b", { pn: "zlib", task: "populate_sysroot", hash: "0".repeat(64) });
    await utimes(join(remote, `${older.archivePath}.siginfo`), new Date(0), new Date(0));
    const { code, stdout } = await cli("analyze", local, remote);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `Analyze file://${local} against file://${remote}: 1 local items missing on the target, 0 found there`,
        "",
        `zlib:${FIXTURE_ARCH}:populate_sysroot local ${H.sysrootB} vs remote ${H.sysrootA} (newest of 2 candidates)`,
        ...[...dedent(POPULATE_SYSROOT_LINES), ...dedent(INSTALL_LINES)].map((line) => `  ${line}`),
        "",
        "1 compared, 0 without a remote candidate, 0 without a local siginfo, 0 unreadable",
        "",
      ].join("\n"),
    );
  });

  it("reports the changed dependency chain of a siginfo-only task rather than its own changes, as bitbake does", async () => {
    const { stdout } = await cli("analyze", local, remote, "--task", "configure");
    const item = `hello:${FIXTURE_ARCH}:configure local ${H.unihashB} vs remote ${H.unihashA} (the only candidate)`;
    expect(stdout).toContain(`\n\n${[item, ...BASE_PAIR_EXPLAINED_LINES.map((line) => `  ${line}`)].join("\n")}\n\n`);
    // Its own changes (EXTRA_OECONF, HARDENING_OPTS, defconfig…) are what its dependency's change most likely explains.
    for (const replaced of ["HARDENING_OPTS", "EXTRA_OECONF", "defconfig", "autoconf-native", "CFLAGS", "SYSROOT_DIRS"]) {
      expect(stdout).not.toContain(replaced);
    }
  });

  it("says when there is no candidate, skips what the target has, and reports legacy siginfo clearly", async () => {
    const local2 = await freshDir("analyze-local2");
    const remote2 = await freshDir("analyze-remote2");
    await placeSiginfo(local2, "hello-compile-2021", { pn: "hello", task: "compile", hash: "2".repeat(64) });
    await placeSiginfo(remote2, "legacy-pickle", { pn: "hello", task: "compile", hash: "1".repeat(64) });
    await placeSiginfo(local2, "zlib-install-b", { pn: "samefile", task: "dpkg_build", withArchive: true });
    const shared = await placeSiginfo(local2, "zlib-install-a", { pn: "cowsay", task: "dpkg_build", withArchive: true });
    await placeSiginfo(remote2, "zlib-install-a", { pn: "cowsay", task: "dpkg_build", withArchive: true, hash: shared.hash });
    const { code, stdout } = await cli("analyze", local2, remote2, "--task", "compile", "--task", "dpkg_build");
    expect(code).toBe(0);
    expect(stdout).toContain(": 2 local items missing on the target, 1 found there\n");
    expect(stdout).toContain(`samefile:${FIXTURE_ARCH}:dpkg_build local ${H.installB}\n  no remote candidate with the same pn, arch and task\n`);
    expect(stdout).toContain(`hello:corei7-64:compile local ${"2".repeat(64)} vs remote ${"1".repeat(64)} (the only candidate)\n`);
    expect(stdout).toMatch(/\n {2}remote siginfo \S+: legacy pickle siginfo format is not supported \(written before Oct 2021\)\n/);
    expect(stdout).toContain("0 compared, 1 without a remote candidate, 0 without a local siginfo, 1 unreadable");
  });
});
