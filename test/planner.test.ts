import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readStampHashes } from "../src/evidence/references.ts";
import { DEFAULT_KEEP, FOLLOWS_ARCHIVE, MIN_AGE_KEEP } from "../src/plan/planner.ts";
import { DAY, deletedDecisions, deletedPaths, hashFrom, HOUR, keptDecisions, planFor, sstatePath, type TestFile } from "./support/listing.ts";

const OE_REMOVE_DUPLICATED = readFileSync(new URL("../policies/oe-remove-duplicated.yaml", import.meta.url), "utf8");
const ISAR_CLEAN = readFileSync(new URL("../policies/isar-clean.yaml", import.meta.url), "utf8");

const M4_TASKS = ["populate_sysroot", "package", "packagedata", "package_qa", "package_write_rpm", "deploy_source_date_epoch"];

/** The m4 archives (and siginfo) one `bitbake m4` leaves for a machine arch and PR. */
function m4Build(arch: string, pr: string, age: number): TestFile[] {
  const files: TestFile[] = [];
  for (const task of M4_TASKS) {
    const path = sstatePath({ pn: "m4", arch, task, pr, seed: `${arch}${pr}${task}`, pv: "1.4.19" });
    files.push({ path, age }, { path: `${path}.siginfo`, age });
  }
  const lic = sstatePath({ pn: "m4", task: "populate_lic", pr, seed: `${arch}${pr}lic`, pv: "1.4.19" });
  files.push({ path: lic, age }, { path: `${lic}.siginfo`, age });
  return files;
}

const archivesOf = (files: TestFile[]) => files.map((f) => f.path).filter((p) => p.endsWith(".tar.zst") && !p.includes("populate_lic"));
const siginfoOf = (files: TestFile[]) => files.map((f) => f.path).filter((p) => p.endsWith(".tar.zst.siginfo") && !p.includes("populate_lic"));

describe("OE sstate-cache-management --remove-duplicated parity (sstatetests.py cases)", () => {
  it("pr_1: a single build removes nothing", () => {
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, m4Build("core2-64", "r0", DAY)))).toEqual([]);
  });

  it("pr_2: PR 0 then PR 1 on one machine removes the r0 archives and siginfo", () => {
    const r0 = m4Build("core2-64", "r0", 2 * DAY);
    const r1 = m4Build("core2-64", "r1", DAY);
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, [...r0, ...r1]))).toEqual([...archivesOf(r0), ...siginfoOf(r0)].sort());
  });

  it("pr_3: qemux86-64 r0, qemux86-64 r1, qemux86 r1 removes only the qemux86-64 r0 files", () => {
    const x64r0 = m4Build("core2-64", "r0", 3 * DAY);
    const x64r1 = m4Build("core2-64", "r1", 2 * DAY);
    const x86r1 = m4Build("core2-32", "r1", DAY);
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, [...x64r0, ...x64r1, ...x86r1]))).toEqual([...archivesOf(x64r0), ...siginfoOf(x64r0)].sort());
  });

  it("machine: two machines without change are never duplicates", () => {
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, [...m4Build("core2-64", "r0", 2 * DAY), ...m4Build("core2-32", "r0", DAY)]))).toEqual([]);
  });

  it("populate_lic is never removed, whatever its generations", () => {
    const files = ["gcc-cross-initial", "libgcc", "gcc-cross", "gcc-runtime"].flatMap((pn, i) => [
      { path: sstatePath({ pn: "gcc", task: "populate_lic", seed: `${pn}-a`, pv: "4.8.2" }), age: (i + 2) * DAY },
      { path: sstatePath({ pn: "gcc", task: "populate_lic", seed: `${pn}-b`, pv: "4.8.2" }), age: (i + 1) * DAY },
    ]);
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, files))).toEqual([]);
  });

  it("two SWSPEC _patch siginfo of one recipe: only the newer is kept", () => {
    const older = sstatePath({ pn: "m4", task: "patch", ext: ".tar.zst.siginfo", seed: "patch-old" });
    const newer = sstatePath({ pn: "m4", task: "patch", ext: ".tar.zst.siginfo", seed: "patch-new" });
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, [{ path: older, age: 3 * DAY }, { path: newer, age: DAY }]))).toEqual([older]);
  });

  it("ignores PV, the NATIVELSBSTRING directory and the hash when grouping", () => {
    const old = sstatePath({ pn: "quilt-native", arch: "x86_64", task: "populate_sysroot", pv: "0.67", nativelsb: "universal", seed: 1 });
    const recent = sstatePath({ pn: "quilt-native", arch: "x86_64", task: "populate_sysroot", pv: "0.68", nativelsb: "ubuntu-22.04", seed: 2 });
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, [{ path: old, age: 5 * DAY }, { path: recent, age: DAY }]))).toEqual([old]);
  });

  it("-n / unknown extensions: .tgz, temp leftovers and unmanaged files are never selected", () => {
    const tgzOld = sstatePath({ pn: "ed", arch: "core2-64", task: "package", ext: ".tgz", seed: "tgz1" });
    const tgzNew = sstatePath({ pn: "ed", arch: "core2-64", task: "package", ext: ".tgz", seed: "tgz2" });
    const temp = `${sstatePath({ pn: "ed", arch: "core2-64", task: "package", seed: "t" })}.nla1z1Ui`;
    const evaluation = planFor(OE_REMOVE_DUPLICATED, [{ path: tgzOld, age: 9 * DAY }, { path: tgzNew, age: DAY }, { path: temp, age: 9 * DAY }, { path: "README" }]);
    expect(deletedPaths(evaluation)).toEqual([]);
    expect(evaluation.unmanaged).toEqual({ files: 1, bytes: 100 });
  });

  it("equal mtimes keep the smallest path, deterministically", () => {
    const a = sstatePath({ pn: "m4", arch: "core2-64", task: "package", seed: "tie-a" });
    const b = sstatePath({ pn: "m4", arch: "core2-64", task: "package", seed: "tie-b" });
    const [first, second] = [a, b].sort();
    expect(deletedPaths(planFor(OE_REMOVE_DUPLICATED, [{ path: second!, age: DAY }, { path: first!, age: DAY }]))).toEqual([second]);
  });
});

