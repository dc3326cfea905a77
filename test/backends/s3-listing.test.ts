import { describe, expect, it } from "vitest";
import { MalformedAnswerError } from "../../src/backends/s3-errors.ts";
import { scanListAnswer } from "../../src/backends/s3-list-answer.ts";
import { splitPoints } from "../../src/backends/s3-ranges.ts";

const HASH = "5d8327406d0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aa";
const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>';
const OPEN = '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';

/** One <Contents> as radosgw 16 writes it (milliseconds, its Type element). */
function contents(key: string, size = 0, modified = "2026-12-02T06:10:21.314Z"): string {
  return `<Contents><Key>${key}</Key><LastModified>${modified}</LastModified><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>`;
}

describe("ListObjectsV2 answers, scanned", () => {
  it.each([
    {
      title: "radosgw, URL-encoded, truncated",
      xml: `${PROLOG}${OPEN}<EncodingType>url</EncodingType><Name>b</Name><Prefix>cache/</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>${contents("cache%2F.lock")}${
        contents(`cache%2F5d%2F83%2Fsstate%3Alib%20x%2541%2By%3A%3A1.0%3Ar0%3A%3A14%3A${HASH}_fetch.tar.zst`, 12)
      }<NextContinuationToken>cache/5d/83/x&amp;y</NextContinuationToken></ListBucketResult>`,
      page: {
        objects: [
          { key: "cache/.lock", size: 0, mtimeMs: Date.parse("2026-12-02T06:10:21Z"), etag: '"d41d8cd98f00b204e9800998ecf8427e"' },
          { key: `cache/5d/83/sstate:lib x%41+y::1.0:r0::14:${HASH}_fetch.tar.zst`, size: 12, mtimeMs: Date.parse("2026-12-02T06:10:21Z"), etag: '"d41d8cd98f00b204e9800998ecf8427e"' },
        ],
        next: "cache/5d/83/x&y",
      },
    },
    {
      title: "AWS, unencoded, pretty-printed, last page",
      xml:
        `${PROLOG}\n${OPEN}\n  <Name>b</Name>\n  <KeyCount>1</KeyCount>\n  <IsTruncated>false</IsTruncated>\n  <Contents>\n    <Key>a &lt;b&gt; &#x1F600;</Key>\n    <LastModified>2026-01-01T00:00:00.000Z</LastModified>\n    <ETag>"abc-2"</ETag>\n    <Size>5</Size>\n  </Contents>\n</ListBucketResult>\n`,
      page: { objects: [{ key: "a <b> 😀", size: 5, mtimeMs: Date.parse("2026-01-01T00:00:00Z"), etag: '"abc-2"' }], next: undefined },
    },
    { title: "an empty bucket", xml: `${OPEN}<IsTruncated>false</IsTruncated></ListBucketResult>`, page: { objects: [], next: undefined } },
  ])("$title", ({ xml, page }) => {
    expect(scanListAnswer(xml)).toEqual(page);
  });

  const whole = `${PROLOG}${OPEN}<IsTruncated>true</IsTruncated>${contents("a")}${contents("b")}<NextContinuationToken>b</NextContinuationToken></ListBucketResult>`;
  it.each([
    { title: "an empty body", xml: "", message: "no whole ListBucketResult" },
    { title: "a body cut short", xml: whole.slice(0, whole.indexOf("<Contents><Key>b")), message: "no whole ListBucketResult" },
    { title: "a body cut inside the last element, closing tag and all", xml: whole.replace("<NextContinuationToken>", "<NextContinuationToken"), message: "without a continuation token" },
    { title: "an error document with status 200", xml: `${PROLOG}<Error><Code>InternalError</Code></Error>`, message: "no whole ListBucketResult" },
    { title: "no IsTruncated", xml: `${OPEN}${contents("a")}</ListBucketResult>`, message: "without IsTruncated" },
    { title: "truncated without a token", xml: `${OPEN}<IsTruncated>true</IsTruncated>${contents("a")}</ListBucketResult>`, message: "without a continuation token" },
    { title: "an object without a key", xml: `${OPEN}<IsTruncated>false</IsTruncated><Contents><Size>1</Size></Contents></ListBucketResult>`, message: "without a key" },
    { title: "an unclosed Contents", xml: `${OPEN}<IsTruncated>false</IsTruncated><Contents><Key>a</Key></ListBucketResult>`, message: "unclosed Contents" },
    { title: "a bad size", xml: `${OPEN}<IsTruncated>false</IsTruncated>${contents("a").replace("<Size>0", "<Size>-1")}</ListBucketResult>`, message: "no valid Size" },
    { title: "a bad date", xml: `${OPEN}<IsTruncated>false</IsTruncated>${contents("a", 0, "yesterday")}</ListBucketResult>`, message: "no valid LastModified" },
    {
      title: "a key that is no URL-encoded UTF-8",
      xml: `${OPEN}<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>${contents("ab%C3")}</ListBucketResult>`,
      message: "no URL-encoded UTF-8",
    },
  ])("refuses $title as malformed (retried, never an end)", ({ xml, message }) => {
    const error = (() => {
      try {
        return scanListAnswer(xml);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MalformedAnswerError);
    expect((error as Error).message).toContain(message);
  });
});

/** A page of `count` sstate keys below `root + dir`, evenly spread from hash position `from` (0–65535) in steps of `step`. */
function page(root: string, dir: string, from: number, step: number, count = 1000): string[] {
  return Array.from({ length: count }, (_, i) => {
    const position = from + Math.floor(i * step);
    const hash = position.toString(16).padStart(4, "0");
    return `${root}${dir}${hash.slice(0, 2)}/${hash.slice(2)}/sstate:zlib::1.3.1:r0::14:${hash.padEnd(64, "0")}_fetch.tar.zst`;
  });
}

describe("splitting the rest of a listing stream into key ranges", () => {
  it.each([
    {
      // 20,000 keys over the 65,536 hash positions: the first page reaches 0c/cc/, 19 pages remain, split evenly.
      title: "the first page of a 20k cache: as many parts as allowed",
      keys: page("cache/", "", 0, 3.2768),
      through: undefined,
      parts: 8,
      boundaries: ["cache/2b/30/", "cache/49/97/", "cache/67/fe/", "cache/86/65/", "cache/a4/cb/", "cache/c3/32/", "cache/e1/99/"],
    },
    {
      title: "fewer parts when fewer streams are free",
      keys: page("cache/", "", 0, 3.2768),
      through: undefined,
      parts: 2,
      boundaries: ["cache/86/65/"],
    },
    {
      // A fifth of the root per page: four pages remain, parts of two pages each.
      title: "a 5k cache: two parts",
      keys: page("", "", 0, 13.1),
      through: undefined,
      parts: 8,
      boundaries: ["99/8f/"],
    },
    {
      title: "a 3k cache: the rest (two pages) is not worth a second stream",
      keys: page("", "", 0, 21.8),
      through: undefined,
      parts: 8,
      boundaries: [],
    },
    {
      title: "in a nativelsb directory, up to the end of its range",
      keys: page("cache/", "universal/", 0x1000, 3.2768),
      through: "cache/universal/a0/00/",
      parts: 4,
      boundaries: ["cache/universal/3d/97/", "cache/universal/5e/65/", "cache/universal/7f/32/"],
    },
    {
      title: "a page in one hash directory says nothing about the others",
      keys: Array.from({ length: 1000 }, (_, i) => `ab/cd/sstate:zlib::1.3.1:r0::14:${i.toString(16).padStart(64, "0")}_fetch.tar.zst`),
      through: undefined,
      parts: 8,
      boundaries: [],
    },
    {
      title: "keys of another shape are not split",
      keys: Array.from({ length: 1000 }, (_, i) => `builds/${i}/manifest.json`),
      through: undefined,
      parts: 8,
      boundaries: [],
    },
    { title: "no free stream", keys: page("", "", 0, 3.2768), through: undefined, parts: 1, boundaries: [] },
  ])("$title", ({ keys, through, parts, boundaries }) => {
    const root = keys[0]!.startsWith("cache/") ? "cache/" : "";
    const split = splitPoints(root, keys, through, 1000, parts);
    expect(split).toEqual(boundaries);
    // Boundaries lie strictly between the page's last key and the range's end, ascending.
    const ordered = [keys.at(-1)!, ...split, ...(through === undefined ? [] : [through])];
    expect([...ordered].sort()).toEqual(ordered);
    expect(new Set(ordered).size).toBe(ordered.length);
    expect(split.length + 1).toBeLessThanOrEqual(parts);
  });
});
