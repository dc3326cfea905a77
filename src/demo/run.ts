/** The demo: a deterministic cache on local disk (made once), planned with the example policy. */
import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTarget } from "../backends/index.ts";
import type { TargetContext } from "../backends/open.ts";
import { readPolicyFile } from "../evidence/policy-file.ts";
import { makePlan, type PlanRun } from "../plan/run.ts";
import type { ProgressListener } from "../util/progress.ts";
import { DEMO_NOW, generateCache } from "./generate.ts";
import { writeCache } from "./write.ts";

const MARKER = ".sstate-keeper-demo.json";
type DirectoryState = "missing" | "empty" | "demo" | "foreign" | "not-a-directory";
/** Why a --dir is never written to: the demo replaces only what it made. */
const REFUSED: Partial<Record<DirectoryState, string>> = {
  foreign: `it holds files and is not a demo cache (no ${MARKER})`,
  "not-a-directory": "it is not a directory",
};
/** The example policy ships next to src/ and dist/ alike. */
const EXAMPLE_POLICY = fileURLToPath(new URL("../../policies/example.yaml", import.meta.url));
const VALID_FOR_MS = 7 * 86_400_000;

/** A directory the demo must not write to (invalid input: nothing was touched). */
export class DemoDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoDirectoryError";
  }
}

export interface DemoInput {
  /** Absolute. */
  dir: string;
  files: number;
  /** Where the command runs: the plan records the policy path relative to it. */
  cwd: string;
  context: TargetContext;
  clock(): Date;
  key?: string;
  onProgress?: ProgressListener;
}

export interface DemoRun extends PlanRun {
  /** The cache written by this run; undefined when the directory held it already. */
  written?: { files: number; dir: string; now: string };
}

export async function runDemo(input: DemoInput): Promise<DemoRun> {
  const { dir, files, onProgress } = input;
  const wanted = JSON.stringify({ files, now: DEMO_NOW });
  const existing = await readFile(join(dir, MARKER), "utf8").catch(() => undefined);
  let written: DemoRun["written"];
  if (existing?.trim() !== wanted) {
    const state = await directoryState(dir);
    const refused = REFUSED[state];
    if (refused) throw new DemoDirectoryError(`demo --dir ${dir}: ${refused}; nothing was touched. Name a new or empty directory`);
    if (state === "demo") await rm(dir, { recursive: true });
    // Marked before the first file: a demo killed while writing leaves a directory the next demo may replace.
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, MARKER), `${JSON.stringify({ incomplete: true })}\n`);
    const result = await writeCache(dir, generateCache({ files, now: DEMO_NOW }), {
      onProgress: onProgress && ((done) => onProgress({ phase: "writing demo cache", done, total: files, unit: "files" })),
    });
    await writeFile(join(dir, MARKER), `${wanted}\n`);
    written = { files: result.files, dir, now: new Date(DEMO_NOW).toISOString() };
  }
  const policyPath = relative(input.cwd, EXAMPLE_POLICY) || EXAMPLE_POLICY;
  const { policy, evidence, diagnostics, warnings } = await readPolicyFile(policyPath, input.cwd);
  if (!policy || !evidence || diagnostics.length > 0) throw new Error(`the shipped ${EXAMPLE_POLICY} has problems: ${diagnostics.map((d) => d.message).join("; ")}`);
  const run = await makePlan({
    target: parseTarget(dir, input.cwd),
    context: input.context,
    policy,
    cwd: input.cwd,
    evidence,
    now: new Date(DEMO_NOW),
    createdAt: input.clock(),
    validForMs: VALID_FOR_MS,
    explainKept: false,
    key: input.key,
    warnings,
    onProgress,
  });
  return { ...run, ...(written ? { written } : {}) };
}

/** Whether `dir` may become the demo cache: missing, empty, or marked as one (only those are ever written or removed). */
async function directoryState(dir: string): Promise<DirectoryState> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new DemoDirectoryError(`demo --dir ${dir}: ${error.message}`);
  });
  if (info === undefined) return "missing";
  if (!info.isDirectory()) return "not-a-directory";
  if ((await readdir(dir)).length === 0) return "empty";
  const marker = await lstat(join(dir, MARKER)).catch(() => undefined);
  return marker?.isFile() ? "demo" : "foreign";
}
