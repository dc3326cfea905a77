import { dirname, resolve } from "node:path";
import { parseTarget, TargetError } from "../backends/index.ts";
import { byPosition, type Diagnostic, excerpt } from "../policy/diagnostics.ts";
import { loadPolicy, MAX_POLICY_BYTES, type Policy } from "../policy/load.ts";
import { isUrlLocation } from "../util/location.ts";
import { readTextFile } from "../util/text-file.ts";
import { manifestsTargetOf } from "./build-manifests.ts";
import { resolveReferences } from "./references.ts";
import { namesLocalLog } from "./uses/read.ts";

export interface CheckedPolicy {
  /** Usable only when there are no diagnostics. */
  policy?: Policy;
  /** The hashes each rule's stamps and manifests name, by rule name. */
  evidence?: Map<string, Set<string>>;
  /** Every problem of the file and of what it names, in file order. */
  diagnostics: Diagnostic[];
  /** What is valid but likely not meant, in file order: said, and the policy is still used. */
  warnings: Diagnostic[];
}

/** Reads a policy file and the stamps and manifests it names, collecting every problem at once. */
export async function readPolicyFile(file: string, cwd: string): Promise<CheckedPolicy> {
  const read = await readTextFile(resolve(cwd, file), "policy", MAX_POLICY_BYTES);
  if ("problem" in read) return { diagnostics: [{ code: "unreadable", file, ...read.problem }], warnings: [] };
  const loaded = loadPolicy(read.text, file);
  if (!loaded.policy) return { diagnostics: loaded.diagnostics.sort(byPosition), warnings: loaded.warnings.sort(byPosition) };
  const targetProblem = [...checkTarget(loaded.policy, cwd), ...checkBuildLocations(loaded.policy, cwd)];
  // Relative stamps/manifest paths are relative to the policy file, wherever we run from.
  for (const rule of loaded.policy.rules) for (const ref of rule.references) ref.path = resolve(cwd, ref.path);
  for (const use of loaded.policy.uses) if (!isUrlLocation(use.location)) use.location = resolve(cwd, use.location);
  const references = await resolveReferences(loaded.policy);
  return {
    policy: loaded.policy,
    evidence: references.hashes,
    diagnostics: [...loaded.diagnostics, ...targetProblem, ...references.diagnostics, ...(await checkLocalLogs(loaded.policy))].sort(byPosition),
    warnings: [...loaded.warnings, ...references.warnings].sort(byPosition),
  };
}

/** Each local `uses:` log must name a file (read only by plan); remote ones are reached only when planning. */
async function checkLocalLogs(policy: Policy): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  for (const use of policy.uses) {
    if (isUrlLocation(use.location) || (await namesLocalLog(use.location))) continue;
    diagnostics.push({
      code: "missing-log",
      message: `access log '${excerpt(use.written, 200)}': no log file matches`,
      file: policy.file,
      ...use.position,
      hint: "paths are relative to the policy file",
    });
  }
  return diagnostics;
}

/** A `used-by-builds` location is opened like a target: checked as one before anything is listed (no I/O). */
function checkBuildLocations(policy: Policy, cwd: string): Diagnostic[] {
  const problems: Diagnostic[] = [];
  for (const source of policy.rules.flatMap((rule) => rule.builds)) {
    if (source.from === undefined) continue;
    try {
      manifestsTargetOf(source.from, dirname(resolve(cwd, policy.file)));
    } catch (error) {
      if (!(error instanceof TargetError)) throw error;
      problems.push({ code: "invalid-target", message: `used-by-builds from: ${error.message}`, file: policy.file, ...source.position });
    }
  }
  return problems;
}

/** `target:` must be a target the commands can open, and hold no credentials: parsed as `--target` is (no I/O; the message masks credentials). */
function checkTarget(policy: Policy, cwd: string): Diagnostic[] {
  if (policy.target === undefined) return [];
  try {
    parseTarget(policy.target, cwd);
    return [];
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    return [{ code: "invalid-target", message: `target: ${error.message}`, file: policy.file, ...(policy.targetPosition ?? { line: 1, col: 1 }) }];
  }
}