describe("OE --stamps-dir parity: keep what the stamps name, delete everything else", () => {
  it("keeps the busybox objects named by sigdata and setscene stamps, at any depth, and nothing else", async () => {
    // The fixture holds i586-oe-linux/busybox/1.22.1-r0.do_package.sigdata.<package>,
    // …do_packagedata_setscene.<packagedata>.qemux86, …do_compile.<plain> (not a stamp that names
    // an object) and work-shared/gcc-source-14.2.0-r0.do_patch_setscene.<gcc-source>.
    const packageHash = hashFrom("busybox-package");
    const packagedataHash = hashFrom("busybox-packagedata");
    const gccSourceHash = hashFrom("gcc-source-patch");
    const hashes = await readStampHashes(fileURLToPath(new URL("./fixtures/stamps", import.meta.url)));
    expect([...hashes].sort()).toEqual([packageHash, packagedataHash, gccSourceHash].sort());

    const file = (task: string, seed: string, ext = ".tar.zst") => sstatePath({ pn: "busybox", arch: "i586", task, seed, ext, pv: "1.22.1" });
    const kept = [
      file("package", "busybox-package"),
      file("package", "busybox-package", ".tar.zst.siginfo"),
      file("packagedata", "busybox-packagedata"),
      file("packagedata", "busybox-packagedata", ".tar.zst.siginfo"),
      sstatePath({ pn: "gcc-source-14.2.0", task: "patch", seed: "gcc-source-patch", ext: ".tar.zst.siginfo" }),
    ];
    const removed = [file("package", "busybox-package-old"), file("packagedata", "busybox-packagedata-old", ".tar.zst.siginfo"), file("compile", "busybox-compile-plain", ".tar.zst.siginfo")];
    const policy = `version: 1\nrules:\n  - name: used-by-build\n    keep: { stamps: [stamps] }\n  - name: everything-else\n    delete: { all: true }\n`;
    const evaluation = planFor(policy, [...kept, ...removed].map((path) => ({ path })), new Map([["used-by-build", hashes]]));
    expect(deletedPaths(evaluation)).toEqual([...removed].sort());
    expect(keptDecisions(evaluation).map((d) => d.path).sort()).toEqual([...kept].sort());
    expect(keptDecisions(evaluation).every((d) => d.decidedBy === "used-by-build")).toBe(true);
  });
});

