import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { onTestFinished } from "vitest";
import type { RemoteFile } from "../../src/backends/backend.ts";
import { FsBackend } from "../../src/backends/fs.ts";
import type { Io } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { DEMO_NOW, generateCache } from "../../src/demo/generate.ts";
import { writeCache } from "../../src/demo/write.ts";
import type { StoredPlan } from "../../src/plan/plan-file.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { listAll } from "./list-all.ts";
import { DELETE_OLD_POLICY, PLANNED_AT } from "./plans.ts";

export { DELETE_OLD_POLICY, PLANNED_AT } from "./plans.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a function in `cwd`, with a fixed clock. */
export async function cli(cwd: string, argv: string[], clock: Date = PLANNED_AT, env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    progressEnabled: false,
    env,
    cwd,
    clock: () => clock,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

export interface PlannedCache {
  /** Working directory holding policy.yaml, plan.json and the journal. */
  dir: string;
  /** The cache root, `dir/cache`. */
  root: string;
  plan: StoredPlan;
  /** Every file of the cache right after planning. */
  before: RemoteFile[];
}

/**
 * Writes a generated cache of `files` files and plans `policy` for it with the real `plan`
 * command, made at `clock` (the plan expires a week later). tmpfs is used where there is
 * one: writing tens of thousands of files is many times faster there than on a VM's disk,
 * and the apply logic is the same.
 */
export async function plannedCache(files: number, policy = DELETE_OLD_POLICY, clock = PLANNED_AT): Promise<PlannedCache> {
  const dir = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "keeper-apply-"));
  // tmpfs is memory: never leave a cache behind.
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, "cache");
  await writeCache(root, generateCache({ files, now: DEMO_NOW }));
  await writeFile(join(dir, "policy.yaml"), policy);
  const planned = await cli(dir, ["plan", "--policy", "policy.yaml", "--target", "cache", "--now", new Date(DEMO_NOW).toISOString(), "--out", "plan.json"], clock);
  if (planned.code !== 0 && planned.code !== 3) throw new Error(`plan failed (${planned.code}): ${planned.stderr}`);
  return { dir, root, plan: parsePlan(await readFile(join(dir, "plan.json"), "utf8"), "plan.json"), before: await listing(root) };
}

/** Every file under the root with its size and mtime, sorted by path. */
export function listing(root: string): Promise<RemoteFile[]> {
  return listAll(new FsBackend(root));
}

/** Directories under the root (relative) that hold nothing. */
export async function emptyDirectories(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const directories = entries.filter((entry) => entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name));
  const empty: string[] = [];
  for (const directory of directories) if ((await readdir(directory)).length === 0) empty.push(relative(root, directory));
  return empty;
}

/** `before` without the given paths: what the cache must look like after they were deleted. */
export function without(before: readonly RemoteFile[], paths: Iterable<string>): RemoteFile[] {
  const gone = new Set(paths);
  return before.filter((file) => !gone.has(file.path));
}

const TYPESCRIPT_LOADER = fileURLToPath(new URL("./typescript-loader.mjs", import.meta.url));
const CLI_SOURCE = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

/** Runs the CLI from source in a process of its own (Node with the test loader): for runs that must be another process, user or clock. */
export function spawnCli(
  cwd: string,
  argv: string[],
  options: { uid?: number; env?: Record<string, string>; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", TYPESCRIPT_LOADER, CLI_SOURCE, ...argv], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", ...options.env },
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    });
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => resolve({ code: null, stdout, stderr: `${stderr}${error.message}` }));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
