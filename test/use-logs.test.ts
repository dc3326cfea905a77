import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseHttpLogLine } from "../src/evidence/uses/http-log.ts";
import { forEachLine, MAX_LINE_BYTES } from "../src/evidence/uses/lines.ts";
import { parseLogTime } from "../src/evidence/uses/log-time.ts";
import { parseS3LogLine } from "../src/evidence/uses/s3-log.ts";
import { lineReader } from "../src/evidence/uses/use-of-line.ts";
import { UseRecords } from "../src/evidence/uses/use-records.ts";
import { buildPlan, canonicalPlannedFile } from "../src/plan/plan-file.ts";
import { evaluate } from "../src/plan/planner.ts";
import { renderMarkdown } from "../src/plan/render/markdown.ts";
import { renderText } from "../src/plan/render/text.ts";
import { renderWhyText } from "../src/cli/views/why.ts";
import { whyFromEvaluation } from "../src/plan/why.ts";
import { loadPolicy, type UseSource } from "../src/policy/load.ts";
import { DAY, listingFrom, NOW, policyFrom, sstatePath } from "./support/listing.ts";

const ARCHIVE = sstatePath({ pn: "m4", arch: "core2-64", task: "populate_sysroot", seed: "m4-sysroot", pv: "1.4.19" });
const ENCODED = ARCHIVE.replaceAll(":", "%3A");

/** A source as the policy loader makes it. */
function source(fields: string): UseSource {
  const { policy, diagnostics } = loadPolicy(`version: 1\nuses:\n  - { access-log: access.log, ${fields} }\nrules: []\n`, "policy.yaml");
  expect(diagnostics).toEqual([]);
  return policy!.uses[0]!;
}

describe("log timestamps", () => {
  it.each([
    ["10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000Z"],
    ["20/Nov/2026:14:03:07 +0100", "2026-11-20T13:03:07.000Z"],
    ["06/Feb/2019:00:00:38 +0000", "2019-02-06T00:00:38.000Z"],
    ["01/Jan/2026:00:00:00.123456 +0530", "2025-12-31T18:30:00.123Z"],
  ])("%s", (text, iso) => {
    expect(new Date(parseLogTime(text)!).toISOString()).toBe(iso);
  });

  it.each(["10/Foo/2000:13:55:36 -0700", "2000-10-10T20:55:36Z", "10/Oct/2000:25:55:36 -0700", "10/Oct/2000:13:55:36"])("rejects %s", (text) => {
    expect(parseLogTime(text)).toBeUndefined();
  });
});

describe("Apache/nginx combined and common lines", () => {
  it("reads a combined line with an escaped quote in the user agent", () => {
    const line = `192.0.2.10 - builder [20/Nov/2026:14:03:07 +0100] "GET /sstate/${ENCODED} HTTP/1.1" 200 123456 "-" "Wget/1.21.3 \\"ci\\""`;
    expect(parseHttpLogLine(line, "combined")).toEqual({ time: Date.parse("2026-11-20T13:03:07Z"), method: "GET", target: `/sstate/${ENCODED}`, status: 200, userAgent: 'Wget/1.21.3 "ci"' });
  });

  it("reads nginx's main format (combined and a forwarded-for field)", () => {
    const line = `10.0.0.5 - - [20/Nov/2026:14:03:07 +0000] "HEAD /${ARCHIVE} HTTP/1.1" 304 0 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:84.0) Gecko/20100101 Firefox/84.0" "203.0.113.7"`;
    expect(parseHttpLogLine(line, "combined")?.method).toBe("HEAD");
  });

  it("reads a common line, with - for the size", () => {
    const line = `127.0.0.1 - - [20/Nov/2026:14:03:07 +0000] "HEAD /sstate/${ARCHIVE} HTTP/1.0" 304 -`;
    expect(parseHttpLogLine(line, "common")).toEqual({ time: Date.parse("2026-11-20T14:03:07Z"), method: "HEAD", target: `/sstate/${ARCHIVE}`, status: 304 });
  });

  it.each(
    [
      ["a common line read as combined", `127.0.0.1 - - [20/Nov/2026:14:03:07 +0000] "GET /a HTTP/1.1" 200 5`, "combined"],
      ["a combined line read as common", `127.0.0.1 - - [20/Nov/2026:14:03:07 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8"`, "common"],
      ["an error log line", `[Fri Nov 20 14:03:07.123456 2026] [core:error] [pid 1234] AH00126: Invalid URI in request`, "combined"],
      ["a bad timestamp", `127.0.0.1 - - [yesterday] "GET /a HTTP/1.1" 200 5 "-" "curl/8"`, "combined"],
      ["a truncated line", `127.0.0.1 - - [20/Nov/2026:14:03:07 +0000] "GET /a HTT`, "combined"],
    ] as const,
  )("refuses %s", (_, line, format) => {
    expect(parseHttpLogLine(line, format)).toBeUndefined();
  });
});