describe("OE --remove-orphans parity and the finer orphan selector", () => {
  const compileSiginfo = sstatePath({ pn: "m4", arch: "core2-64", task: "compile", ext: ".tar.zst.siginfo", seed: "compile" });
  const sysrootA = sstatePath({ pn: "m4", arch: "core2-64", task: "populate_sysroot", seed: "A" });
  const sysrootBSiginfo = sstatePath({ pn: "m4", arch: "core2-64", task: "populate_sysroot", ext: ".tar.zst.siginfo", seed: "B" });
  const files = [{ path: compileSiginfo }, { path: sysrootA }, { path: `${sysrootA}.siginfo` }, { path: sysrootBSiginfo }];

  it("siginfo-only deletes the siginfo of tasks that have no archive, keeps siginfo of tasks that have one", () => {
    const policy = "version: 1\nrules:\n  - name: remove-orphans\n    delete: { siginfo-only: true }\n";
    expect(deletedPaths(planFor(policy, files))).toEqual([compileSiginfo]);
  });

  it("orphan deletes the siginfo whose own archive is missing, only for tasks with an archive", () => {
    const policy = "version: 1\nrules:\n  - name: drop-orphans\n    delete: { orphan: true }\n";
    expect(deletedPaths(planFor(policy, files))).toEqual([sysrootBSiginfo]);
  });

  it("orphan sees the archives the first phase deletes, but not those min-age keeps", () => {
    const young = sstatePath({ pn: "m4", arch: "core2-64", task: "populate_sysroot", seed: "young" });
    const policy = "version: 1\nrules:\n  - name: expire\n    delete: { kind: archive, pv: '*' }\n  - name: drop-orphans\n    delete: { orphan: true }\n";
    const evaluation = planFor(policy, [{ path: sysrootA }, { path: `${sysrootA}.siginfo` }, { path: young, age: HOUR / 2 }, { path: `${young}.siginfo` }]);
    expect(deletedPaths(evaluation)).toEqual([sysrootA, `${sysrootA}.siginfo`]);
    expect(deletedDecisions(evaluation).find((d) => d.path === `${sysrootA}.siginfo`)?.decidedBy).toBe("drop-orphans");
    expect(keptDecisions(evaluation).find((d) => d.path === young)?.decidedBy).toBe(MIN_AGE_KEEP);
  });
});

describe("dependencies: a deletion made because an archive goes names that archive", () => {
  const expiring = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "expiring" });
  const neverArchived = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", ext: ".tar.zst.siginfo", seed: "lost" });
  const oldSiginfoOwner = sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: "kept-archive" });
  const policy = `version: 1
rules:
  - name: keep-package
    keep: { kind: archive, task: package }
  - name: expire-archives
    delete: { kind: archive, older-than: 30d }
  - name: expire-siginfo
    delete: { suffix: .siginfo, older-than: 90d }
  - name: drop-orphans
    delete: { orphan: true }
`;
  const files: TestFile[] = [
    { path: expiring, age: 40 * DAY },
    { path: `${expiring}.siginfo`, age: 40 * DAY },
    { path: `${expiring}.sig`, age: 40 * DAY },
    { path: `${expiring}.done`, age: 40 * DAY },
    { path: neverArchived, age: 40 * DAY },
    { path: oldSiginfoOwner, age: 100 * DAY },
    { path: `${oldSiginfoOwner}.siginfo`, age: 100 * DAY },
  ];

  it.each([
    [`${expiring}.siginfo`, "drop-orphans", expiring],
    [`${expiring}.sig`, "drop-orphans", expiring],
    [`${expiring}.done`, "drop-orphans", expiring],
    [expiring, "expire-archives", undefined],
    // No archive was ever listed for it: an orphan on its own.
    [neverArchived, "drop-orphans", undefined],
    // Deleted by its own age rule, whatever becomes of its (kept) archive.
    [`${oldSiginfoOwner}.siginfo`, "expire-siginfo", undefined],
  ])("%s is deleted by %s after %s", (path, decidedBy, after) => {
    const decision = deletedDecisions(planFor(policy, files)).find((d) => d.path === path);
    expect(decision?.decidedBy).toBe(decidedBy);
    expect(decision?.after).toBe(after);
  });

  it("a .sig and .done that only follow their archive depend on it; the siginfo stays", () => {
    const withoutOrphans = policy.replace(/  - name: drop-orphans\n    delete: \{ orphan: true \}\n/, "");
    const deleted = deletedDecisions(planFor(withoutOrphans, files)).filter((d) => d.path.startsWith(expiring));
    expect(deleted.map((d) => [d.path.slice(expiring.length), d.decidedBy, d.after])).toEqual([
      ["", "expire-archives", undefined],
      [".done", FOLLOWS_ARCHIVE, expiring],
      [".sig", FOLLOWS_ARCHIVE, expiring],
    ]);
  });
});

