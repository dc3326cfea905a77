/** What the commands read from the user's arguments before any work: targets, policies, plans, output files. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Timeouts } from "../backends/backend.ts";
import { parseTarget, type Target, TargetError } from "../backends/index.ts";
import type { TargetContext } from "../backends/open.ts";
import { readPolicyFile } from "../evidence/policy-file.ts";
import type { StoredPlan } from "../plan/plan-file.ts";
import { parsePlan, PlanFileError } from "../plan/read-plan.ts";
import { byPosition, type Diagnostic, excerpt } from "../policy/diagnostics.ts";
import { loadPolicy, type Policy, policyDigest } from "../policy/load.ts";
import { unwritableReason } from "../util/atomic-file.ts";
import { readTextFile } from "../util/text-file.ts";
import { type CommandIo, UserError } from "./io.ts";
import { formatDiagnostics } from "./views/diagnostics.ts";

export function targetOf(io: CommandIo, raw: string | undefined, what = "target"): Target {
  if (!raw) throw new UserError(`no ${what}: give --target URL or set 'target:' in the policy`);
  try {
    return parseTarget(raw, io.cwd);
  } catch (error) {
    if (error instanceof TargetError) throw new UserError(`${what} '${excerpt(raw, 200)}': ${error.message}`);
    throw error;
  }
}

/** What the runs need to open a target: the environment, the --timeout limits and where credentials are registered. */
export function targetContext(io: CommandIo, timeouts: Timeouts): TargetContext {
  return { env: io.env, timeouts, secrets: io.secrets };
}

/** Reads, checks and resolves a policy file and what it names; every problem is printed (warnings too) and the command exits 2. */
export async function readPolicy(io: CommandIo, file: string): Promise<{ policy: Policy; evidence: Map<string, Set<string>>; warnings: Diagnostic[] }> {
  const { policy, evidence, diagnostics, warnings } = await readPolicyFile(file, io.cwd);
  if (!policy || !evidence || diagnostics.length > 0) throw new UserError(formatDiagnostics([...diagnostics, ...warnings].sort(byPosition)));
  return { policy, evidence, warnings };
}

/** The `--policy` file's digest (as plans record it) and its `target:`, if it has one: what apply compares a plan with. */
export async function policyFacts(io: CommandIo, file: string): Promise<{ sha256: string; target: string | undefined }> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read the policy: ${(error as Error).message}`);
  }
  return { sha256: policyDigest(text), target: loadPolicy(text, file).policy?.target };
}

/** Under the longest string V8 holds (2^29 - 24 characters): a plan of about two million files. */
const MAX_PLAN_BYTES = 500 * 1024 * 1024;

/** A plan file, read and checked: a FIFO is never waited on, bytes that are not UTF-8 are reported where they are. */
export async function readPlan(io: CommandIo, file: string): Promise<StoredPlan> {
  const read = await readTextFile(resolve(io.cwd, file), "plan", MAX_PLAN_BYTES);
  if ("problem" in read) {
    const { message, line, col } = read.problem;
    throw new PlanFileError(line === 1 && col === 1 ? `${file}: ${message}` : `${file}:${line}:${col}: ${message}`);
  }
  return parsePlan(read.text, file);
}

/** Checks, before any long work, that a file the command will write can be written; returns its absolute path. */
export async function outputFile(io: CommandIo, flagName: string, file: string): Promise<string> {
  const path = resolve(io.cwd, file);
  const problem = await unwritableReason(path);
  if (problem !== undefined) throw new UserError(`--${flagName} ${file}: ${problem}; nothing was done`);
  return path;
}
