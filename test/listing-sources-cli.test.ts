// `list --out` and `plan --listing` end to end on disk: a saved listing plans exactly as the
// cache itself, an S3 Inventory report as AWS writes it plans as listing the bucket would, and
// each bad source ends in one line and exit 2 before any plan is written.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, cp, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryObject, writeInventoryReport } from "../bench/lib/inventory-report.mjs";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { writeCache } from "../src/demo/write.ts";
import { evaluate } from "../src/plan/planner.ts";
import { parsePlan } from "../src/plan/read-plan.ts";
import { loadPolicy } from "../src/policy/load.ts";
import { listingOf } from "../src/sstate/listing.ts";
import { cli, DELETE_OLD_POLICY, listing, PLANNED_AT } from "./support/apply-fixture.ts";
import { deletedPaths } from "./support/listing.ts";

const EXAMPLE = fileURLToPath(new URL("../policies/example.yaml", import.meta.url));
const NOW = new Date(DEMO_NOW).toISOString();
const REAL_NAMES = (await readFile(new URL("./fixtures/real-sstate-names.txt", import.meta.url), "utf8"))
  .split("\n")
  .filter((line) => line !== "" && !line.startsWith("#") && line.includes("sstate:"))
  .map((line) => line.replace(/^(\.\/|file:\/\/)/, ""));
const ODD_NAMES = ["odd/with space.tar.zst", "odd/plus+sign.tgz", "odd/per%cent.siginfo", "odd/é中😀.tar.zst"];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "keeper-sources-"));
  await writeCache(join(work, "cache"), generateCache({ files: 2000, now: DEMO_NOW }));
  await writeFile(join(work, "delete-old.yaml"), DELETE_OLD_POLICY);
});
afterAll(() => rm(work, { recursive: true, force: true }));

const plan = (...argv: string[]) => cli(work, ["plan", "--policy", EXAMPLE, "--now", NOW, ...argv]);
const planText = (file: string) => readFile(join(work, file), "utf8");
/** A plan's text without its integrity line and its listing's source (the only differences a source makes). */
const withoutSource = (text: string) => text.replace(/,\n {4}"source": \{\n(?: {6}.*\n)+ {4}\}/, "").replace(/\n {2}"integrity": .*\n/, "\n");
const sha256Of = async (file: string) => createHash("sha256").update(await readFile(join(work, file))).digest("hex");

/** stderr of an invalid-input run: one line, no stack. */
function expectOneLine(result: { code: number; stderr: string }, message: RegExp) {
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.code).toBe(2);
}