/** The preset with one selector mapping changed, as its header tells users to: the mapping must be there. */
function replaced(policy: string, from: string, to: string): string {
  expect(policy).toContain(from);
  return policy.replace(from, to);
}

describe("isar-sstate clean parity", () => {
  const archive2d = sstatePath({ pn: "hello", arch: "amd64", task: "dpkg_build", seed: "2d" });
  const archive1h = sstatePath({ pn: "hello", arch: "amd64", task: "dpkg_build", seed: "young" });
  const siginfo8d = sstatePath({ pn: "hello", arch: "amd64", task: "fetch", ext: ".tar.zst.siginfo", seed: "8d" });

  it("max-age 1d, max-sig-age 7d: old archive with its siginfo goes, siginfo of a younger archive stays, 8-day siginfo goes", () => {
    const policy = replaced(ISAR_CLEAN, "{ all: true, older-than: 1d }", "{ all: true, older-than: 7d }");
    const evaluation = planFor(policy, [
      { path: archive2d, age: 2 * DAY },
      { path: `${archive2d}.siginfo`, age: 2 * DAY },
      { path: archive1h, age: 2 * HOUR },
      { path: `${archive1h}.siginfo`, age: 3 * DAY },
      { path: siginfo8d, age: 8 * DAY },
    ]);
    expect(deletedPaths(evaluation)).toEqual([archive2d, `${archive2d}.siginfo`, siginfo8d].sort());
  });

  it("the preset's defaults (1d/1d) delete day-old archives and siginfo", () => {
    const evaluation = planFor(ISAR_CLEAN, [{ path: archive2d, age: 2 * DAY }, { path: archive1h, age: 2 * HOUR }, { path: `${archive1h}.siginfo`, age: 30 * HOUR }]);
    expect(deletedPaths(evaluation)).toEqual([archive2d, `${archive1h}.siginfo`].sort());
  });

  it("whatever shares the hash of a deleted archive goes at any age; a young siginfo whose archive never existed stays", () => {
    const neverArchived = sstatePath({ pn: "hello", arch: "amd64", task: "dpkg_build", ext: ".tar.zst.siginfo", seed: "never" });
    const files = [
      { path: archive2d, age: 2 * DAY },
      { path: `${archive2d}.siginfo`, age: 2 * HOUR },
      { path: `${archive2d}.sig`, age: 2 * HOUR },
      { path: `${archive2d}q1w2e3r4`, age: 2 * HOUR },
      { path: neverArchived, age: 2 * HOUR },
      { path: `${sstatePath({ pn: "hello", arch: "amd64", task: "dpkg_build", seed: "interrupted" })}.AbCdEfGh`, age: 2 * DAY },
    ];
    const evaluation = planFor(ISAR_CLEAN, files);
    expect(deletedPaths(evaluation)).toEqual(files.filter((f) => f.path !== neverArchived).map((f) => f.path).sort());
    expect(deletedDecisions(evaluation).find((d) => d.path === `${archive2d}.siginfo`)).toMatchObject({ decidedBy: "files-of-deleted-archives", after: archive2d });
  });

  it("--filter '^(?!isar-image-)' and --arch amd64 become pn and arch selectors", () => {
    const image = sstatePath({ pn: "isar-image-base", arch: "amd64", task: "rootfs_install", seed: "img" });
    const arm = sstatePath({ pn: "hello", arch: "arm64", task: "dpkg_build", seed: "arm" });
    const filters = "pn: '!isar-image-*', arch: amd64";
    const rules = ["{ kind: archive, older-than: 1d", "{ all: true, older-than: 1d", "{ hash-of-deleted-archive: true"];
    const policy = rules.reduce((text, selectors) => replaced(text, `${selectors} }`, `${selectors}, ${filters} }`), ISAR_CLEAN);
    expect(deletedPaths(planFor(policy, [{ path: image, age: 9 * DAY }, { path: arm, age: 9 * DAY }, { path: archive2d, age: 2 * DAY }]))).toEqual([archive2d]);
  });
});

