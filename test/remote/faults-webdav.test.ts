// plan + apply of a cache with more than 5,000 planned deletions on the real Apache, through a
// fault-injecting proxy (issue 10 "Done when"): whatever the network does, nothing outside the
// plan is deleted, nothing is reported deleted or gone that still exists, the exit code tells
// the truth, and a plain re-run with the same journal ends exactly at "before minus plan".
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Env } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import type {} from "../support/global-servers.ts";
import { testIo } from "../support/io.ts";
import type { WebdavServerInfo } from "../support/servers.ts";
import { cacheContent, filesUnder, POLICY, seedCache, webdavEnv } from "../support/webdav-cache.ts";

/** 2,300 old builds over 600 directories: 5,175 planned deletions, 2,600 kept files. */
const content = cacheContent({ oldBuilds: 2300, keptBuilds: 300, directories: 600 });

const workDirs: string[] = [];
afterAll(() => Promise.all(workDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A directory to run the CLI in, holding policy.yaml. */
async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keeper-webdav-faults-"));
  workDirs.push(dir);
  await writeFile(join(dir, "policy.yaml"), POLICY);
  return dir;
}

async function cli(argv: string[], env: Env, cwd: string) {
  const io = testIo({ cwd, env });
  const started = Date.now();
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText, ms: Date.now() - started };
}

/** The paths a journal or audit log reports as deleted or already gone. */
function reportedGone(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { path?: string; outcome?: string })
    .filter((entry) => entry.outcome === "deleted" || entry.outcome === "missing")
    .map((entry) => entry.path!);
}

/** Outcomes a journal records, counted: "deleted 5100, missing 70, failed 5". */
function outcomeLine(journal: string): string {
  const counts = new Map<string, number>();
  for (const line of readFileSync(journal, "utf8").split("\n").filter(Boolean)) {
    const { outcome } = JSON.parse(line) as { outcome?: string };
    if (outcome !== undefined) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  return [...counts].map(([outcome, n]) => `${outcome} ${n}`).join(", ");
}

/** What the proxy injected, as one line. */
function faultLine(counts: FaultProxy["counts"]): string {
  const { requests, forwarded, ...kinds } = counts;
  const injected = Object.entries(kinds).filter(([, n]) => n > 0);
  return `${requests} requests, ${requests - forwarded} faults (${injected.map(([kind, n]) => `${kind} ${n}`).join(", ")})`;
}

function delta(after: FaultProxy["counts"], before: FaultProxy["counts"]): FaultProxy["counts"] {
  return Object.fromEntries(Object.entries(after).map(([key, n]) => [key, n - before[key as keyof typeof before]])) as FaultProxy["counts"];
}

function faultScenario(label: string, server: WebdavServerInfo, rate: number, seed: number) {
  it(`${label}, ${rate * 100}% faults: nothing outside the plan deleted, nothing reported gone that exists, a plain re-run ends at the plan`, async () => {
    const cache = await seedCache(server, content);
    expect(cache.planned.length).toBeGreaterThanOrEqual(5000);
    const before = await filesUnder(cache.root);
    const env = webdavEnv(server);
    const work = await workDir();
    const proxy = await startFaultProxy({ upstream: new URL(server.url).origin, rate, seed });
    try {
      const target = `${proxy.url}${cache.pathname}`;

      // Listing is retried: plan should get through; a failure must be a clean one-line exit 1.
      let planned = await cli(["plan", "--policy", "policy.yaml", "--target", target, "--out", "plan.json", "--format", "json", "--timeout", "1s"], env, work);
      let planAttempts = 1;
      while (planned.code !== 0 && planAttempts < 3) {
        expect(planned.code).toBe(1);
        expect(planned.stderr.trim().split("\n")).toHaveLength(1);
        expect(planned.stderr).toMatch(/^WebDAV server http:\/\/127\.0\.0\.1:\d+ /);
        planned = await cli(["plan", "--policy", "policy.yaml", "--target", target, "--out", "plan.json", "--format", "json", "--timeout", "1s"], env, work);
        planAttempts++;
      }
      expect(planned.stderr).toBe("");
      expect(planned.code).toBe(0);
      const plan = parsePlan(readFileSync(join(work, "plan.json"), "utf8"), "plan.json");
      expect(plan.listing.files).toBe(before.length);
      expect(plan.delete.map((f) => f.path).sort()).toEqual(cache.planned);
      const planFaults = { ...proxy.counts };

      const applied = await cli(["apply", "plan.json", "--timeout", "1s", "--log", "apply.log"], env, work);
      const applyFaults = delta(proxy.counts, planFaults);
      const after = new Set(await filesUnder(cache.root));
      const deleted = before.filter((path) => !after.has(path));
      console.log(
        `faults-webdav ${label} ${rate * 100}%: plan (${planAttempts} run${planAttempts > 1 ? "s" : ""}): ${faultLine(planFaults)}; ` +
          `apply exit ${applied.code} in ${(applied.ms / 1000).toFixed(1)} s (journal: ${outcomeLine(join(work, "plan.json.journal"))}; ${deleted.length} of ${cache.planned.length} gone): ${
            faultLine(applyFaults)
          }`,
      );
      expect(applied.stdout + applied.stderr).not.toContain("internal error");
      // 0: all done; 5: some deletions failed after every retry; 1: stopped, the server kept failing. Nothing changed, so never 4.
      expect([0, 1, 5]).toContain(applied.code);
      if (applied.code === 1) expect(applied.stderr.split("\n")[0]).toMatch(/^stopped: .*WebDAV server http:\/\/127\.0\.0\.1:\d+ /);
      const plannedSet = new Set(cache.planned);
      expect(deleted.filter((path) => !plannedSet.has(path))).toEqual([]);
      for (const record of [join(work, "plan.json.journal"), join(work, "apply.log")]) {
        expect(reportedGone(record).filter((path) => after.has(path))).toEqual([]);
      }

      // The network heals; the same apply with the same journal finishes the rest.
      proxy.setRate(0);
      const rerun = await cli(["apply", "plan.json", "--timeout", "1s"], env, work);
      expect(rerun.stdout + rerun.stderr).not.toContain("internal error");
      expect(rerun.code).toBe(0);
      expect(await filesUnder(cache.root)).toEqual(before.filter((path) => !plannedSet.has(path)));
    } finally {
      await proxy.stop();
    }
  }, 300_000);
}

describe("WebDAV plan and apply through a fault-injecting proxy", () => {
  // Seeds whose first draw faults the one Depth: infinity PROPFIND (truncate-reset, truncate-clean): the listing resumes.
  faultScenario("Apache, Basic auth, Depth: infinity", inject("webdav"), 0.05, 218);
  faultScenario("Apache, Depth: infinity refused (Depth: 1 crawl)", inject("webdavNoInfinity"), 0.05, 205);
  faultScenario("Apache, Basic auth, Depth: infinity", inject("webdav"), 0.2, 101);
});

describe("WebDAV credentials", () => {
  it("a wrong password on a 5,000-file plan fails in under 30 s with one message, no password printed, nothing deleted", async () => {
    const server = inject("webdav");
    const cache = await seedCache(server, content);
    const before = await filesUnder(cache.root);
    const work = await workDir();
    const target = `${new URL(server.url).origin}${cache.pathname}`;
    const planned = await cli(["plan", "--policy", "policy.yaml", "--target", target, "--out", "plan.json", "--format", "json"], webdavEnv(server), work);
    expect(planned.code).toBe(0);
    const wrong = "Wr0ng-pass-5000";
    const applied = await cli(["apply", "plan.json"], { SSTATE_KEEPER_WEBDAV_USER: "keeper", SSTATE_KEEPER_WEBDAV_PASSWORD: wrong }, work);
    expect(applied.code).toBe(1);
    expect(applied.ms).toBeLessThan(30_000);
    const [message, ...rest] = applied.stderr.trim().split("\n");
    expect(message).toMatch(
      /^stopped: the server refused the credentials \(WebDAV server http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized on PROPFIND \/dav\/cache-[\w-]+\/\): check SSTATE_KEEPER_WEBDAV_USER\/PASSWORD or ~\/\.netrc\)$/,
    );
    // apply's own hint about the journal follows; nothing else.
    expect(rest).toEqual([expect.stringMatching(/^What finished is recorded in .*; run the same apply again to finish the rest\.$/)]);
    const output = applied.stdout + applied.stderr;
    expect(output).not.toContain(wrong);
    expect(output).not.toContain(Buffer.from(`keeper:${wrong}`).toString("base64"));
    expect(await filesUnder(cache.root)).toEqual(before);
  });
});

