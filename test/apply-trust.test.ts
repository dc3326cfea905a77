// apply on a real local filesystem under hostile conditions: builds touching planned files,
// directories swapped for symlinks, a kept archive with dependents, a full disk under the
// journal, two applies at once, a user who may delete nothing, forged plans.
import { type ChildProcess, execFileSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { integrityOf, serializePlan, type StoredPlan } from "../src/plan/plan-file.ts";
import { cli, listing, PLANNED_AT, type PlannedCache, plannedCache, spawnCli, without } from "./support/apply-fixture.ts";

const CACHE_FILES = 3000;
const ORPHAN_POLICY = `version: 1
guards: { min-age: 1h, max-delete-percent: 100, allow-empty: true }
rules:
  - name: expire-archives
    delete: { kind: archive, older-than: 30d }
  - name: drop-orphans
    delete: { orphan: true }
`;

async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, "utf8"))
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function pathsOf(files: readonly { path: string }[]): string[] {
  return files.map((file) => file.path);
}

/** Re-hashes an edited plan as a forger would: the digest alone proves nothing. */
async function forge(cache: PlannedCache, name: string, edit: (plan: StoredPlan) => void): Promise<string> {
  const { integrity: _, signature: _signature, ...body } = structuredClone(cache.plan);
  edit(body as StoredPlan);
  const forged = { ...body, integrity: integrityOf(body) } as StoredPlan;
  await writeFile(join(cache.dir, name), serializePlan(forged));
  return forged.integrity;
}

