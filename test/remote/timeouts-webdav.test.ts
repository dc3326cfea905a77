// With the DEFAULT timeouts, `info` and `apply` against a WebDAV server that accepts
// connections and never answers, and against one that sends headers and then nothing, end with
// exit 1 within two minutes and one line naming the host and the request (issue 10, item 8).
// The four runs go concurrently: each takes about one operation budget (60 s).
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { run } from "../../src/cli/main.ts";
import { integrityOf, serializePlan } from "../../src/plan/plan-file.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { startSilentServer, startStallingServer } from "../support/fault-proxy.ts";
import type {} from "../support/global-servers.ts";
import { testIo } from "../support/io.ts";
import { cacheContent, POLICY, seedCache, webdavEnv } from "../support/webdav-cache.ts";

const BOUND_MS = 110_000;

it("info and apply against a silent and a stalling WebDAV server end with exit 1 within the bound, naming the host and the request", async () => {
  const server = inject("webdav");
  const env = webdavEnv(server);
  // Four batches of deletions in flight, as a real plan has.
  const cache = await seedCache(server, cacheContent({ oldBuilds: 1400, keptBuilds: 50, directories: 400 }));
  const work = await mkdtemp(join(tmpdir(), "keeper-webdav-timeouts-"));
  const [silent, stalling] = await Promise.all([startSilentServer(), startStallingServer()]);
  try {
    await writeFile(join(work, "policy.yaml"), POLICY);
    const cli = async (argv: string[]) => {
      const io = testIo({ cwd: work, env });
      const started = Date.now();
      const code = await run(argv, io);
      return { code, stderr: io.stderrText, stdout: io.stdoutText, ms: Date.now() - started };
    };
    expect((await cli(["plan", "--policy", "policy.yaml", "--target", `${new URL(server.url).origin}${cache.pathname}`, "--out", "plan.json"])).code).toBe(0);
    const plan = parsePlan(readFileSync(join(work, "plan.json"), "utf8"), "plan.json");
    expect(plan.delete.length).toBeGreaterThan(3000);
    // The reviewed plan, re-targeted at the broken servers (with its integrity recomputed, as a plan would be made there).
    for (
      const [name, broken] of [
        ["silent", silent],
        ["stalling", stalling],
      ] as const
    ) {
      const { integrity: _, ...body } = { ...plan, target: `${broken.url}${cache.pathname}` };
      await writeFile(join(work, `${name}.json`), serializePlan({ ...body, integrity: integrityOf(body) }));
    }

    const [infoSilent, infoStalling, applySilent, applyStalling] = await Promise.all([
      cli(["info", `${silent.url}/dav/`]),
      cli(["info", `${stalling.url}/dav/`]),
      cli(["apply", "silent.json"]),
      cli(["apply", "stalling.json"]),
    ]);
    console.log(`default timeouts: info silent ${infoSilent.ms} ms, info stalling ${infoStalling.ms} ms, apply silent ${applySilent.ms} ms, apply stalling ${applyStalling.ms} ms`);

    const host = String.raw`WebDAV server http://127\.0\.0\.1:\d+`;
    expect(infoSilent).toMatchObject({ code: 1, stdout: "" });
    expect(infoSilent.stderr).toMatch(new RegExp(`^${host} did not answer PROPFIND /dav/ within 15 s: check that it is running and not overloaded, or allow longer with --timeout\\n$`));
    expect(infoStalling).toMatchObject({ code: 1, stdout: "" });
    expect(infoStalling.stderr).toMatch(
      new RegExp(`^${host} stopped sending its answer to PROPFIND /dav/ \\(nothing for 15 s\\): check the server and the network, or allow longer with --timeout\\n$`),
    );
    // apply looks at the root collection before its first DELETE.
    for (
      const [applied, how] of [
        [applySilent, "did not answer PROPFIND"],
        [applyStalling, "stopped sending its answer to PROPFIND"],
      ] as const
    ) {
      expect(applied.code).toBe(1);
      const [message, hint, ...rest] = applied.stderr.trim().split("\n");
      expect(message).toMatch(new RegExp(`^stopped: the backend failed even after retrying \\(${host} ${how} ${cache.pathname} `));
      expect(hint).toMatch(/^What finished is recorded in .*; run the same apply again to finish the rest\.$/);
      expect(rest).toEqual([]);
    }
    for (const result of [infoSilent, infoStalling, applySilent, applyStalling]) expect(result.ms).toBeLessThan(BOUND_MS);
  } finally {
    await Promise.all([silent.stop(), stalling.stop(), rm(work, { recursive: true, force: true })]);
  }
}, 150_000);