describe("list --out, then plan --listing", () => {
  it("plans byte for byte as planning the cache itself, apart from the recorded source", async () => {
    const listed = await cli(work, ["list", "cache", "--out", "listing.gz"]);
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^file://${work}/cache: 2,000 files, [\\d.]+ GiB, listing sha256 [0-9a-f]{64}, saved to listing.gz\\n$`));
    expect((await plan("--target", "cache", "--out", "live.json")).code).toBe(0);
    const fromSaved = await plan("--target", "cache", "--listing", "listing.gz", "--out", "saved.json");
    expect(fromSaved.code).toBe(0);
    const [live, saved] = [await planText("live.json"), await planText("saved.json")];
    expect(saved).not.toBe(live);
    expect(withoutSource(saved)).toBe(withoutSource(live));
    const stored = parsePlan(saved, "saved.json");
    expect(stored.listing).toEqual({
      ...parsePlan(live, "live.json").listing,
      source: { kind: "saved-listing", location: "listing.gz", listedAt: PLANNED_AT.toISOString(), sha256: await sha256Of("listing.gz") },
    });
    expect(listed.stdout).toContain(stored.listing.sha256);
    expect(fromSaved.stdout).toContain(`  listing from the saved listing listing.gz of ${PLANNED_AT.toISOString()}, 0s old when planned; apply checks each file on the target\n`);
    const markdown = await plan("--target", "cache", "--listing", "listing.gz", "--format", "markdown");
    expect(markdown.stdout).toContain(`**Listing** from the saved listing \`listing.gz\` of ${PLANNED_AT.toISOString()}, 0s old when planned`);
  });

  it("without --out prints the totals and the digest plans record", async () => {
    const listed = await cli(work, ["list", "cache"]);
    expect(listed.code).toBe(0);
    const live = parsePlan(await planText("live.json"), "live.json");
    expect(listed.stdout).toBe(`file://${work}/cache: 2,000 files, ${listed.stdout.match(/, ([\d.]+ GiB),/)![1]}, listing sha256 ${live.listing.sha256}\n`);
  });

  it("why --listing explains a file from the saved listing", async () => {
    const live = parsePlan(await planText("live.json"), "live.json");
    const file = live.delete[0]!.path;
    const why = await cli(work, ["why", file, "--policy", EXAMPLE, "--target", "cache", "--listing", "listing.gz", "--now", NOW, "--format", "json"]);
    expect(why.code).toBe(0);
    expect(JSON.stringify(JSON.parse(why.stdout))).toContain(live.delete[0]!.decidedBy);
  });

  it("apply skips, and does not delete, what changed or went on the target since the listing (exit 4)", async () => {
    const dir = join(work, "apply");
    await writeCache(join(dir, "cache"), generateCache({ files: 300, now: DEMO_NOW }));
    await writeFile(join(dir, "policy.yaml"), DELETE_OLD_POLICY);
    expect((await cli(dir, ["list", "cache", "--out", "listing.gz"])).code).toBe(0);
    const planned = await cli(dir, ["plan", "--policy", "policy.yaml", "--target", "cache", "--listing", "listing.gz", "--now", NOW, "--out", "plan.json"]);
    expect(planned.code).toBe(0);
    const stored = parsePlan(await readFile(join(dir, "plan.json"), "utf8"), "plan.json");
    const [rewritten, gone] = stored.delete.filter((file) => file.size > 0).map((file) => file.path);
    await appendFile(join(dir, "cache", rewritten!), "rebuilt");
    await rm(join(dir, "cache", gone!));
    const applied = await cli(dir, ["apply", "plan.json"]);
    expect(applied.code).toBe(4);
    const left = (await listing(join(dir, "cache"))).map((file) => file.path);
    expect(left).toContain(rewritten);
    expect(left.filter((path) => stored.delete.some((file) => file.path === path))).toEqual([rewritten]);
  });

  const corruptions: [string, () => Promise<string>, RegExp][] = [
    ["a missing file", async () => "nothing-here.gz", /^--listing nothing-here\.gz: no such file or directory\n$/],
    ["a file that is not gzip", async () => writeSource("plain.gz", "not a listing\n"), /^plain\.gz: is not gzip/],
    ["a truncated file", async () => writeSource("truncated.gz", (await readFile(join(work, "listing.gz"))).subarray(0, 5000)), /^truncated\.gz: the gzip stream ends early \(truncated file\?\)\n$/],
    ["a bad header", async () => writeSource("header.gz", gzipSync('{"format":"other"}\n')), /^header\.gz: not a saved listing \(no "format": "sstate-keeper listing" in its header\)/],
    ["another version", async () => writeSource("v9.gz", gzipSync(await savedWith((header) => ({ ...header, version: 9 })))), /^v9\.gz: saved listing version 9 is not supported/],
    ["a bad record", async () => writeSource("record.gz", gzipSync(await savedWith((h) => h, (lines) => [...lines.slice(0, 5), "[1]", ...lines.slice(5)]))), /^record\.gz:7: not a file's record/],
    [
      "a digest mismatch",
      async () => writeSource("edited.gz", gzipSync(await savedWith((h) => h, (lines) => lines.map((line, i) => (i === 3 ? line.replace(/,(\d+)\]$/, ",1$1]") : line))))),
      /^edited\.gz: the records do not match the header \(sha256 [0-9a-f]{64}, the header says [0-9a-f]{64}\)/,
    ],
    [
      "a listing of another target",
      async () => writeSource("other.gz", gzipSync(await savedWith((header) => ({ ...header, target: "file:///elsewhere" })))),
      /^other\.gz: a listing of file:\/\/\/elsewhere, not of the target file:\/\//,
    ],
  ];
  it.each(corruptions)("refuses %s: one line, exit 2, no plan written", async (_name, make, message) => {
    const source = await make();
    const result = await plan("--target", "cache", "--listing", source, "--out", "refused.json");
    expectOneLine(result, message);
    expect(existsSync(join(work, "refused.json"))).toBe(false);
  });
});

async function writeSource(name: string, content: string | Uint8Array): Promise<string> {
  await writeFile(join(work, name), content);
  return name;
}

/** The saved listing's lines, with its header and records edited. */
async function savedWith(header: (header: Record<string, unknown>) => Record<string, unknown>, records: (lines: string[]) => string[] = (lines) => lines): Promise<string> {
  const { gunzipSync } = await import("node:zlib");
  const [first, ...rest] = gunzipSync(await readFile(join(work, "listing.gz"))).toString("utf8").trimEnd().split("\n");
  return `${[JSON.stringify(header(JSON.parse(first!))), ...records(rest)].join("\n")}\n`;
}