describe("S3 server access log records (AWS's documented format)", () => {
  const owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
  const record = (operation: string, key: string, status: string, agent: string) =>
    `${owner} sstate-mirror [06/Feb/2026:00:00:38 +0000] 192.0.2.3 ${owner} 3E57427F3EXAMPLE ${operation} ${key} "GET /sstate-mirror/${key} HTTP/1.1" ${status} - 113 113 7 6 "-" "${agent}" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader sstate-mirror.s3.us-west-1.amazonaws.com TLSV1.2 - -`;

  it("reads a GET of a URL-encoded key", () => {
    expect(parseS3LogLine(record("REST.GET.OBJECT", `sstate/${ENCODED}`, "200", "aws-cli/2.15.0 Python/3.11.6"))).toEqual({
      bucket: "sstate-mirror",
      time: Date.parse("2026-02-06T00:00:38Z"),
      operation: "REST.GET.OBJECT",
      key: `sstate/${ENCODED}`,
      status: 200,
      userAgent: "aws-cli/2.15.0 Python/3.11.6",
    });
  });

  it("reads the example records of AWS's documentation (none is a read of an object)", () => {
    const examples = [
      `${owner} awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ${owner} 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV2 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes`,
      `${owner} awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ${owner} A1206F460EXAMPLE REST.GET.BUCKETPOLICY - "GET /awsexamplebucket1?policy HTTP/1.1" 404 NoSuchBucketPolicy 297 - 38 - "-" "S3Console/0.4" - BNaBsXZQQDbssi6xMBdBU2sLt+Yf5kZDmeBUP35sFoKa3sLLeMC78iwEIWxs99CRUrbS4n11234= SigV2 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 - Yes`,
      `${owner} awsexamplebucket1 [06/Feb/2019:00:01:57 +0000] 192.0.2.3 ${owner} DD6CC733AEXAMPLE REST.PUT.OBJECT s3-dg.pdf "PUT /awsexamplebucket1/s3-dg.pdf HTTP/1.1" 200 - - 4406583 41754 28 "-" "S3Console/0.4" - 10S62Zv81kBW7BB6SX4XJ48o6kpcl6LPwEoizZQQxJd5qDSCTLX0TgS37kYUBKQW3+bPdrg1234= SigV4 ECDHE-RSA-AES128-SHA AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 - Yes`,
    ];
    expect(examples.map((line) => parseS3LogLine(line)?.operation)).toEqual(["REST.GET.VERSIONING", "REST.GET.BUCKETPOLICY", "REST.PUT.OBJECT"]);
    const read = lineReader(source("format: s3"));
    expect(examples.map((line) => read(line)?.used)).toEqual([undefined, undefined, undefined]);
    expect(read(examples[2]!.replace("REST.PUT.OBJECT", "REST.GET.OBJECT"))).toEqual({ time: Date.parse("2019-02-06T00:01:57Z"), used: "s3-dg.pdf" });
  });

  it("reads - fields as absent", () => {
    const line = `${owner} sstate-mirror [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.BUCKET - "GET /sstate-mirror?list-type=2 HTTP/1.1" - - - - - - "-" "-" - - - - - - - - -`;
    expect(parseS3LogLine(line)).toMatchObject({ operation: "REST.GET.BUCKET", key: undefined, status: undefined, userAgent: undefined });
  });

  it("refuses a record cut short before its user agent", () => {
    expect(parseS3LogLine(`${owner} sstate-mirror [06/Feb/2026:00:00:38 +0000] 192.0.2.3 ${owner} 3E57 REST.GET.OBJECT a "GET /a HTTP/1.1" 200 -`)).toBeUndefined();
  });

  it("maps reads of the cache's keys to cache paths, and nothing else", () => {
    const read = lineReader(source("format: s3, prefix: sstate, bucket: sstate-mirror"));
    const time = Date.parse("2026-02-06T00:00:38Z");
    expect(read(record("REST.GET.OBJECT", `sstate/${ENCODED}`, "200", "Boto3/1.34"))).toEqual({ time, used: ARCHIVE });
    expect(read(record("REST.HEAD.OBJECT", `sstate/${ENCODED}`, "304", "Boto3/1.34"))).toEqual({ time, used: ARCHIVE });
    expect(read(record("REST.PUT.OBJECT", `sstate/${ENCODED}`, "200", "Boto3/1.34"))).toEqual({ time });
    expect(read(record("REST.GET.OBJECT", `sstate/${ENCODED}`, "404", "Boto3/1.34"))).toEqual({ time });
    expect(read(record("REST.GET.OBJECT", `other/${ENCODED}`, "200", "Boto3/1.34"))).toEqual({ time });
    expect(read(record("REST.GET.OBJECT", `sstate/${ENCODED}`, "200", "aws-sdk-js/3.1169.0 ua/2.1 os/linux md/nodejs#20.20.2 api/s3#3.1169.0 sstate-keeper/0.1.0"))).toEqual({ time });
    expect(read(record("REST.GET.OBJECT", `sstate/${ENCODED}`, "200", "Boto3/1.34").replace(" sstate-mirror ", " other-bucket "))).toEqual({ time });
    expect(read("not a record")).toBeUndefined();
  });
});

