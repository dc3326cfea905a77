import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { archivePathOf, isUploadTemporary, parseSstatePath, uploadTemporaryPath } from "../src/sstate/name.ts";
import { hashOfStamp, parseManifest } from "../src/sstate/stamps.ts";

const fixture = readFileSync(new URL("./fixtures/real-sstate-names.txt", import.meta.url), "utf8").split("\n");
const stampSection = fixture.indexOf("# stamps");
const realPaths = fixture.slice(0, stampSection).filter((l) => l && !l.startsWith("#"));
const realStamps = fixture.slice(stampSection + 1).filter((l) => l && !l.startsWith("#"));

/** The quoted paths include the cache directory or a URL scheme; strip to the cache-relative path. */
function cacheRelative(quoted: string): string {
  return quoted.replace(/^file:\/\//, "").replace(/^(\.\/)?(sstate-cache|build\/sstate_devtool|test-sstate)\//, "");
}

describe("sstate grammar on every real name", () => {
  const expected: Record<number, Partial<ReturnType<typeof parseSstatePath>>> = {
    0: {
      kind: "archive",
      pn: "software-timer",
      pkgTarget: "cortexa8hf-neon-poky-linux-gnueabi",
      pv: "0.1+gitAUTOINC+5d8327406d",
      pr: "r0",
      arch: "cortexa8hf-neon",
      sstateVersion: "3",
      task: "populate_sysroot",
      suffix: ".tgz",
      archiveExt: ".tgz",
      nativelsb: "",
    },
    1: { kind: "siginfo", task: "populate_sysroot", suffix: ".tgz.siginfo" },
    2: { kind: "siginfo", task: "compile", suffix: ".tgz.siginfo" },
    3: { kind: "archive", pn: "software-timer", pkgTarget: "", arch: "", task: "populate_lic", suffix: ".tgz" },
    4: { kind: "siginfo", arch: "", task: "fetch" },
    5: { kind: "archive", task: "deploy_source_date_epoch" },
    6: { kind: "archive", pn: "xz-native", arch: "x86_64", sstateVersion: "8", nativelsb: "universal", suffix: ".tar.zst" },
    7: { kind: "archive", pn: "libgcc-initial", arch: "core2-64", nativelsb: "" },
    8: { kind: "archive", pn: "m4-native", sstateVersion: "7", nativelsb: "universal" },
    9: { kind: "archive", pn: "gettext-minimal-native", task: "create_spdx", nativelsb: "universal" },
    10: { kind: "archive", pn: "boost", arch: "cortexa72-cortexa53", sstateVersion: "10" },
    11: { kind: "siginfo", pn: "libxslt-native", arch: "", task: "populate_lic" },
    12: { kind: "signature", pn: "ed", hash: "290bbc39f3b25cc27028dafce4b5aa48", suffix: ".tgz.sig", nativelsb: "" },
    13: { kind: "archive", pn: "gcc", hash: "cd8d1a33b832662b624f5e4bd9f55154", nativelsb: "" },
    14: { kind: "archive", pn: "busybox", arch: "i586", task: "packagedata", nativelsb: "" },
    15: { kind: "siginfo", pn: "linux-libc-headers", arch: "ppce6500", task: "package" },
    16: { kind: "temp", pn: "u-boot-socfpga", pv: "v2019.10+gitAUTOINC+e151fde377", task: "package_qa", suffix: ".tgz.nla1z1Ui", archiveExt: ".tgz" },
    17: { kind: "archive", pn: "zlib-native", sstateVersion: "14", nativelsb: "universal" },
    18: { kind: "siginfo", pn: "quilt-native", arch: "", sstateVersion: "14", suffix: ".tar.zst.siginfo" },
  };

  it("has an expectation for every real path in the fixture", () => {
    expect(realPaths).toHaveLength(Object.keys(expected).length);
  });

  it.each(realPaths.map((quoted, index) => ({ quoted, index })))("parses real name $index", ({ quoted, index }) => {
    const path = cacheRelative(quoted);
    const name = parseSstatePath(path);
    expect(name).toBeDefined();
    expect(name).toMatchObject(expected[index]!);
    // The hash in the name is the directory it lives under.
    const dirs = path.split("/").slice(0, -1);
    expect(dirs).toContain(name!.hash.slice(0, 2));
  });

  it("finds the archive a companion belongs to", () => {
    const siginfo = cacheRelative(realPaths[1]!);
    expect(archivePathOf(siginfo, parseSstatePath(siginfo)!)).toBe(cacheRelative(realPaths[0]!));
  });
});

describe("sstate grammar edge cases", () => {
  const hash = "0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f";
  const base = `sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${hash}_populate_sysroot.tar.zst`;
  it.each([
    { path: `ubuntu-22.04/0e/88/${base}`, kind: "archive", nativelsb: "ubuntu-22.04" },
    { path: `isarnative/0e/88/${base}`, kind: "archive", nativelsb: "isarnative" },
    { path: `0e/${base}`, kind: "archive", nativelsb: "" },
    { path: `0e/88/${base}.done`, kind: "done", nativelsb: "" },
    { path: `0e/88/${base}.sig`, kind: "signature", nativelsb: "" },
    { path: `0e/88/${base}abc_12xy`, kind: "temp", nativelsb: "" },
    { path: `0e/88/${base}.siginfo.Ab3dE5gH`, kind: "temp", nativelsb: "" },
    { path: `0e/88/${base}.keeper-0a1b2c3d`, kind: "temp", nativelsb: "" },
    { path: `universal/0e/88/${base}.siginfo.keeper-ffee0011`, kind: "temp", nativelsb: "universal" },
    { path: `IN/VA/sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:INVALID_package.tar.zst`, kind: "archive", nativelsb: "" },
  ])("$path is $kind", ({ path, kind, nativelsb }) => {
    expect(parseSstatePath(path)).toMatchObject({ kind, nativelsb });
  });

  it.each([
    "README",
    "0e/88/.lock",
    `0e/88/sigtask.abcd1234`,
    `0e/88/${base}.bak`,
    `0e/88/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${hash}_populate_sysroot.zip`,
    `0e/88/sstate:zlib:${hash}_populate_sysroot.tar.zst`,
    `0e/88/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:XYZ_populate_sysroot.tar.zst`,
    `tmpab12cd/${base}.tmp`,
    `0e/88/${base}.keeper-0A1B2C3D`,
    `0e/88/${base}.keeper-0a1b2c3`,
    `0e/88/${base}.keeper-0a1b2c3d4`,
  ])("%s is unmanaged", (path) => {
    expect(parseSstatePath(path)).toBeUndefined();
  });
});

describe("upload temporaries", () => {
  const archive = `0e/88/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${"0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f"}_populate_sysroot.tar.zst`;
  it.each([archive, `${archive}.siginfo`, `${archive}.sig`])("the temporary an upload of %s writes is a temp leftover of its own", (path) => {
    const temporary = uploadTemporaryPath(path);
    expect(temporary).toMatch(/\.keeper-[0-9a-f]{8}$/);
    const name = parseSstatePath(temporary);
    expect(name).toMatchObject({ kind: "temp", pn: "zlib-native", task: "populate_sysroot" });
    expect(isUploadTemporary(name!)).toBe(true);
  });

  it.each([`${archive}abc_12xy`, `${archive}.Ab3dE5gH`, `${archive}.siginfo.Ab3dE5gH`])("bitbake's leftover %s is a temp file but not an upload temporary", (path) => {
    expect(isUploadTemporary(parseSstatePath(path)!)).toBe(false);
  });
});

describe("stamps", () => {
  it.each(realStamps.map((s) => [s]))("reads the hash of real stamp %s", (stamp) => {
    const name = stamp.split("/").pop()!;
    const hash = hashOfStamp(name);
    if (name.includes(".sigdata.") || name.includes("_setscene.")) expect(hash).toMatch(/^[0-9a-f]{32,64}$/);
    else expect(hash).toBeUndefined();
  });

  it.each([
    ["1.22.1-r0.do_package.sigdata.cd6f4d1d5dc2c8b7ba4d1b0ea4bfa53b", "cd6f4d1d5dc2c8b7ba4d1b0ea4bfa53b"],
    ["1.22.1-r0.do_packagedata_setscene.c55a3dbe90010c15aa3294753fbd402e.qemux86", "c55a3dbe90010c15aa3294753fbd402e"],
    ["gcc-source-14.2.0-r0.do_patch_setscene.821b6c62f9f2bd8b7e1378656b8319697a21f6f6e4a351f98dc325a18ef7ed0f", "821b6c62f9f2bd8b7e1378656b8319697a21f6f6e4a351f98dc325a18ef7ed0f"],
    ["1.22.1-r0.do_compile.cd6f4d1d5dc2c8b7ba4d1b0ea4bfa53b", undefined],
    ["1.22.1-r0.do_compile.sigbasedata.cd6f4d1d5dc2c8b7ba4d1b0ea4bfa53b", undefined],
    ["1.22.1-r0.do_compile.taint", undefined],
  ])("%s names %s", (stamp, hash) => {
    expect(hashOfStamp(stamp)).toBe(hash);
  });
});

describe("hash manifests", () => {
  it("reads unihashes and sstate names, skips comments, reports bad lines with line:col", () => {
    const text = [
      "# release 5.0.7",
      "0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f",
      "  cd8d1a33b832662b624f5e4bd9f55154   # gcc populate_lic",
      "65/cb/sstate:quilt-native::0.68:r0::14:65cbfd32678bec1bcee007013b7975430424c599233c0eb27d0457972acfaa24_populate_lic.tar.zst.siginfo",
      "",
      "   not-a-hash",
    ].join("\n");
    const { hashes, problems } = parseManifest(text);
    expect([...hashes].sort()).toEqual([
      "0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f",
      "65cbfd32678bec1bcee007013b7975430424c599233c0eb27d0457972acfaa24",
      "cd8d1a33b832662b624f5e4bd9f55154",
    ]);
    expect(problems).toEqual([{ line: 6, col: 4, message: "'not-a-hash' is neither a unihash (32 or 64 hex) nor an sstate file name" }]);
  });
});
