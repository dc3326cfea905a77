import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { parsePlan } from "../src/plan/read-plan.ts";
import { evaluate } from "../src/plan/planner.ts";
import { loadPolicy } from "../src/policy/load.ts";
import { listingOf } from "../src/sstate/listing.ts";
import { DEMO_NOW_ISO, generatedCache } from "./support/cache.ts";
import { testIo, unmatchedRulesIn, withoutWarnings } from "./support/io.ts";
import { deletedPaths } from "./support/listing.ts";

const repo = fileURLToPath(new URL("..", import.meta.url));
const example = join(repo, "policies/example.yaml");
let cache: Awaited<ReturnType<typeof generatedCache>>;
let work: string;

beforeAll(async () => {
  cache = await generatedCache(3000);
  work = await mkdtemp(join(tmpdir(), "keeper-cli-"));
});

async function cli(...argv: string[]) {
  const io = testIo({ cwd: work });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

describe("plan on a generated cache", () => {
  it("writes a plan whose deletions equal the planner's on the generator's ground truth", async () => {
    const result = await cli("plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--out", "plan.json");
    expect(withoutWarnings(result.stderr)).toBe("");
    expect(result.code).toBe(0);
    const plan = parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json");
    // The example's rules for siginfo and temp leftovers find none in a cache this small: said on stderr and in the plan.
    const unmatched = plan.summary.byRule.filter((r) => r.matched.files === 0).map((r) => r.rule);
    expect(unmatched.length).toBeGreaterThan(0);
    expect(unmatchedRulesIn(result.stderr)).toEqual(unmatched);
    expect(plan.summary.warnings?.map((w) => [w.code, w.file, w.severity])).toEqual(unmatched.map(() => ["matched-nothing", plan.policy.path, "warning"]));
    const truth = evaluate({
      listing: listingOf(cache.files),
      policy: loadPolicy(await readFile(example, "utf8"), example).policy!,
      now: Date.parse(DEMO_NOW_ISO),
      referencedHashes: new Map(),
    });
    expect(plan.delete.map((f) => f.path)).toEqual(deletedPaths(truth));
    expect(plan.delete.length).toBeGreaterThan(50);
    expect(plan.listing.files).toBe(cache.files.length);
    expect(plan.summary.delete.files).toBe(plan.delete.length);
    expect(plan.target).toBe(`file://${cache.root}`);
    expect(result.stdout).toContain(`delete  ${plan.delete.length.toLocaleString("en-US")} files`);
  });

  it("is deterministic: two runs give the same plan apart from createdAt/expiresAt/integrity", async () => {
    const first = JSON.parse((await cli("plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--format", "json")).stdout);
    const second = JSON.parse((await cli("plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--format", "json")).stdout);
    for (const plan of [first, second]) for (const key of ["createdAt", "expiresAt", "integrity"]) delete plan[key];
    expect(second).toEqual(first);
  });

  it("renders a markdown PR comment with summary tables and a collapsible list", async () => {
    const { code, stdout } = await cli("plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--format", "markdown");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^### sstate-keeper plan for `file:\/\//);
    expect(stdout).toContain("| rule | action | matched files | matched bytes | decided files | decided bytes |");
    expect(stdout).toContain("| arch | files | bytes |");
    expect(stdout).toContain("| top recipes by bytes freed | files | bytes |");
    expect(stdout).toContain("<details><summary>Files to delete (");
  });

  it("lists kept files with their reasons with --explain", async () => {
    const { stdout } = await cli("plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--format", "json", "--explain");
    const plan = JSON.parse(stdout);
    expect(plan.keep.length + plan.delete.length).toBe(plan.summary.keep.files + plan.summary.delete.files);
    expect(plan.keep.some((f: { decidedBy: string }) => f.decidedBy === "keep-newest")).toBe(true);
  });

  it("exits 3 and names the guard when a guard refuses; the plan is still written for review", async () => {
    const policy = join(work, "strict.yaml");
    await writeFile(policy, "version: 1\nguards: { max-delete-percent: 1 }\nrules:\n  - name: old\n    delete: { older-than: 30d }\n");
    const { code, stderr } = await cli("plan", "--policy", policy, "--target", cache.root, "--now", DEMO_NOW_ISO, "--out", "refused.json");
    expect(code).toBe(3);
    expect(stderr).toMatch(/plan refused by guard: max-delete-percent: the plan deletes \d+ of \d+ managed files/);
    expect(parsePlan(await readFile(join(work, "refused.json"), "utf8"), "refused.json").refused).toBe(true);
  });
});

describe("bad input exits 2 with one clear message and lists nothing", () => {
  it.each([
    { argv: ["plan", "--policy", "nope.yaml", "--target", "/definitely/not/here"], message: "nope.yaml:1:1: cannot read the policy: no such file" },
    { argv: ["plan", "--policy", "{EXAMPLE}", "--target", "{CACHE}", "--now", "yesterday"], message: "--now 'yesterday' is not an ISO 8601 time" },
    { argv: ["plan", "--policy", "{EXAMPLE}", "--target", "{CACHE}", "--format", "html"], message: "--format html: expected one of text, markdown, json" },
    { argv: ["plan", "--policy", "{EXAMPLE}", "--target", "{CACHE}", "--bogus"], message: "plan: Unknown option '--bogus'" },
    { argv: ["plan", "--policy", "{EXAMPLE}"], message: "no target: give --target URL or set 'target:' in the policy" },
    { argv: ["plan", "--policy", "{EXAMPLE}", "--target", "ftp://host/cache"], message: "unsupported target scheme 'ftp://'" },
    { argv: ["plan", "--policy", "{EXAMPLE}", "--target", "s3://key:secret@bucket/x"], message: "must not contain credentials" },
    { argv: ["validate"], message: "validate: name at least one policy file" },
    { argv: ["frobnicate"], message: "unknown command 'frobnicate'" },
  ])("$argv", async ({ argv, message }) => {
    const { code, stderr } = await cli(...argv.map((a) => a.replace("{EXAMPLE}", example).replace("{CACHE}", cache.root)));
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toContain("internal error");
  });

  it.each(["s3://AKIAKEY:s3cr3t-pass@bucket/x", "http://keeper:s3cr3t-pass@127.0.0.1:1/dav/", "webdav+https://keeper:s3cr3t-pass@dav.example/x", "https://keeper:s3cr3t-pass@[::1"])(
    "a refused target URL never prints its password: %s",
    async (url) => {
      for (const argv of [["plan", "--policy", example, "--target", url], ["info", url], ["upload", cache.root, url]]) {
        const { code, stdout, stderr } = await cli(...argv);
        expect(code).toBe(2);
        expect(stdout + stderr).not.toContain("s3cr3t-pass");
        expect(stderr).toContain("***@");
      }
    },
  );

  it("a target that does not exist is a runtime error (exit 1) with what to check", async () => {
    const { code, stderr } = await cli("plan", "--policy", example, "--target", join(work, "missing-cache"));
    expect(code).toBe(1);
    expect(stderr).toContain("no such directory; check the target path");
  });

  it("an invalid policy lists nothing: a target that doesn't exist is never reached", async () => {
    const policy = join(work, "bad.yaml");
    await writeFile(policy, "version: 1\nrules:\n  - name: x\n    delete: { older-than: 30 }\n");
    const { code, stderr } = await cli("plan", "--policy", policy, "--target", "/definitely/not/here");
    expect(code).toBe(2);
    expect(stderr).toBe(`${policy}:4:27: older-than: 30 is not valid; expected a duration such as 30d, 12h or 1w2d (units s m h d w) (a bare number has no unit: write e.g. 30d or 30h)\n`);
  });
});

describe("validate, show and stamps", () => {
  it("validate prints ok for good policies and every problem for bad ones", async () => {
    const good = await cli("validate", example, join(repo, "policies/isar-clean.yaml"));
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("example.yaml: ok (6 rules)");
    const bad = await cli("validate", join(repo, "test/fixtures/policies/every-problem.yaml"));
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(12);
  });

  it("show renders a saved plan and refuses edited, older- and newer-format plans", async () => {
    await cli("plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--out", "show.json");
    const text = await readFile(join(work, "show.json"), "utf8");
    const shown = await cli("show", "show.json", "--format", "markdown");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("### sstate-keeper plan");

    await writeFile(join(work, "edited.json"), text.replace(/"size": \d+/, '"size": 1'));
    const plan = JSON.parse(text);
    plan.delete[0].path = "../outside";
    await writeFile(join(work, "edited.json"), JSON.stringify(plan));
    const edited = await cli("show", "edited.json");
    expect(edited.code).toBe(2);
    expect(edited.stderr).toContain("the plan was changed after it was made");

    await writeFile(join(work, "v1.json"), JSON.stringify({ ...JSON.parse(text), formatVersion: 1 }));
    const older = await cli("show", "v1.json");
    expect(older.code).toBe(2);
    expect(older.stderr).toMatch(/plan format version 1 is not supported by sstate-keeper .* re-plan/);
    await writeFile(join(work, "v3.json"), JSON.stringify({ ...JSON.parse(text), formatVersion: 3 }));
    const newer = await cli("show", "v3.json");
    expect(newer.code).toBe(2);
    expect(newer.stderr).toContain("plan format version 3 is not supported by sstate-keeper");
  });

  it("stamps prints a sorted manifest of sigdata and setscene hashes", async () => {
    const stamps = join(work, "stamps");
    await mkdir(join(stamps, "core2-64-poky-linux/zlib"), { recursive: true });
    await mkdir(join(stamps, "work-shared"), { recursive: true });
    const h1 = "b".repeat(64);
    const h2 = "a".repeat(64);
    await writeFile(join(stamps, `core2-64-poky-linux/zlib/1.3.1.do_package.sigdata.${h1}`), "");
    await writeFile(join(stamps, `work-shared/gcc-source-14.2.0-r0.do_patch_setscene.${h2}.qemux86_64`), "");
    await writeFile(join(stamps, `core2-64-poky-linux/zlib/1.3.1.do_compile.${"c".repeat(64)}`), "");
    const { code, stdout } = await cli("stamps", stamps);
    expect(code).toBe(0);
    expect(stdout.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([h2, h1]);
  });
});

describe("Deno", () => {
  it("gives byte-identical plan JSON (apart from createdAt, expiresAt and integrity)", async () => {
    const argv = ["plan", "--policy", example, "--target", cache.root, "--now", DEMO_NOW_ISO, "--format", "json"];
    const node = await cli(...argv);
    const deno = await promisify(execFile)(join(repo, "node_modules/.bin/deno"), [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-net",
      join(repo, "src/cli.ts"),
      ...argv,
    ], {
      cwd: work,
      maxBuffer: 64 << 20,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    });
    const strip = (json: string) => json.replace(/"(createdAt|expiresAt|integrity)": "[^"]*"/g, '"$1": ""');
    // The same warnings on both runtimes (the example's rules that find nothing in this cache).
    expect(deno.stderr).toBe(node.stderr);
    expect(strip(deno.stdout)).toBe(strip(node.stdout));
  });

  it("runs the CLI through deno task cli and deno task demo (deno.json)", async () => {
    const task = (...argv: string[]) =>
      promisify(execFile)(join(repo, "node_modules/.bin/deno"), ["task", ...argv], { cwd: repo, maxBuffer: 64 << 20, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });
    const help = await task("cli", "--help");
    expect(help.stdout).toContain("usage: sstate-keeper COMMAND [options]");
    const dir = join(work, "deno-task-demo");
    const demo = await task("demo", "--dir", dir, "--files", "100", "--format", "json");
    expect(demo.stderr).toContain(`demo cache: 100 sparse files in ${dir}`);
    expect(parsePlan(demo.stdout, "deno task demo").target).toBe(`file://${dir}`);
  });
});