describe("which HTTP requests are uses", () => {
  const read = lineReader(source("prefix: /sstate/, ignore-user-agent: [Prometheus]"));
  const line = (request: string, status: number, agent = "Wget/1.21.3") => `192.0.2.10 - - [20/Nov/2026:14:03:07 +0000] "${request}" ${status} 42 "-" "${agent}"`;
  const time = Date.parse("2026-11-20T14:03:07Z");
  const use = { time, used: ARCHIVE };
  const notUse = { time };

  it.each([
    ["a GET answered 200", line(`GET /sstate/${ENCODED} HTTP/1.1`, 200), use],
    ["a HEAD answered 200 (bitbake's mirror check)", line(`HEAD /sstate/${ARCHIVE} HTTP/1.1`, 200), use],
    ["a conditional GET answered 304", line(`GET /sstate/${ARCHIVE} HTTP/1.1`, 304), use],
    ["a range GET answered 206", line(`GET /sstate/${ARCHIVE} HTTP/1.1`, 206), use],
    ["a query string", line(`GET /sstate/${ARCHIVE}?x=1 HTTP/1.1`, 200), use],
    ["an absolute-form target (through a proxy)", line(`GET http://cache.example.com/sstate/${ARCHIVE} HTTP/1.1`, 200), use],
    ["a doubled slash after the prefix", line(`GET /sstate//${ARCHIVE} HTTP/1.1`, 200), use],
    ["a 404", line(`GET /sstate/${ARCHIVE} HTTP/1.1`, 404), notUse],
    ["a PUT", line(`PUT /sstate/${ARCHIVE} HTTP/1.1`, 201), notUse],
    ["a PROPFIND", line(`PROPFIND /sstate/ HTTP/1.1`, 207), notUse],
    ["outside the prefix", line(`GET /downloads/${ARCHIVE} HTTP/1.1`, 200), notUse],
    ["the prefix itself", line(`GET /sstate/ HTTP/1.1`, 200), notUse],
    ["sstate-keeper's own request", line(`GET /sstate/${ARCHIVE} HTTP/1.1`, 200, "sstate-keeper/0.1.0"), notUse],
    ["an ignored user agent", line(`GET /sstate/${ARCHIVE} HTTP/1.1`, 200, "Prometheus/2.45"), notUse],
    ["bad percent-encoding", line(`GET /sstate/%E0%A4%A HTTP/1.1`, 200), notUse],
    ["a garbage request line", line(`\\x16\\x03\\x01`, 400), notUse],
  ])("%s", (_, text, expected) => {
    expect(read(text)).toEqual(expected);
  });
});