describe("WebDAV server bodies are never printed", () => {
  it("a server that echoes request headers in its error bodies: no password, no credential, no body in any output", async () => {
    const server = inject("webdav");
    // A few old builds to plan, and kept ones (a plan deleting every archive is refused by its guard).
    const cache = await seedCache(server, [...content.slice(0, 40), ...content.slice(-5)]);
    const work = await workDir();
    const env = webdavEnv(server);
    const proxy = await startFaultProxy({ upstream: new URL(server.url).origin, rate: 0, seed: 7, kinds: ["echo-headers"] });
    try {
      const target = `${proxy.url}${cache.pathname}`;
      expect((await cli(["plan", "--policy", "policy.yaml", "--target", target, "--out", "plan.json"], env, work)).code).toBe(0);
      proxy.setRate(1);
      const runs = [
        await cli(["info", target], env, work),
        await cli(["plan", "--policy", "policy.yaml", "--target", target], env, work),
        await cli(["apply", "plan.json", "--log", "apply.log"], env, work),
      ];
      expect(proxy.counts["echo-headers"]).toBeGreaterThan(0);
      expect(runs.map((r) => r.code)).toEqual([1, 1, 1]);
      expect(runs[0]!.stderr).toMatch(
        /^WebDAV server http:\/\/127\.0\.0\.1:\d+ answered PROPFIND \/dav\/cache-[\w-]+\/ with 400 Bad Request; check the target URL and the server's DAV configuration\n$/,
      );
      const printed = [...runs.flatMap((r) => [r.stdout, r.stderr]), readFileSync(join(work, "apply.log"), "utf8")].join("\n");
      expect(printed).toContain("400 Bad Request");
      for (const secret of [server.password!, Buffer.from(`${server.user}:${server.password}`).toString("base64"), "headers were", "authorization"]) {
        expect(printed).not.toContain(secret);
      }
    } finally {
      await proxy.stop();
    }
  });
});
