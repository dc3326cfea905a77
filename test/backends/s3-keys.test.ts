import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { commonPrefix, compareKeys, decodeListedKey, isXmlSafeKey, keyBefore } from "../../src/backends/s3-keys.ts";

const ARCHIVE =
  "0c/9b/sstate:software-timer:cortexa8hf-neon-poky-linux-gnueabi:0.1+gitAUTOINC+5d8327406d:r0:cortexa8hf-neon:3:0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db_populate_sysroot.tgz";
const SIGINFO = "universal/fd/fb/sstate:software-timer::0.1+gitAUTOINC+5d8327406d:r0::3:fdfbe054779cd97e71179dfa91eac44543fe23ec4f0cfe4f043b2792e29171e5_fetch.tgz.siginfo";

describe("S3 listing keys (EncodingType=url)", () => {
  it.each([
    {
      server: "radosgw",
      encoded:
        "0c%2F9b%2Fsstate%3Asoftware-timer%3Acortexa8hf-neon-poky-linux-gnueabi%3A0.1%2BgitAUTOINC%2B5d8327406d%3Ar0%3Acortexa8hf-neon%3A3%3A0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db_populate_sysroot.tgz",
      key: ARCHIVE,
    },
    { server: "AWS (reserved characters left as they are)", encoded: SIGINFO.replaceAll("+", "%2B"), key: SIGINFO },
    { server: "radosgw, a space", encoded: "ab%2Fcd%2Fsstate%3Alib%20x%3A%3A1.0%3Ar0%3A%3A14%3Ahash_fetch.tgz.siginfo", key: "ab/cd/sstate:lib x::1.0:r0::14:hash_fetch.tgz.siginfo" },
    { server: "AWS, a space as +", encoded: "ab/cd/sstate:lib+x::1.0:r0::14:hash_fetch.tgz.siginfo", key: "ab/cd/sstate:lib x::1.0:r0::14:hash_fetch.tgz.siginfo" },
    { server: "a literal %", encoded: "ab/cd/100%25_fetch.tgz", key: "ab/cd/100%_fetch.tgz" },
    { server: "a control character", encoded: "ab/cd/sstate:zlib%01::1.3:r0::14:h_fetch.tgz", key: "ab/cd/sstate:zlib\x01::1.3:r0::14:h_fetch.tgz" },
    { server: "tab, newline, carriage return", encoded: "a%09b%0Ac%0Dd", key: "a\tb\nc\rd" },
    { server: "unicode", encoded: "%C3%BCn%C3%AF/%F0%9F%98%80/%EE%80%80", key: "ünï/😀/\ue000" },
    { server: "a common prefix from radosgw (slashes left as they are)", encoded: "universal/d/c%01c/", key: "universal/d/c\x01c/" },
  ])("$server", ({ encoded, key }) => {
    expect(decodeListedKey(encoded)).toBe(key);
  });

  it("refuses an encoding that is no UTF-8", () => {
    expect(() => decodeListedKey("ab/%C3")).toThrow(URIError);
  });
});

describe("S3 keys in DeleteObjects XML", () => {
  it.each([
    { key: ARCHIVE, safe: true },
    { key: SIGINFO, safe: true },
    { key: "ab/cd/sstate:lib x&<y>\"'::1.0:r0::14:h_fetch.tgz", safe: true },
    { key: "ünï/😀/\ue000/\x7f", safe: true },
    { key: "ab/cd/sstate:zlib\x01::1.3:r0::14:h_fetch.tgz", safe: false },
    { key: "ab/cd/\x00", safe: false },
    { key: "tab\there", safe: false },
    { key: "new\nline", safe: false },
    { key: "carriage\rreturn", safe: false },
    { key: "not a character \ufffe", safe: false },
  ])("$key: safe $safe", ({ key, safe }) => {
    expect(isXmlSafeKey(key)).toBe(safe);
  });
});

describe("S3 key order (UTF-8 bytes)", () => {
  const utf8 = (text: string) => Buffer.from(text, "utf8");
  it.each([
    ["0c/9b/a", "0c/9b/b"],
    [ARCHIVE, `${ARCHIVE}.siginfo`],
    ["a\x01", "a "],
    ["a/\uffff", "a/😀"],
    ["a/\ue000", "a/😀"],
    ["a/\ud7ff", "a/\ue000"],
    ["a/😀", "a/😁"],
    ["a", "a\x00"],
  ])("%j sorts before %j, as S3 lists them", (a, b) => {
    expect(Buffer.compare(utf8(a), utf8(b))).toBe(-1);
    expect(compareKeys(a, b)).toBeLessThan(0);
    expect(compareKeys(b, a)).toBeGreaterThan(0);
    expect(compareKeys(a, a)).toBe(0);
  });

  it.each([
    { key: ARCHIVE, before: ARCHIVE.slice(0, -1) },
    { key: "a/😀", before: "a/" },
    { key: "x", before: "" },
  ])("keyBefore($key) lists the key itself and keeps whole characters", ({ key, before }) => {
    expect(keyBefore(key)).toBe(before);
    expect(compareKeys(keyBefore(key), key)).toBeLessThan(0);
  });

  it.each([
    { a: "0c/9b/sstate:a", b: "0c/9c/sstate:b", prefix: "0c/9" },
    { a: ARCHIVE, b: `${ARCHIVE}.siginfo`, prefix: ARCHIVE },
    { a: "a/😀", b: "a/😁", prefix: "a/" },
    { a: "x", b: "y", prefix: "" },
  ])("commonPrefix($a, $b) is $prefix, never half a character", ({ a, b, prefix }) => {
    expect(commonPrefix(a, b)).toBe(prefix);
  });
});
