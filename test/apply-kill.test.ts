import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { cli, emptyDirectories, listing, plannedCache, without } from "./support/apply-fixture.ts";

const FILES = 40_000;
const DELETE_ALL_POLICY = "version: 1\nguards: { min-age: 0s, max-delete-percent: 100, allow-empty: true }\nrules:\n  - name: everything\n    delete: { all: true }\n";
/** The child runs the TypeScript sources directly on Deno 2 (the project's second runtime): no build step needed. */
const DENO = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
/** Killed once the journal holds about two batches: well inside a 40-batch run. */
const KILL_AFTER_JOURNAL_BYTES = 2 * 1000 * 200;

function number(text: string, label: string): number {
  const match = new RegExp(`${label} +([0-9,]+) file`).exec(text);
  return match ? Number(match[1]!.replaceAll(",", "")) : 0;
}

it(`a ${FILES.toLocaleString("en-US")}-file apply killed with SIGKILL finishes on re-run: the cache is exactly "before minus plan"`, async () => {
  // Made with the real clock: the child process checks expiry against it.
  const cache = await plannedCache(FILES, DELETE_ALL_POLICY, new Date());
  const planned = cache.plan.delete.map((file) => file.path);
  expect(planned.length).toBe(FILES - 3); // all but the 3 unmanaged files
  const journal = join(cache.dir, "plan.json.journal");

  const child = spawn(DENO, ["run", "-A", CLI, "apply", "plan.json"], { cwd: cache.dir, stdio: ["ignore", "ignore", "pipe"] });
  let childStderr = "";
  child.stderr.on("data", (chunk: Buffer) => (childStderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    child.on("exit", () => resolve());
    child.on("error", (error) => {
      childStderr += `${error.message} (is the deno devDependency installed? npm ci)`;
      resolve();
    });
  });
  let finished = false;
  void exited.then(() => (finished = true));
  while (!finished && ((await stat(journal).catch(() => undefined))?.size ?? 0) < KILL_AFTER_JOURNAL_BYTES) await sleep(1);
  expect(finished, `the apply finished before it could be killed: ${childStderr}`).toBe(false);
  child.kill("SIGKILL");
  await exited;

  // Really interrupted midway: some planned files are gone, others are still there.
  const afterKill = new Set((await listing(cache.root)).map((file) => file.path));
  // A file the kill caught between its rename aside and its unlink is not deleted yet: the re-run finishes it.
  const leftAfterKill = planned.filter((path) => afterKill.has(path) || afterKill.has(`${path}.deleting`)).length;
  expect(leftAfterKill).toBeGreaterThan(0);
  expect(leftAfterKill).toBeLessThan(planned.length);

  const rerun = await cli(cache.dir, ["apply", "plan.json"], new Date());
  expect(rerun.stderr).toBe("");
  expect(rerun.code).toBe(0);
  const deleted = number(rerun.stdout, "deleted");
  const alreadyGone = number(rerun.stdout, "already gone");
  const doneEarlier = number(rerun.stdout, "done earlier");
  // The re-run did the rest: what the killed run journaled is not redone; what it deleted without journaling is found gone.
  expect(deleted).toBe(leftAfterKill);
  expect(doneEarlier).toBeGreaterThan(0);
  expect(deleted + alreadyGone + doneEarlier).toBe(planned.length);

  expect(await listing(cache.root)).toEqual(without(cache.before, planned));
  expect(await emptyDirectories(cache.root)).toEqual([]);
});
