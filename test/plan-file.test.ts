import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalPlannedFile, type PlannedFile } from "../src/plan/plan-file.ts";

describe("canonicalPlannedFile", () => {
  const files: [string, PlannedFile][] = [
    ["a local file", {
      path: "universal/ab/cd/sstate:quilt-native:x86_64-linux:0.67:r0:x86_64:14:abcd_populate_sysroot.tar.zst",
      size: 123456,
      mtime: "2026-10-01T12:00:00.000Z",
      rules: ["expire-archives"],
      decidedBy: "expire-archives",
    }],
    ["an S3 object with an ETag", {
      path: "12/sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:12ab_package.tar.zst.siginfo",
      size: 0,
      mtime: "2026-10-01T12:00:00.000Z",
      etag: '"9b2cf535f27731c974343645a3985328"',
      rules: [],
      decidedBy: "@follows-archive",
    }],
    ["odd characters and several rules", { path: 'dir "quoted"/back\\slash/ünïcode\n\u0001', size: 2 ** 40, mtime: "2026-10-01T12:00:00.123Z", rules: ["b-rule", "a-rule"], decidedBy: "b-rule" }],
  ];
  it.each(files)("gives the generic canonical JSON for %s", (_, file) => {
    expect(canonicalPlannedFile(file)).toBe(canonicalJson(file));
  });
});