describe("plan --listing on an S3 Inventory report", () => {
  const BUCKET = "ci-sstate";
  const CREATED = DEMO_NOW - 6 * 3600_000;
  const cacheFiles = [...generateCache({ files: 3000, seed: 2, now: DEMO_NOW })];
  const ours = [
    ...cacheFiles,
    ...REAL_NAMES.map((path, i) => ({ path, size: 1000 + i, mtimeMs: DEMO_NOW - 40 * 86400_000 - i })),
    ...ODD_NAMES.map((path) => ({ path, size: 7, mtimeMs: DEMO_NOW - 50 * 86400_000 })),
  ];
  const objects: InventoryObject[] = [
    ...ours.map((file) => ({ key: `sstate/${file.path}`, size: file.size, mtimeMs: file.mtimeMs })),
    // Not the listing: another prefix, a folder marker, an older version, a delete marker.
    { key: "other/sstate:x::1:r0::14:00_fetch.tar.zst", size: 1, mtimeMs: DEMO_NOW },
    { key: "sstate/folder/", size: 0, mtimeMs: DEMO_NOW },
    { key: `sstate/${cacheFiles[0]!.path}`, size: 99, mtimeMs: DEMO_NOW - 400 * 86400_000, isLatest: false, versionId: "old" },
    { key: "sstate/deleted/sstate:y::1:r0::14:00_fetch.tar.zst", size: 0, mtimeMs: DEMO_NOW, isDeleteMarker: true, isLatest: true },
  ];
  const SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IntelligentTieringAccessTier";
  let report: Awaited<ReturnType<typeof writeInventoryReport>>;
  let reportDir: string;

  beforeAll(async () => {
    report = await writeInventoryReport(join(work, "inventory"), {
      sourceBucket: BUCKET,
      destinationBucket: "inventories",
      destinationPrefix: "reports",
      createdAt: CREATED,
      schema: SCHEMA,
      objectsPerFile: 1000,
      objects,
    });
    reportDir = relative(work, dirname(report.manifestPath));
  });

  it("plans what listing the bucket's prefix would give, and records the inventory", async () => {
    const result = await plan("--target", `s3://${BUCKET}/sstate`, "--listing", reportDir, "--out", "inventory.json");
    expect(result.stderr.replace(/^.*: warning: .*\n/gm, "")).toBe("");
    expect(result.code).toBe(0);
    const stored = parsePlan(await planText("inventory.json"), "inventory.json");
    // What the S3 listing would give: whole seconds, ETags (quoted) from the inventory.
    const truth = evaluate({
      listing: listingOf(ours.map((file) => ({ ...file, mtimeMs: Math.floor(file.mtimeMs / 1000) * 1000 }))),
      policy: loadPolicy(await readFile(EXAMPLE, "utf8"), EXAMPLE).policy!,
      now: DEMO_NOW,
      referencedHashes: new Map(),
    });
    expect(stored.delete.map((file) => file.path)).toEqual(deletedPaths(truth));
    expect(stored.delete.length).toBeGreaterThan(100);
    expect(stored.delete[0]!.etag).toBe(`"${createHash("md5").update(`sstate/${stored.delete[0]!.path}`).digest("hex")}"`);
    expect(stored.listing).toEqual({
      files: ours.length,
      bytes: truth.listing.bytes,
      sha256: truth.listing.sha256,
      source: { kind: "s3-inventory", location: reportDir, listedAt: new Date(CREATED).toISOString(), sha256: createHash("sha256").update(await readFile(report.manifestPath)).digest("hex") },
    });
    expect(result.stdout).toContain(`  listing from the S3 Inventory ${reportDir} of ${new Date(CREATED).toISOString()}, 7h old when planned;`);
  });

  it("finds the data files of a report copied without the bucket's layout above it (CONFIG/data beside CONFIG/DATE)", async () => {
    const copy = join(work, "copied-config");
    await cp(dirname(dirname(report.manifestPath)), copy, { recursive: true });
    const manifest = join("copied-config", relative(dirname(dirname(report.manifestPath)), report.manifestPath));
    const result = await plan("--target", `s3://${BUCKET}/sstate`, "--listing", manifest, "--format", "json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).listing.source.location).toBe(manifest);
  });

  it.each([
    ["s3://bucket/%E9/manifest.json", /^--listing s3:\/\/bucket\/%E9\/manifest\.json: not a valid s3:\/\/BUCKET\/KEY URL\n$/],
    ["s3://key:secret@bucket/manifest.json", /^--listing: an s3:\/\/ source is s3:\/\/BUCKET\/KEY, without credentials or options/],
    ["s3://bucket/reports/listing.gz", /an s3:\/\/ source is an inventory's manifest\.json \(or the folder holding it\)/],
  ])("refuses the s3:// source %s before opening the bucket", async (source, message) => {
    const result = await plan("--target", `s3://${BUCKET}/sstate`, "--listing", source);
    expectOneLine(result, message);
    expect(result.stderr).not.toContain("secret");
  });

  type Corruption = (report: { manifest: string; checksum: string; data: string[] }) => Promise<unknown>;
  const rewriteManifest = (edit: (manifest: Record<string, unknown>) => Record<string, unknown> | string): Corruption => async ({ manifest, checksum }) => {
    const edited = edit(JSON.parse(await readFile(manifest, "utf8")));
    const text = typeof edited === "string" ? edited : JSON.stringify(edited);
    await writeFile(manifest, text);
    await writeFile(checksum, createHash("md5").update(text).digest("hex"));
  };
  const bad: [string, Corruption, RegExp, string?][] = [
    ["a manifest that is not JSON", rewriteManifest(() => "{ not json"), /manifest\.json: not an S3 Inventory manifest \(not JSON: /],
    ["missing fields", rewriteManifest(({ files: _files, fileSchema: _schema, ...rest }) => rest), /manifest\.json: not an S3 Inventory manifest: no fileSchema, files\n$/],
    ["an unknown fileFormat", rewriteManifest((m) => ({ ...m, fileFormat: "JSON" })), /unknown fileFormat 'JSON'/],
    ["a Parquet report", rewriteManifest((m) => ({ ...m, fileFormat: "Parquet" })), /a Parquet inventory report; only CSV reports are read/],
    ["a fileSchema without Key", rewriteManifest((m) => ({ ...m, fileSchema: "Bucket, Size, LastModifiedDate" })), /the fileSchema 'Bucket, Size, LastModifiedDate' has no Key/],
    ["a missing data file", ({ data }) => rm(data[1]!), /: a data file the manifest names is missing; copy the whole report/],
    [
      "a data file with another MD5",
      rewriteManifest((m) => ({ ...m, files: (m.files as { MD5checksum: string }[]).map((f, i) => ({ ...f, MD5checksum: i === 2 ? "0".repeat(32) : f.MD5checksum })) })),
      /\.csv\.gz: MD5 [0-9a-f]{32} where the manifest says 0{32}: the data file was changed or damaged/,
    ],
    ["a truncated data file", async ({ data }) => truncate(data[0]!, 100), /\.csv\.gz: the gzip stream ends early/],
    ["a bad manifest checksum", ({ checksum }) => writeFile(checksum, "0".repeat(32)), /manifest\.json: its MD5 is [0-9a-f]{32} but manifest\.checksum says 0{32}/],
    ["a missing manifest.checksum", ({ checksum }) => rm(checksum), /manifest\.checksum: no such file \(an S3 Inventory report has manifest\.json and manifest\.checksum side by side\)/],
    ["another bucket", async () => undefined, /: an inventory of bucket 'ci-sstate', not of the target's bucket 'other-bucket' \(s3:\/\/other-bucket\/sstate\)\n$/, "s3://other-bucket/sstate"],
    ["a target that is not S3", async () => undefined, /: an S3 Inventory lists an S3 bucket, and the target is file:\/\/.*; give --target s3:\/\/ci-sstate\[\/PREFIX\]\n$/, "cache"],
  ];
  it.each(bad)("refuses %s: one line, exit 2, no plan written", async (_name, corrupt, message, target = `s3://${BUCKET}/sstate`) => {
    const copy = await mkdtemp(join(work, "bad-report-"));
    await cp(join(work, "inventory"), copy, { recursive: true });
    const manifest = join(copy, relative(join(work, "inventory"), report.manifestPath));
    await corrupt({ manifest, checksum: join(dirname(manifest), "manifest.checksum"), data: report.dataPaths.map((path) => join(copy, relative(join(work, "inventory"), path))) });
    const result = await plan("--target", target, "--listing", manifest, "--out", "refused.json");
    expectOneLine(result, message);
    expect(existsSync(join(work, "refused.json"))).toBe(false);
  });
});
