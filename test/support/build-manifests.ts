/**
 * The build-manifest scenario every backend runs: three simulated builds publish manifests with
 * `stamps --publish` at different times, and `used-by-builds: { within: 7d }` keeps exactly the
 * union of what the two recent ones used. One recent manifest's object is backdated and the old
 * one's is fresh, so the time that counts is the one written in the manifest.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { Env } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { testIo } from "./io.ts";
import { sstatePath } from "./listing.ts";

const DAY = 86_400_000;

/** A cache the scenario seeds and inspects; `publish` runs `stamps --publish` as a build would. */
export interface ManifestRemote {
  target: string;
  env: Env;
  /** Writes the files with mtimes long enough ago for min-age. */
  seed(paths: readonly string[]): Promise<void>;
  paths(): Promise<string[]>;
  /** Runs the CLI's `stamps` with this clock; `backdateObject`: the manifest object gets an mtime 400 days ago. */
  publish(argv: string[], clock: Date, backdateObject: boolean): Promise<{ code: number; stdout: string; stderr: string }>;
}

async function cli(argv: string[], env: Env, cwd: string, clock = () => new Date()) {
  const io = testIo({ cwd, env, clock });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** A build's stamps tree: the sigdata/setscene stamps bitbake leaves for the given task hashes. */
async function stampsTree(dir: string, hashes: readonly string[]): Promise<string> {
  await mkdir(join(dir, "core2-64-poky-linux", "m4"), { recursive: true });
  await Promise.all(
    hashes.map((hash, i) => writeFile(join(dir, "core2-64-poky-linux", "m4", i % 2 === 0 ? `1.4.19-r0.do_package_setscene.${hash}.core2-64` : `1.4.19-r0.do_populate_sysroot.sigdata.${hash}`), "")),
  );
  return dir;
}

const archiveOf = (seed: string) => sstatePath({ pn: "m4", arch: "core2-64", task: "package", seed });
const hashOf = (seed: string) => /:([0-9a-f]{64})_/.exec(archiveOf(seed))![1]!;

/** Runs the scenario against `remote`; `from`: where the policy reads manifests (default the target). */
export async function usedByBuildsScenario(remote: ManifestRemote, options: { from?: string } = {}): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "keeper-manifests-"));
  const now = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2 * 3_600_000);
  const builds = {
    recentA: { seeds: ["a1", "a2", "shared"], published: new Date(now.getTime() - 2 * DAY), backdate: false },
    recentB: { seeds: ["b1", "shared"], published: new Date(now.getTime() - 6 * DAY), backdate: true },
    old: { seeds: ["old1"], published: new Date(now.getTime() - 10 * DAY), backdate: false },
  };
  const everySeed = ["a1", "a2", "shared", "b1", "old1", "nobody"];
  const cacheFiles = everySeed.flatMap((seed) => [archiveOf(seed), `${archiveOf(seed)}.siginfo`]);
  await remote.seed(cacheFiles);

  const publishTarget = options.from ?? remote.target;
  const published: string[] = [];
  for (const [name, build] of Object.entries(builds)) {
    const stamps = await stampsTree(join(work, name, "tmp", "stamps"), build.seeds.map(hashOf));
    const result = await remote.publish(["stamps", stamps, "--publish", publishTarget, "--host", `ci-${name}`], build.published, build.backdate);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const shown = /published a build manifest of (\d+) unihashes: (\S+)\n$/.exec(result.stdout);
    expect(shown?.[1]).toBe(String(build.seeds.length));
    published.push(shown![2]!);
  }
  expect(published.every((shown) => shown.includes(`/.sstate-keeper/builds/`) && shown.endsWith(".hashes.gz"))).toBe(true);

  await writeFile(
    join(work, "policy.yaml"),
    `version: 1
rules:
  - name: used-lately
    keep: { used-by-builds: { within: 7d${options.from ? `, from: '${options.from}'` : ""} } }
  - name: rest
    delete: { all: true }
`,
  );
  const planned = await cli(["plan", "--policy", "policy.yaml", "--target", remote.target, "--now", now.toISOString(), "--explain", "--out", "plan.json", "--format", "json"], remote.env, work);
  expect(planned.stderr).toBe("");
  expect(planned.code).toBe(0);
  const plan = parsePlan(readFileSync(join(work, "plan.json"), "utf8"), "plan.json");
  const usedLately = new Set([...builds.recentA.seeds, ...builds.recentB.seeds]);
  const filesOf = (seeds: string[]) => seeds.flatMap((seed) => [archiveOf(seed), `${archiveOf(seed)}.siginfo`]).sort();
  expect(plan.delete.map((f) => f.path)).toEqual(filesOf(everySeed.filter((seed) => !usedLately.has(seed))));
  expect(plan.keep!.filter((f) => f.decidedBy === "used-lately").map((f) => f.path)).toEqual(filesOf([...usedLately]));
  // The manifests are listed with the cache (when published there) and are never a policy's to delete.
  expect(plan.summary.unmanaged.files).toBe(options.from ? 0 : 3);

  const applied = await cli(["apply", "plan.json"], remote.env, work);
  expect(applied.code).toBe(0);
  const left = (await remote.paths()).sort();
  expect(left.filter((path) => !path.startsWith(".sstate-keeper/"))).toEqual(filesOf([...usedLately]));
  expect(left.filter((path) => path.startsWith(".sstate-keeper/builds/"))).toHaveLength(options.from ? 0 : 3);
}
