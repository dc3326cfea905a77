import { describe, expect, it } from "vitest";
import { isoTime, jsonString } from "../src/util/json-text.ts";

describe("isoTime writes what toISOString writes", () => {
  it.each([
    ["the epoch", 0],
    ["a demo cache's now", Date.parse("2026-11-01T12:00:00.000Z")],
    ["a leap day", Date.parse("2024-02-29T23:59:59.999Z")],
    ["the day after a leap day", Date.parse("2024-03-01T00:00:00.001Z")],
    ["1900 rules at 2100", Date.parse("2100-02-28T10:00:00.010Z")],
    ["400-year rule at 2000", Date.parse("2000-02-29T00:00:00.100Z")],
    ["the last four-digit year", Date.parse("9999-12-31T23:59:59.999Z")],
    ["the first six-digit year", Date.parse("9999-12-31T23:59:59.999Z") + 1],
    ["before the epoch", -1],
    ["a fraction of a millisecond", 1.5],
  ])("%s", (_, ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it("for every day of fifty years, at varying times of day", () => {
    for (let ms = Date.parse("1999-06-15T00:00:00Z"), n = 0; n < 50 * 366; n++, ms += 86_400_000 + 3_661_001) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});

describe("jsonString writes what JSON.stringify writes", () => {
  it.each([
    "00/1f/sstate:curl:core2-64-poky-linux:8.12.1:r0:core2-64:14:1f00b636c87902f74a0c4334d22c2235fa60621980d2bf2db144f0ebd488e8fa_package.tar.zst",
    'odd/"quoted".tgz',
    "back\\slash",
    "tab\there",
    "new\nline",
    "\u0000nul",
    "caf\u00e9 \u4e2d\u6587 \u{1f600}",
    "lone \ud800 surrogate",
    "",
  ])("%j", (text) => {
    expect(jsonString(text)).toBe(JSON.stringify(text));
  });
});