describe("streaming lines", () => {
  const collect = async (chunks: string[]) => {
    const lines: [string | undefined, number][] = [];
    await forEachLine(
      (async function* () {
        for (const chunk of chunks) yield new TextEncoder().encode(chunk);
      })(),
      (line, number) => lines.push([line, number]),
    );
    return lines;
  };

  it("splits across chunks, CRLF or LF, with or without a final newline", async () => {
    expect(await collect(["a\r\nb", "c\n", "", "d"])).toEqual([
      ["a", 1],
      ["bc", 2],
      ["d", 3],
    ]);
    expect(await collect(["x\n"])).toEqual([["x", 1]]);
  });

  it("passes an overlong line as undefined without holding it, and goes on", async () => {
    const long = "y".repeat(MAX_LINE_BYTES);
    expect(await collect([long, long, "\nafter\n"])).toEqual([
      [undefined, 1],
      ["after", 2],
    ]);
  });

  it("keeps a multi-byte character cut between chunks", async () => {
    const bytes = new TextEncoder().encode("é\n");
    const lines: (string | undefined)[] = [];
    await forEachLine(
      (async function* () {
        yield bytes.subarray(0, 1);
        yield bytes.subarray(1);
      })(),
      (line) => lines.push(line),
    );
    expect(lines).toEqual(["é"]);
  });
});

describe("the uses: list in a policy", () => {
  it("resolves local logs against the policy file, keeps URLs, and normalises prefixes", () => {
    const { policy, diagnostics } = loadPolicy(
      `version: 1
uses:
  - access-log: [logs/access.log*, /var/log/apache2/other.log]
    prefix: sstate
  - { access-log: "s3://logs/sstate/", format: s3, prefix: /cache/ }
rules: []
`,
      "conf/policy.yaml",
    );
    expect(diagnostics).toEqual([]);
    expect(policy!.uses.map(({ written, location, format, prefix, position }) => ({ written, location, format, prefix, position }))).toEqual([
      { written: "logs/access.log*", location: "conf/logs/access.log*", format: "combined", prefix: "/sstate/", position: { line: 3, col: 18 } },
      { written: "/var/log/apache2/other.log", location: "/var/log/apache2/other.log", format: "combined", prefix: "/sstate/", position: { line: 3, col: 36 } },
      { written: "s3://logs/sstate/", location: "s3://logs/sstate/", format: "s3", prefix: "cache/", position: { line: 5, col: 19 } },
    ]);
  });

  it.each([
    ["an unknown format", "uses:\n  - { access-log: a.log, format: json }", 3],
    ["an unknown key", "uses:\n  - { access-log: a.log, url-prefix: /x/ }", 3],
    ["a source without its log", "uses:\n  - { format: common }", 3],
    ["a bucket for an HTTP log", "uses:\n  - access-log: a.log\n    bucket: logs", 4],
  ])("reports %s at its line", (_, text, line) => {
    const { diagnostics } = loadPolicy(`version: 1\n${text}\nrules: []\n`, "p.yaml");
    expect(diagnostics.map((d) => d.line)).toEqual([line]);
  });
});