describe("dependencies: no decision outlives its reason", () => {
  it("a touched archive keeps its planned .sig and .siginfo: skipped with it, exit 4, in this run and a re-run", async () => {
    const cache = await plannedCache(CACHE_FILES, ORPHAN_POLICY);
    const dependents = cache.plan.delete.filter((file) => file.after !== undefined);
    expect(dependents.length).toBeGreaterThan(10);
    const archive = dependents.find((file) => file.path.endsWith(".sig"))!.after!;
    const companions = pathsOf(dependents.filter((file) => file.after === archive));
    expect(companions.some((path) => path.endsWith(".siginfo"))).toBe(true);
    await utimes(join(cache.root, archive), PLANNED_AT, PLANNED_AT);

    const first = await cli(cache.dir, ["apply", "plan.json", "--log", "audit.jsonl"]);
    expect(first.code).toBe(4);
    const kept = [archive, ...companions];
    for (const path of kept) expect(existsSync(join(cache.root, path)), path).toBe(true);
    expect(first.stdout).toContain(`${companions[0]}: kept with its archive ${archive}, which changed since planning`);
    const audit = await readJsonLines(join(cache.dir, "audit.jsonl"));
    for (const path of companions) expect(audit.findLast((line) => line.path === path)).toMatchObject({ outcome: "skipped" });
    expect(await listing(cache.root)).toEqual(
      without(cache.before, pathsOf(cache.plan.delete).filter((path) => !kept.includes(path))).map((file) => (file.path === archive ? { ...file, mtimeMs: PLANNED_AT.getTime() } : file)),
    );

    const again = await cli(cache.dir, ["apply", "plan.json"]);
    expect(again.code).toBe(4);
    for (const path of kept) expect(existsSync(join(cache.root, path)), path).toBe(true);
  });

  it("when an archive cannot be deleted its dependents are not attempted, and a re-run deletes them with it", async () => {
    const cache = await plannedCache(CACHE_FILES, ORPHAN_POLICY);
    const dependent = cache.plan.delete.find((file) => file.after !== undefined && file.path.endsWith(".siginfo"))!;
    // Root may delete anything: a non-empty directory where the archive is renamed aside makes its deletion fail.
    const inTheWay = join(cache.root, `${dependent.after!}.deleting`);
    await mkdir(join(inTheWay, "blocker"), { recursive: true });

    const first = await cli(cache.dir, ["apply", "plan.json"]);
    expect(first.code).toBe(5);
    expect(first.stdout).toContain(`${dependent.path}: not attempted: its archive ${dependent.after} was not deleted`);
    expect(existsSync(join(cache.root, dependent.after!))).toBe(true);
    expect(existsSync(join(cache.root, dependent.path))).toBe(true);

    await rm(inTheWay, { recursive: true });
    const again = await cli(cache.dir, ["apply", "plan.json"]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(await listing(cache.root)).toEqual(without(cache.before, pathsOf(cache.plan.delete)));
  });
});

describe("local deletion without check-then-use gaps", () => {
  it("a loop swapping planned directories for symlinks to outside deletes nothing outside the root (≥ 10 s)", async () => {
    const outside = await mkdtemp(join(tmpdir(), "keeper-outside-"));
    onTestFinished(() => rm(outside, { recursive: true, force: true }));
    const started = Date.now();
    let runs = 0;
    let refused = 0;
    let decoysWritten = 0;
    while (Date.now() - started < 10_000 || runs < 2) {
      const cache = await plannedCache(CACHE_FILES);
      // Decoys: every planned file of the swapped directories also exists outside, same name, size and mtime.
      const dirs = [...new Set(pathsOf(cache.plan.delete).map((path) => dirname(path)))].slice(0, 40);
      for (const dir of dirs) {
        await mkdir(join(outside, `${runs}`, dir), { recursive: true });
        for (const file of cache.plan.delete.filter((f) => dirname(f.path) === dir)) {
          const decoy = join(outside, `${runs}`, file.path);
          await writeFile(decoy, Buffer.alloc(file.size));
          await utimes(decoy, new Date(file.mtime), new Date(file.mtime));
          decoysWritten++;
        }
      }
      let swapping = true;
      const swapper = (async () => {
        while (swapping) {
          for (const dir of dirs) {
            const real = join(cache.root, dir);
            await rename(real, `${real}.real`).catch(() => undefined);
            await symlink(join(outside, `${runs}`, dir), real).catch(() => undefined);
            await sleep(0);
            await rm(real, { force: true }).catch(() => undefined);
            await rename(`${real}.real`, real).catch(() => undefined);
          }
        }
      })();
      const applied = await cli(cache.dir, ["apply", "plan.json"]);
      swapping = false;
      await swapper;
      expect([0, 5], applied.stderr).toContain(applied.code);
      if (applied.code === 5) refused++;
      runs++;
    }
    // Every decoy outside the root is still there.
    const left = await readdir(outside, { recursive: true, withFileTypes: true });
    const decoys = left.filter((entry) => entry.isFile()).length;
    expect(decoysWritten).toBeGreaterThan(0);
    expect(decoys).toBe(decoysWritten);
    expect(refused, "the swaps never met a deletion: the test proved nothing").toBeGreaterThan(0);
    console.log(`[symlink swap] ${runs} applies in ${((Date.now() - started) / 1000).toFixed(1)} s, ${refused} of them refused files in swapped directories; ${decoys} decoys outside intact`);
  }, 120_000);

  it("a build touching planned files during apply never has a touched file deleted", async () => {
    const cache = await plannedCache(20_000);
    const planned = pathsOf(cache.plan.delete);
    const touched = new Set<string>();
    let touching = true;
    const toucher = (async () => {
      for (let i = 0; touching; i = (i + 97) % planned.length) {
        const path = planned[i]!;
        // A touch that lands is a use: that file must survive. One that finds no file came after the deletion.
        const when = new Date();
        try {
          await utimes(join(cache.root, path), when, when);
          touched.add(path);
        } catch {
          // already deleted
        }
      }
    })();
    const applied = await cli(cache.dir, ["apply", "plan.json", "--batch-size", "100"]);
    touching = false;
    await toucher;
    expect([0, 4]).toContain(applied.code);
    expect(touched.size).toBeGreaterThan(0);
    const remaining = new Set(pathsOf(await listing(cache.root)));
    const deletedAfterTouch = [...touched].filter((path) => !remaining.has(path));
    expect(deletedAfterTouch).toEqual([]);
    console.log(`[toucher] ${touched.size} planned files touched during apply, all kept; apply exit ${applied.code}`);
  }, 120_000);
});

describe("honest outcomes and records", () => {
  it("every deletion failing (a user without permission) exits 5 and names the files", async () => {
    // Made with the real clock: the child process checks expiry against it.
    const cache = await plannedCache(600, undefined, new Date());
    // The cache belongs to root and is not writable by others: user nobody can delete nothing in it.
    await chmod(cache.dir, 0o777);
    const nobody = Number(execFileSync("id", ["-u", "nobody"]).toString().trim());
    const result = await spawnCli(cache.dir, ["apply", "plan.json"], { uid: nobody });
    expect(result.stderr).toContain(`failed for ${cache.plan.delete.length.toLocaleString("en-US")} files`);
    expect(result.code).toBe(5);
    expect(result.stdout).toMatch(/permission denied/i);
    expect(await listing(cache.root)).toEqual(cache.before);
  });

  it("a directory the user cannot open fails only its own files; every other planned file is deleted (exit 5)", async () => {
    const cache = await plannedCache(600, undefined, new Date());
    const nobody = Number(execFileSync("id", ["-u", "nobody"]).toString().trim());
    // Everything writable by user nobody but one planned directory, which only its owner (root) may open.
    await chmod(cache.dir, 0o777);
    for (const entry of await readdir(cache.root, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o777);
    await chmod(cache.root, 0o777);
    const closed = dirname(cache.plan.delete[0]!.path);
    await chmod(join(cache.root, closed), 0o700);
    const inClosed = pathsOf(cache.plan.delete).filter((path) => dirname(path) === closed);

    const result = await spawnCli(cache.dir, ["apply", "plan.json"], { uid: nobody });
    expect(result.stderr).toContain(`failed for ${inClosed.length.toLocaleString("en-US")} files`);
    expect(result.code).toBe(5);
    expect(result.stdout).toContain(`not deleted: cannot open its directory ${closed}: EACCES: permission denied`);
    await chmod(join(cache.root, closed), 0o755);
    expect(await listing(cache.root)).toEqual(without(cache.before, pathsOf(cache.plan.delete).filter((path) => dirname(path) !== closed)));
  });

  it("with the journal on a full disk, the audit log still holds every deletion made", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const small = await mkdtemp(join(tmpdir(), "keeper-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=12k", "tmpfs", small]);
    onTestFinished(() => {
      execFileSync("umount", [small]);
      return rm(small, { recursive: true, force: true });
    });
    const result = await cli(cache.dir, ["apply", "plan.json", "--journal", join(small, "journal"), "--log", "audit.jsonl", "--batch-size", "50"]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/cannot write .*no deletion goes unrecorded/);
    const remaining = new Set(pathsOf(await listing(cache.root)));
    const deleted = pathsOf(cache.plan.delete).filter((path) => !remaining.has(path));
    expect(deleted.length).toBeGreaterThan(0);
    const logged = new Set((await readJsonLines(join(cache.dir, "audit.jsonl"))).filter((line) => line.outcome === "deleting" || line.outcome === "deleted").map((line) => line.path));
    expect(deleted.filter((path) => !logged.has(path))).toEqual([]);
  });

  it("two applies at once: one is refused with exit 3, the journal stays whole with one header", async () => {
    const cache = await plannedCache(20_000, undefined, new Date());
    // The first apply is paused once it holds its locks (its journal exists), so that the second
    // surely runs while the first is in the middle of its work, however loaded the machine is.
    let first: ChildProcess | undefined;
    let firstEnded = false;
    const firstRun = spawnCli(cache.dir, ["apply", "plan.json"], { onSpawn: (child) => (first = child) }).finally(() => (firstEnded = true));
    const journal = join(cache.dir, "plan.json.journal");
    while (!existsSync(journal) && !firstEnded) await sleep(2);
    expect(firstEnded, "the first apply ended before it could be paused").toBe(false);
    first!.kill("SIGSTOP");
    const second = await spawnCli(cache.dir, ["apply", "plan.json"]);
    first!.kill("SIGCONT");
    const firstResult = await firstRun;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(3);
    expect(second.stderr).toMatch(/another apply \(process \d+ on .*\) is using the journal/);
    const lines = await readJsonLines(journal);
    expect(lines.filter((line) => line.journal !== undefined)).toHaveLength(1);
    const rerun = await cli(cache.dir, ["apply", "plan.json"], new Date());
    expect(rerun.code).toBe(0);
    expect(await listing(cache.root)).toEqual(without(cache.before, pathsOf(cache.plan.delete)));
  }, 60_000);

  it("refuses --journal and --log destinations that cannot be written before doing anything", async () => {
    const cache = await plannedCache(600);
    const missing = await cli(cache.dir, ["apply", "plan.json", "--journal", "no/such/dir/journal"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^--journal no\/such\/dir\/journal: the directory .* does not exist; nothing was done/);
    const notFile = await cli(cache.dir, ["apply", "plan.json", "--log", "cache"]);
    expect(notFile.code).toBe(2);
    expect(notFile.stderr).toMatch(/^--log cache: .*cache is a directory; nothing was done/);
    expect(await listing(cache.root)).toEqual(cache.before);
  });
});

describe("authentic plans", () => {
  const KEY = "0123456789abcdef0123456789abcdef";

  it("a plan made with the key applies under --require-signed; a re-hashed forgery is refused under --require-signed and --expect-digest", async () => {
    const cache = await plannedCache(600);
    const signedPlan = await cli(cache.dir, ["plan", "--policy", "policy.yaml", "--target", "cache", "--now", cache.plan.now, "--out", "signed.json"], PLANNED_AT, { SSTATE_KEEPER_PLAN_KEY: KEY });
    expect(signedPlan.code).toBe(0);
    const signed = JSON.parse(await readFile(join(cache.dir, "signed.json"), "utf8")) as StoredPlan;
    expect(signed.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    // A forgery: one more file deleted, a kept one, digest recomputed.
    const kept = cache.before.find((file) => file.path.includes("sstate:") && !pathsOf(cache.plan.delete).includes(file.path))!;
    const forgedDigest = await forge({ ...cache, plan: signed }, "forged.json", (plan) => {
      plan.delete.push({ path: kept.path, size: kept.size, mtime: new Date(kept.mtimeMs).toISOString(), rules: ["expire-everything"], decidedBy: "expire-everything" });
      plan.delete.sort((x, y) => (x.path < y.path ? -1 : 1));
    });
    const withKey = { SSTATE_KEEPER_PLAN_KEY: KEY };
    const unsignedForgery = await cli(cache.dir, ["apply", "forged.json", "--require-signed"], PLANNED_AT, withKey);
    expect(unsignedForgery.code).toBe(2);
    expect(unsignedForgery.stderr).toContain("the plan is not signed");
    const byDigest = await cli(cache.dir, ["apply", "forged.json", "--expect-digest", signed.integrity], PLANNED_AT, withKey);
    expect(byDigest.code).toBe(3);
    expect(byDigest.stderr).toContain(`its digest is ${forgedDigest}`);
    // A forger who copies the old signature next to the new digest gets nowhere either.
    const copied = JSON.parse(await readFile(join(cache.dir, "forged.json"), "utf8")) as StoredPlan;
    await writeFile(join(cache.dir, "copied.json"), serializePlan({ ...copied, signature: signed.signature! }));
    const copiedSignature = await cli(cache.dir, ["apply", "copied.json"], PLANNED_AT, withKey);
    expect(copiedSignature.code).toBe(2);
    expect(copiedSignature.stderr).toContain("signature does not match the plan key");
    expect(await listing(cache.root)).toEqual(cache.before);

    const genuine = await cli(cache.dir, ["apply", "signed.json", "--require-signed", "--expect-digest", signed.integrity], PLANNED_AT, withKey);
    expect(genuine.code).toBe(0);
    expect(genuine.stdout).toContain(`applying plan ${signed.integrity}`);
    expect(await listing(cache.root)).toEqual(without(cache.before, pathsOf(signed.delete)));
  });

  it("a forged plan re-targeted at the filesystem root is refused unless the command line confirms it", async () => {
    const cache = await plannedCache(600);
    await forge(cache, "wide.json", (plan) => {
      plan.target = "file:///";
      for (const file of plan.delete) file.path = `${cache.root.slice(1)}/${file.path}`;
    });
    const refused = await cli(cache.dir, ["apply", "wide.json"]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("is a filesystem root or a top-level directory");
    expect(await listing(cache.root)).toEqual(cache.before);
  });
});