describe("policy semantics", () => {
  const a = (seed: string, extra: Partial<Parameters<typeof sstatePath>[0]> = {}) => sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed, ...extra });

  it.each([
    {
      title: "keep wins over delete, and every selecting rule is listed",
      policy: "keep-images\n    keep: { pn: 'core-image-*' }\n  - name: expire\n    delete: { older-than: 1d }",
      files: [{ path: a("img", { pn: "core-image-minimal" }), age: 5 * DAY }, { path: a("z"), age: 5 * DAY }],
      deleted: [a("z")],
    },
    {
      title: "newest keeps the N newest per group",
      policy: "newest2\n    keep: { kind: archive, newest: 2, per: [pn, arch, task] }\n  - name: expire\n    delete: { all: true }",
      files: [{ path: a("1"), age: 1 * DAY }, { path: a("2"), age: 2 * DAY }, { path: a("3"), age: 3 * DAY }, { path: a("4", { arch: "cortexa57" }), age: 4 * DAY }],
      deleted: [a("3")],
    },
    {
      title: "except-newest deletes all but the newest",
      policy: "dedup\n    delete: { kind: archive, except-newest: 1, per: [pn] }",
      files: [{ path: a("1"), age: 1 * DAY }, { path: a("2", { arch: "cortexa57" }), age: 2 * DAY }],
      deleted: [a("2", { arch: "cortexa57" })],
    },
    {
      title: "except-newest groups by every per field together; equal mtimes keep the first path",
      policy: "dedup\n    delete: { except-newest: 1, per: [arch, suffix] }",
      files: [
        { path: a("1"), age: 2 * DAY },
        { path: a("2"), age: 2 * DAY },
        { path: a("3"), age: 1 * DAY },
        { path: `${a("1")}.siginfo`, age: 3 * DAY },
        { path: `${a("2")}.siginfo`, age: 4 * DAY },
        { path: a("4", { arch: "cortexa57", pn: "gcc" }), age: 9 * DAY },
        { path: a("5", { arch: "cortexa57", pn: "gcc" }), age: 9 * DAY },
      ],
      deleted: [a("1"), a("2"), `${a("2")}.siginfo`, [a("4", { arch: "cortexa57", pn: "gcc" }), a("5", { arch: "cortexa57", pn: "gcc" })].sort()[1]!].sort(),
    },
    {
      title: "negated globs exclude; positive globs in a list are alternatives",
      policy: "some\n    delete: { pn: ['zlib*', 'gcc*', '!gcc-source*'] }",
      files: [{ path: a("z") }, { path: a("g", { pn: "gcc-cross" }) }, { path: a("s", { pn: "gcc-source-14" }) }, { path: a("o", { pn: "openssl" }) }],
      deleted: [a("z"), a("g", { pn: "gcc-cross" })].sort(),
    },
    {
      title: "suffix, size and age selectors combine with AND",
      policy: "big-old-siginfo\n    delete: { suffix: .siginfo, larger-than: 1KB, older-than: 3d }",
      files: [{ path: `${a("1")}.siginfo`, size: 5000, age: 4 * DAY }, { path: `${a("2")}.siginfo`, size: 500, age: 4 * DAY }, { path: `${a("3")}.siginfo`, size: 5000, age: 2 * DAY }, {
        path: a("4"),
        size: 5000,
        age: 4 * DAY,
      }],
      deleted: [`${a("1")}.siginfo`],
    },
    {
      title: ".sig and .done follow their deleted archive; .siginfo does not",
      policy: "expire\n    delete: { kind: archive, older-than: 1d }",
      files: [{ path: a("1"), age: 5 * DAY }, { path: `${a("1")}.sig`, age: HOUR / 10 }, { path: `${a("1")}.done`, age: 5 * DAY }, { path: `${a("1")}.siginfo`, age: 5 * DAY }],
      deleted: [a("1"), `${a("1")}.done`, `${a("1")}.sig`],
    },
    {
      title: "min-age protects young files from every delete rule",
      policy: "all\n    delete: { all: true }\n  - name: keep-one\n    keep: { pn: keep-me }",
      files: [{ path: a("old"), age: 2 * HOUR }, { path: a("young"), age: 59 * 60_000 }, { path: a("k", { pn: "keep-me" }), age: 9 * DAY }],
      deleted: [a("old")],
    },
    {
      title: "path globs are relative to the root",
      policy: "native\n    delete: { path: 'universal/**' }",
      files: [{ path: a("n", { nativelsb: "universal", pn: "zlib-native", arch: "x86_64" }) }, { path: a("t") }],
      deleted: [a("n", { nativelsb: "universal", pn: "zlib-native", arch: "x86_64" })],
    },
    {
      title: "all covers temp leftovers but never unmanaged files",
      policy: "all\n    delete: { all: true }\n  - name: keep-one\n    keep: { task: package }",
      files: [{ path: `${a("t")}.Ab3dE5gH` }, { path: "README" }, { path: "00/lock" }, { path: a("k", { task: "package" }) }],
      deleted: [`${a("t")}.Ab3dE5gH`],
    },
  ])("$title", ({ policy, files, deleted }) => {
    const evaluation = planFor(`version: 1\nrules:\n  - name: ${policy}\n`, files);
    expect(deletedPaths(evaluation)).toEqual(deleted);
    // Invariants of every plan: kept + deleted + unmanaged = listing; each decision names its decider.
    expect(evaluation.deleted.length + evaluation.kept!.length + evaluation.unmanaged.files).toBe(files.length);
    for (const d of deletedDecisions(evaluation)) expect(d.rules.includes(d.decidedBy) || d.decidedBy === FOLLOWS_ARCHIVE).toBe(true);
    for (const d of keptDecisions(evaluation)) expect(d.rules.includes(d.decidedBy) || d.decidedBy === DEFAULT_KEEP || d.decidedBy === MIN_AGE_KEEP).toBe(true);
  });

  it("explains with every selecting rule and the decider", () => {
    const evaluation = planFor("version: 1\nrules:\n  - name: old\n    delete: { older-than: 1d }\n  - name: archives\n    delete: { kind: archive }\n", [{ path: a("1"), age: 2 * DAY }]);
    expect(deletedDecisions(evaluation)[0]).toMatchObject({ rules: ["old", "archives"], decidedBy: "old" });
  });

  it("stamps and hashes of one rule form one set", () => {
    const evaluation = planFor(
      "version: 1\nrules:\n  - name: release\n    keep: { hashes: [r.hashes] }\n  - name: rest\n    delete: { all: true }\n",
      [{ path: a("x") }, { path: a("y") }],
      new Map([["release", new Set([hashFrom("x")])]]),
    );
    expect(deletedPaths(evaluation)).toEqual([a("y")]);
  });
});

