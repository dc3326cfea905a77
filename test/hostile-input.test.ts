import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { readPolicyFile } from "../src/evidence/policy-file.ts";
import { MAX_MANIFEST_BYTES } from "../src/evidence/references.ts";
import { MAX_POLICY_BYTES } from "../src/policy/load.ts";
import { testIo } from "./support/io.ts";

const HASH = "0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f";
/** Every hostile case must end this fast (they take milliseconds; the bound is for a hang). */
const CASE_BOUND_MS = 5_000;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keeper-hostile-"));
});

async function validate(name: string, content: string | Uint8Array): Promise<{ code: number; stderr: string; file: string; ms: number }> {
  const file = join(work, name);
  await writeFile(file, content);
  return validateFile(file);
}

async function validateFile(file: string) {
  const io = testIo({ cwd: work });
  const started = Date.now();
  const code = await run(["validate", file], io);
  return { code, stderr: io.stderrText, file, ms: Date.now() - started };
}

const nine = (item: string) => `[${Array(9).fill(item).join(", ")}]`;
const aliasBomb = ["a: &a " + nine('"lol"'), ..."bcdefgh".split("").map((level, i) => `${level}: &${level} ${nine(`*${"abcdefgh"[i]}`)}`), "version: 1", "rules: []", ""].join("\n");
const manyAliases = `version: 1\nrules: []\nx: &x 1\ny: [${Array(101).fill("*x").join(", ")}]\n`;
const nested = (depth: number) => `version: 1\nrules: []\nx: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;

describe("a hostile policy is bad input: exit 2 and one located message, at once", () => {
  it.each([
    { title: "alias bomb (a billion laughs)", content: aliasBomb, at: "6:7", message: "this holds more than 100,000 values (its aliases expanded)" },
    { title: "alias before its anchor", content: "version: 1\nrules: *later\nx: &later []\n", at: "2:8", message: "alias *later refers to no anchor &later before it" },
    { title: "alias inside its own anchor", content: "version: 1\nrules: &loop [*loop]\n", at: "2:15", message: "alias *loop is inside its own anchor" },
    { title: "too many aliases", content: manyAliases, at: "4:405", message: "more than 100 aliases" },
    { title: "nested 100 levels", content: nested(100), at: "3:67", message: "nested more than 64 levels deep" },
    { title: "nested 100,000 levels", content: nested(100_000), at: "3:", message: "nested too deeply to read" },
    { title: "duplicate key", content: "version: 1\nrules: []\nversion: 1\n", at: "3:1", message: "duplicate key 'version' (first on line 1)" },
    { title: "duplicate key in a rule", content: "version: 1\nrules:\n  - name: a\n    delete: { pn: x, pn: y }\n", at: "4:22", message: "duplicate key 'pn' (first on line 4)" },
    { title: "a list as a key", content: "version: 1\nrules: []\n? [a, b]\n: 1\n", at: "3:3", message: "a key must be a plain word, not a list" },
    { title: "rules is a mapping", content: "version: 1\nrules: { a: 1 }\n", at: "2:8", message: "rules: must be array" },
    { title: "a rule is a number", content: "version: 1\nrules: [5]\n", at: "2:9", message: "rules.0: must be object" },
    { title: "version is a string", content: 'version: "1"\nrules: []\n', at: "1:10", message: 'policy version "1" is not supported' },
    { title: "version is binary", content: "version: !!binary aGVsbG8=\nrules: []\n", at: "1:19", message: "is not supported" },
    { title: "selector value is a mapping", content: "version: 1\nrules:\n  - name: a\n    delete: { older-than: { a: 1 } }\n", at: "4:27", message: 'older-than: {"a":1} is not valid' },
    {
      title: "a huge value is cut in the message",
      content: `version: 1\nrules:\n  - name: a\n    delete: { older-than: "${"9".repeat(100_000)}" }\n`,
      at: "4:27",
      message: `older-than: "${"9".repeat(59)}… is not valid`,
    },
    {
      title: "a glob minimatch refuses",
      content: `version: 1\nrules:\n  - name: a\n    delete: { pn: "${"*a".repeat(40_000)}" }\n`,
      at: "4:19",
      message: "is not a glob it can match: pattern is too long",
    },
    { title: "two documents", content: "version: 1\nrules: []\n---\nversion: 1\n", at: "3:1", message: "Source contains multiple documents" },
    {
      title: "non-UTF-8 byte",
      content: Buffer.concat([Buffer.from("version: 1\nrules: []\ndescription: caf"), Buffer.from([0xe9]), Buffer.from("\n")]),
      at: "3:17",
      message: "the policy is not UTF-8 text: byte 0xe9 here is not valid UTF-8",
    },
    { title: "binary file", content: Uint8Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) % 256), at: "1:", message: "is not UTF-8 text" },
    {
      title: "over the size limit",
      content: `version: 1\nrules: []\ndescription: "${"x".repeat(MAX_POLICY_BYTES)}"\n`,
      at: "1:1",
      message: "the policy is larger than 256.0 KiB, the most a policy may be",
    },
    {
      title: "target with credentials",
      content: "version: 1\ntarget: s3://AKIAEXAMPLE:hunter2-secret@bucket/sstate\nrules: []\n",
      at: "2:9",
      message: "target: a target URL must not contain credentials (s3://***@bucket/sstate)",
    },
    {
      title: "target with a user only",
      content: "version: 1\ntarget: https://builder@dav.example.com/sstate/\nrules: []\n",
      at: "2:9",
      message: "must not contain credentials (https://***@dav.example.com/sstate/)",
    },
    { title: "target that is no URL", content: "version: 1\ntarget: 'http://[::1'\nrules: []\n", at: "2:9", message: "target: 'http://[::1' is not a valid URL" },
    { title: "target with an unknown scheme", content: "version: 1\ntarget: ftp://mirror/sstate\nrules: []\n", at: "2:9", message: "target: unsupported target scheme 'ftp://'" },
    { title: "target with bad percent-encoding", content: "version: 1\ntarget: s3://bucket/%zz\nrules: []\n", at: "2:9", message: "'%zz' in the S3 prefix is not valid percent-encoding" },
    { title: "target file URL with a host", content: "version: 1\ntarget: file://otherhost/sstate\nrules: []\n", at: "2:9", message: "is not a local path" },
    {
      title: "target of a megabyte",
      content: `version: 1\ntarget: ${"t".repeat(200_000)}\nrules: []\n`,
      at: "2:9",
      message: "target: a target of 200000 characters is longer than any path or URL (at most 4096)",
    },
    { title: "target is a number", content: "version: 1\ntarget: 5\nrules: []\n", at: "2:9", message: "target: must be string" },
  ])("$title", async ({ title, content, at, message }) => {
    const { code, stderr, file, ms } = await validate(`${title.replace(/\W+/g, "-")}.yaml`, content);
    expect(stderr).not.toContain("internal error");
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toContain(`${file}:${at}`);
    expect(stderr).toContain(message);
    expect(ms).toBeLessThan(CASE_BOUND_MS);
    expect(stderr).not.toContain("hunter2");
    expect(stderr).not.toContain("builder@");
  });

  it("the message about credentials masks them before any redaction of the output", async () => {
    const file = join(work, "credentials.yaml");
    await writeFile(file, "version: 1\ntarget: http://keeper:hunter2-secret@dav.example.com/sstate/\nrules: []\n");
    const { diagnostics } = await readPolicyFile(file, work);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "invalid-target", line: 2, col: 9 });
    expect(diagnostics[0]!.message).not.toContain("hunter2");
    expect(diagnostics[0]!.message).not.toContain("keeper:");
  });

  it("plan refuses such a policy before listing anything", async () => {
    const file = join(work, "plan-credentials.yaml");
    await writeFile(file, "version: 1\ntarget: s3://AKIAEXAMPLE:hunter2-secret@bucket/sstate\nrules: []\n");
    const io = testIo({ cwd: work });
    expect(await run(["plan", "--policy", file, "--target", "/definitely/not/here"], io)).toBe(2);
    expect(io.stderrText).toBe(
      `${file}:2:9: target: a target URL must not contain credentials (s3://***@bucket/sstate); use the environment (AWS_*, SSTATE_KEEPER_WEBDAV_USER/PASSWORD) or ~/.netrc\n`,
    );
  });

  it("a directory, a missing file and a FIFO without a writer are refused without waiting", async () => {
    const fifo = join(work, "policy.fifo");
    execFileSync("mkfifo", [fifo]);
    for (
      const [file, message] of [
        [work, "cannot read the policy: it is a directory"],
        [join(work, "missing.yaml"), "cannot read the policy: no such file"],
        [fifo, "cannot read the policy: not a regular file"],
      ] as const
    ) {
      const { code, stderr, ms } = await validateFile(file);
      expect(code).toBe(2);
      expect(stderr).toBe(`${file}:1:1: ${message}\n`);
      expect(ms).toBeLessThan(CASE_BOUND_MS);
    }
  });

  it("a file with thousands of problems prints the first 50 and counts the rest", async () => {
    const rules = Array.from({ length: 300 }, (_, i) => `  - name: r${i}\n    delete: { older-than: ${i} }\n`).join("");
    const { code, stderr, file } = await validate("many-problems.yaml", `version: 1\nrules:\n${rules}`);
    expect(code).toBe(2);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(51);
    expect(lines[0]).toMatch(new RegExp(`^${file}:4:27: older-than: 0 is not valid`));
    expect(lines[50]).toBe(`… and 250 more problems in ${file}`);
  });
});

