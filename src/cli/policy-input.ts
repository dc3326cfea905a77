import { resolve } from "node:path";
import { parseTarget, TargetError } from "../backends/index.ts";
import { resolveReferences } from "../evidence/references.ts";
import { readTextFile } from "../util/text-file.ts";
import { byPosition, formatDiagnostic, type Diagnostic } from "../policy/diagnostics.ts";
import { loadPolicy, MAX_POLICY_BYTES, type Policy } from "../policy/load.ts";
import { EXIT, UserError, type CommandIo } from "./io.ts";

/** Problems printed for one file; a hostile file could hold thousands, and the first ones say what is wrong. */
const SHOWN_DIAGNOSTICS = 50;

/** Reads, checks and resolves a policy file; every problem is printed and the command exits 2. */
export async function readPolicy(io: CommandIo, file: string): Promise<{ policy: Policy; referencedHashes: Map<string, Set<string>> }> {
  const { policy, referencedHashes, diagnostics } = await checkPolicy(io, file);
  if (!policy || diagnostics.length > 0) throw new UserError(formatDiagnostics(diagnostics), EXIT.invalidInput);
  return { policy, referencedHashes: referencedHashes! };
}

/** The problems of one file as lines, the first SHOWN_DIAGNOSTICS of them and a count of the rest. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const shown = diagnostics.slice(0, SHOWN_DIAGNOSTICS).map(formatDiagnostic);
  if (diagnostics.length > SHOWN_DIAGNOSTICS) shown.push(`… and ${diagnostics.length - SHOWN_DIAGNOSTICS} more problems in ${diagnostics[0]!.file}`);
  return shown.join("\n");
}

export async function checkPolicy(io: CommandIo, file: string): Promise<{ policy?: Policy; referencedHashes?: Map<string, Set<string>>; diagnostics: Diagnostic[] }> {
  const read = await readTextFile(resolve(io.cwd, file), "policy", MAX_POLICY_BYTES);
  if ("problem" in read) return { diagnostics: [{ code: "unreadable", file, ...read.problem }] };
  const loaded = loadPolicy(read.text, file);
  if (!loaded.policy) return { diagnostics: loaded.diagnostics.sort(byPosition) };
  const targetProblem = checkTarget(io, loaded.policy);
  // Relative stamps/manifest paths are relative to the policy file, wherever we run from.
  for (const rule of loaded.policy.rules) for (const ref of rule.references) ref.path = resolve(io.cwd, ref.path);
  const references = await resolveReferences(loaded.policy);
  return {
    policy: loaded.policy,
    referencedHashes: references.hashes,
    diagnostics: [...loaded.diagnostics, ...targetProblem, ...references.diagnostics].sort(byPosition),
  };
}

/** `target:` must be a target the commands can open, and hold no credentials: parsed as `--target` is (no I/O; the message masks credentials). */
function checkTarget(io: CommandIo, policy: Policy): Diagnostic[] {
  if (policy.target === undefined) return [];
  try {
    parseTarget(policy.target, io.cwd);
    return [];
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    return [{ code: "invalid-target", message: `target: ${error.message}`, file: policy.file, ...(policy.targetPosition ?? { line: 1, col: 1 }) }];
  }
}