describe("guards", () => {
  const files = Array.from({ length: 10 }, (_, i) => ({ path: sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: i }), size: 1000 }));
  const guard = (guards: string, rule = "delete: { pv: '*', pn: zlib, newer-than: 1000d }") =>
    planFor(`version: 1\nguards: {${guards}}\nrules:\n  - name: r\n    ${rule}\n`, files.slice(0, 6).concat(files.slice(6).map((f) => ({ ...f, path: f.path.replace("zlib", "other") }))));

  it("max-delete-percent refuses and says by how much", () => {
    const evaluation = guard("max-delete-percent: 50");
    expect(evaluation.refused).toBe(true);
    expect(evaluation.guards.find((g) => g.name === "max-delete-percent")).toMatchObject({ verdict: "refused", value: "60.00%", limit: "50%" });
    expect(evaluation.guards.find((g) => g.name === "max-delete-percent")?.message).toContain("10.00 points over");
  });

  it("max-delete-bytes refuses over the limit and passes under it", () => {
    expect(guard("max-delete-bytes: 5KB").refused).toBe(true);
    expect(guard("max-delete-bytes: 6KB").refused).toBe(false);
  });

  it("refuses a plan that deletes every archive unless allow-empty", () => {
    expect(guard("", "delete: { all: true }").refused).toBe(true);
    expect(guard("allow-empty: true", "delete: { all: true }").refused).toBe(false);
  });
});

describe("determinism", () => {
  it("gives the same decisions whatever the listing order", () => {
    const files = Array.from(
      { length: 200 },
      (_, i) => ({ path: sstatePath({ pn: `p${i % 7}`, arch: "core2-64", task: ["package", "populate_sysroot"][i % 2]!, seed: i }), age: ((i * 7919) % 97) * HOUR }),
    );
    const policy = "version: 1\nrules:\n  - name: n\n    keep: { newest: 3, per: [pn, task] }\n  - name: d\n    delete: { older-than: 2d }\n";
    const forward = planFor(policy, files);
    const backward = planFor(policy, [...files].reverse());
    expect(deletedPaths(backward)).toEqual(deletedPaths(forward));
    expect(forward.deleted.length).toBeGreaterThan(0);
  });
});