describe("a hostile hashes manifest is bad input, located in the manifest", () => {
  const policyFor = (manifest: string) => `version: 1\nrules:\n  - name: release\n    keep: { hashes: ${manifest} }\n  - name: rest\n    delete: { all: true }\n`;

  it.each([
    {
      title: "not UTF-8",
      content: Buffer.concat([Buffer.from(`${HASH}\n${HASH.slice(0, 10)}`), Buffer.from([0xff, 0xfe]), Buffer.from("\n")]),
      expected: ["2:11: the hashes manifest is not UTF-8 text: byte 0xff here is not valid UTF-8"],
    },
    { title: "a very long bad line", content: `${HASH}\n${"z".repeat(1_000_000)}\n`, expected: [`2:1: '${"z".repeat(80)}…' is neither a unihash (32 or 64 hex) nor an sstate file name`] },
    {
      title: "thousands of bad lines",
      content: Array.from({ length: 5000 }, (_, i) => `line-${i}`).join("\n"),
      expected: ["1:1: 'line-0' is neither a unihash", "20:1: 'line-19' is neither", "21:1: … and 4980 more lines from here on that are neither a unihash nor an sstate file name"],
    },
  ])("$title", async ({ title, content, expected }) => {
    const manifest = join(work, `${title.replace(/\W+/g, "-")}.hashes`);
    await writeFile(manifest, content);
    const { code, stderr, ms } = await validate(`${title.replace(/\W+/g, "-")}-policy.yaml`, policyFor(manifest));
    expect(stderr).not.toContain("internal error");
    expect(code).toBe(2);
    for (const line of expected) expect(stderr).toContain(`${manifest}:${line}`);
    expect(stderr.trimEnd().split("\n").length).toBeLessThanOrEqual(21);
    expect(ms).toBeLessThan(CASE_BOUND_MS);
  });

  it("a manifest over the size limit is refused before it is read", async () => {
    const manifest = join(work, "huge.hashes");
    await writeFile(manifest, "");
    await truncate(manifest, MAX_MANIFEST_BYTES + 1);
    const { code, stderr, ms } = await validate("huge-manifest-policy.yaml", policyFor(manifest));
    expect(code).toBe(2);
    expect(stderr).toBe(`${manifest}:1:1: the hashes manifest is larger than 32.0 MiB, the most a hashes manifest may be\n`);
    expect(ms).toBeLessThan(CASE_BOUND_MS);
  });

  it("an unreadable stamps directory is reported where the policy names it", async () => {
    const stamps = join(work, "stamps-locked");
    await mkdir(join(stamps, "sub"), { recursive: true });
    execFileSync("chmod", ["000", join(stamps, "sub")]);
    const { code, stderr, file } = await validate("locked-stamps.yaml", `version: 1\nrules:\n  - name: release\n    keep: { stamps: ${stamps} }\n`);
    execFileSync("chmod", ["755", join(stamps, "sub")]);
    if (process.getuid?.() === 0) return void expect(code).toBe(0);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^${file}:4:22: cannot read stamps directory '${stamps}': EACCES`));
  });
});

describe("a plan file that is not text is refused before it is parsed", () => {
  it.each([
    { title: "a FIFO without a writer", make: (file: string) => execFileSync("mkfifo", [file]), expected: (file: string) => `${file}: cannot read the plan: not a regular file` },
    {
      title: "not UTF-8",
      make: (file: string) => writeFileSync(file, Buffer.from([0x7b, 0x0a, 0x22, 0xc3, 0x28, 0x22])),
      expected: (file: string) => `${file}:2:2: the plan is not UTF-8 text: byte 0xc3 here is not valid UTF-8`,
    },
  ])("$title", async ({ title, make, expected }) => {
    const file = join(work, `${title.replace(/\W+/g, "-")}.json`);
    make(file);
    for (const command of ["show", "apply"]) {
      const io = testIo({ cwd: work });
      const started = Date.now();
      expect(await run([command, file], io)).toBe(2);
      expect(io.stderrText).toBe(`${expected(file)}\n`);
      expect(Date.now() - started).toBeLessThan(CASE_BOUND_MS);
    }
  });
});