describe("unused-for", () => {
  const siginfo = `${ARCHIVE}.siginfo`;
  const other = sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: "zlib-package" });
  const otherSiginfo = `${other}.siginfo`;
  const files = [ARCHIVE, siginfo, other, otherSiginfo].map((path) => ({ path, age: 400 * DAY }));
  const policy = policyFrom(`version: 1
rules:
  - { name: unused, delete: { unused-for: 30d } }
`);

  const evaluated = (uses?: UseRecords) => evaluate({ listing: listingFrom(files), policy, now: NOW, referencedHashes: new Map(), uses, explainKept: true });

  it("without evidence equals older-than", () => {
    const evaluation = evaluated();
    expect(evaluation.deleted.length).toBe(4);
    const young = evaluate({ listing: listingFrom(files.map((f) => ({ ...f, age: 29 * DAY }))), policy, now: NOW, referencedHashes: new Map() });
    expect(young.deleted.length).toBe(0);
  });

  it("keeps an archive used within the window, and its companions with it; shows where the use was logged", () => {
    const uses = new UseRecords();
    const log = uses.addSource("access.log.1");
    uses.record(ARCHIVE, NOW - 5 * DAY, log, 1234);
    uses.record(ARCHIVE, NOW - 50 * DAY, log, 12);
    // A use of only a siginfo keeps the siginfo, not its archive; a use before the window does not keep it.
    uses.record(otherSiginfo, NOW - DAY, log, 99);
    uses.record(other, NOW - 40 * DAY, log, 7);
    const evaluation = evaluated(uses);
    expect(Array.from(evaluation.deleted, (i) => evaluation.listing.path(i))).toEqual([other]);
    const plan = buildPlan(evaluation, {
      tool: { name: "sstate-keeper", version: "test" },
      createdAt: new Date(NOW),
      now: new Date(NOW),
      validForMs: DAY,
      target: "http://cache.example.com/sstate/",
      policy: { path: "p.yaml", sha256: "0".repeat(64) },
      listing: { files: 4, bytes: 400, sha256: "0".repeat(64) },
    });
    const kept = new Map([...plan.keep!].map((file) => [file.path, file]));
    expect(kept.get(siginfo)).toMatchObject({ lastUse: new Date(NOW - 5 * DAY).toISOString(), lastUseFrom: "access.log.1:1234" });
    expect(kept.get(otherSiginfo)).toMatchObject({ lastUseFrom: "access.log.1:99" });
    expect(plan.delete.at(0)).toMatchObject({ path: other, lastUse: new Date(NOW - 40 * DAY).toISOString(), lastUseFrom: "access.log.1:7" });
    expect(canonicalPlannedFile(kept.get(ARCHIVE)!)).toContain(`"lastUse":"${new Date(NOW - 5 * DAY).toISOString()}","lastUseFrom":"access.log.1:1234","mtime"`);
    const why = whyFromEvaluation(evaluation, plan, [siginfo], "/");
    expect(why.answers[0]).toMatchObject({ status: "kept", lastUseFrom: "access.log.1:1234" });
    expect(renderWhyText(why, "p.yaml")).toContain("\n  last used 2026-10-27 12:00 UTC (access.log.1:1234)\n");
    expect(renderMarkdown(plan)).toContain("| unused, last used 2026-09-22 12:00 UTC (access.log.1:7) |");
    expect(renderText(plan)).toContain(`= ${siginfo}  100 B, 400d old, @default, last used 2026-10-27 12:00 UTC (access.log.1:1234)`);
  });

  it("a use older than the mtime changes nothing", () => {
    const uses = new UseRecords();
    uses.record(ARCHIVE, NOW - 500 * DAY, uses.addSource("old.log"), 1);
    const evaluation = evaluated(uses);
    expect(evaluation.deleted.length).toBe(4);
    expect(evaluation.usedAt(0)).toEqual({ time: NOW - 400 * DAY });
  });
});

describe("the shared-s3-mirror preset", () => {
  it("loads, reads the front end's logs, and expires archives by use", () => {
    const text = readFileSync(new URL("../policies/shared-s3-mirror.yaml", import.meta.url), "utf8");
    const policy = policyFrom(text, "policies/shared-s3-mirror.yaml");
    expect(policy.uses.map((use) => [use.location, use.format, use.prefix])).toEqual([["policies/logs/sstate-access.log*", "combined", "/sstate/"]]);
    const fresh = sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: "preset-a" });
    const stale = sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: "preset-b" });
    const files = [fresh, `${fresh}.siginfo`, stale, `${stale}.siginfo`].map((path, i) => ({ path, age: (i < 2 ? 300 : 200) * DAY }));
    const uses = new UseRecords();
    uses.record(fresh, NOW - DAY, uses.addSource("logs/sstate-access.log"), 7);
    const evaluation = evaluate({ listing: listingFrom(files), policy, now: NOW, referencedHashes: new Map(), uses });
    // `stale` is the newest by mtime and stays (keep-newest); `fresh` is older but used yesterday.
    expect(Array.from(evaluation.deleted, (i) => evaluation.listing.path(i))).toEqual([]);
    const unused = evaluate({ listing: listingFrom(files), policy, now: NOW, referencedHashes: new Map() });
    expect(Array.from(unused.deleted, (i) => unused.listing.path(i))).toEqual([fresh, `${fresh}.siginfo`]);
  });
});
