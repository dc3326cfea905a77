// diff, plan --diff and why against a real WebDAV server (Apache, Basic auth): two policies
// planned on one seeded cache, and the answers checked against what was seeded.
import { mkdir, mkdtemp, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { run } from "../../src/cli/main.ts";
import type {} from "../support/global-servers.ts";
import { testIo } from "../support/io.ts";
import { DAY, sstatePath } from "../support/listing.ts";

const PNS = ["busybox", "zlib", "keep-me", "glibc"];
/** Ages in days: the old and the middling are what the two policies disagree on. */
const AGES = [400, 200, 2];

interface Seeded {
  path: string;
  pn: string;
  ageDays: number;
}

function cacheContent(builds = 120): Seeded[] {
  const files: Seeded[] = [];
  for (let i = 0; i < builds; i++) {
    const pn = PNS[i % PNS.length]!;
    const archive = sstatePath({ pn, arch: "core2-64", task: ["populate_sysroot", "package"][i % 2]!, seed: `diff-why-${i}` });
    const ageDays = AGES[i % AGES.length]!;
    files.push({ path: archive, pn, ageDays }, { path: `${archive}.siginfo`, pn, ageDays });
  }
  return files;
}

const APPROVED = "version: 1\nguards: { max-delete-percent: 100 }\nrules:\n  - name: expire-old\n    delete: { older-than: 300d }\n";
const FRESH = "version: 1\nguards: { max-delete-percent: 100 }\nrules:\n  - name: keep-me\n    keep: { pn: keep-me }\n  - name: expire\n    delete: { older-than: 100d }\n";

describe("diff and why on WebDAV (Apache, Basic auth)", () => {
  const server = inject("webdav");
  const name = `diff-why-${Date.now().toString(36)}`;
  const target = `${server.url}${name}/`;
  const env = server.user === undefined ? {} : { SSTATE_KEEPER_WEBDAV_USER: server.user, SSTATE_KEEPER_WEBDAV_PASSWORD: server.password };
  const content = cacheContent();
  let work: string;

  /** WebDAV objects are files in Apache's data directory: their mtimes are set directly. */
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "keeper-remote-diff-"));
    const now = Date.now();
    for (const file of content) {
      const path = join(server.dataDir, name, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, "x");
      const seconds = (now - file.ageDays * DAY) / 1000;
      await utimes(path, seconds, seconds);
    }
    await writeFile(join(work, "approved.yaml"), APPROVED);
    await writeFile(join(work, "fresh.yaml"), FRESH);
  });

  const cli = async (...argv: string[]) => {
    const io = testIo({ cwd: work, env });
    const code = await run(argv, io);
    return { code, stdout: io.stdoutText, stderr: io.stderrText };
  };
  const sorted = <T extends { path: string }>(items: T[]) => items.sort((a, b) => (a.path < b.path ? -1 : 1));
  const expected = sorted([
    ...content.filter((f) => f.ageDays === 200 && f.pn !== "keep-me").map((f) => ({ change: "newly-deleted", path: f.path, decidedBy: "expire" })),
    ...content.filter((f) => f.ageDays === 400 && f.pn === "keep-me").map((f) => ({ change: "no-longer-deleted", path: f.path, decidedBy: "expire-old" })),
    ...content.filter((f) => f.ageDays === 400 && f.pn !== "keep-me").map((f) => ({ change: "other-rule", path: f.path, decidedBy: "expire", previousDecidedBy: "expire-old" })),
  ]);

  it("diff of two plans made on the server, and plan --diff, name exactly the seeded changes", async () => {
    for (const [policy, out] of [["approved.yaml", "approved.json"], ["fresh.yaml", "fresh.json"]]) {
      const planned = await cli("plan", "--policy", policy!, "--target", target, "--out", out!, "--format", "json");
      expect(planned.stderr).toBe("");
      expect(planned.code).toBe(0);
    }
    const diff = await cli("diff", "approved.json", "fresh.json", "--format", "json");
    expect(diff.code).toBe(0);
    const changes = JSON.parse(diff.stdout).changes.map(({ size: _size, ...change }: { size: number }) => change);
    expect(changes).toEqual(expected);
    const inline = await cli("plan", "--policy", "fresh.yaml", "--target", target, "--diff", "approved.json", "--format", "json");
    expect(inline.code).toBe(0);
    expect(JSON.parse(inline.stdout).changes.map(({ size: _size, ...change }: { size: number }) => change)).toEqual(expected);
    const markdown = await cli("diff", "approved.json", "fresh.json", "--format", "markdown", "--max-chars", "4000");
    expect(markdown.stdout.length).toBeLessThanOrEqual(4000);
    expect(markdown.stdout).toContain(`plan changes for \`${target}\``);
  });

  it("why, from the plan and from the policy on the server, gives each file's decision", async () => {
    const kept = content.find((f) => f.pn === "keep-me" && f.ageDays === 400)!;
    const deleted = content.find((f) => f.pn === "zlib" && f.ageDays === 200)!;
    const young = content.find((f) => f.pn === "glibc" && f.ageDays === 2)!;
    const asked = [kept.path, `${target}${deleted.path}`, young.path, "no/such/file"];
    const fromPolicy = await cli("why", "--policy", "fresh.yaml", "--target", target, ...asked, "--format", "json");
    expect(fromPolicy.stderr).toBe("");
    expect(fromPolicy.code).toBe(0);
    expect(JSON.parse(fromPolicy.stdout).answers.map((a: { status: string; path?: string; rules: string[]; decidedBy?: string }) => [a.status, a.path, a.rules, a.decidedBy])).toEqual([
      ["kept", kept.path, ["keep-me", "expire"], "keep-me"],
      ["deleted", deleted.path, ["expire"], "expire"],
      ["kept", young.path, [], "@default"],
      ["not-listed", undefined, [], undefined],
    ]);
    const fromPlan = await cli("why", "--plan", "fresh.json", ...asked);
    expect(fromPlan.code).toBe(0);
    expect(fromPlan.stdout).toContain(`${deleted.path}\n  deleted by rule expire\n  selected by: expire\n`);
    expect(fromPlan.stdout).toContain(`${kept.path}\n  not deleted by this plan`);
  });
});
