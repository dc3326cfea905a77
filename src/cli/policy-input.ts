import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { resolveReferences } from "../io/references.ts";
import { byPosition, formatDiagnostic, type Diagnostic } from "../policy/diagnostics.ts";
import { loadPolicy, type Policy } from "../policy/load.ts";
import { EXIT, UserError, type CommandIo } from "./io.ts";

/** Reads, checks and resolves a policy file; every problem is printed and the command exits 2. */
export async function readPolicy(io: CommandIo, file: string): Promise<{ policy: Policy; referencedHashes: Map<string, Set<string>> }> {
  const { policy, referencedHashes, diagnostics } = await checkPolicy(io, file);
  if (!policy || diagnostics.length > 0) {
    throw new UserError(diagnostics.map(formatDiagnostic).join("\n"), EXIT.invalidInput);
  }
  return { policy, referencedHashes: referencedHashes! };
}

export async function checkPolicy(io: CommandIo, file: string): Promise<{ policy?: Policy; referencedHashes?: Map<string, Set<string>>; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    return { diagnostics: [{ code: "unreadable", message: `cannot read the policy: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`, file, line: 1, col: 1 }] };
  }
  const loaded = loadPolicy(text, file);
  if (!loaded.policy) return { diagnostics: loaded.diagnostics.sort(byPosition) };
  // Relative stamps/manifest paths are relative to the policy file, wherever we run from.
  for (const rule of loaded.policy.rules) for (const ref of rule.references) ref.path = resolve(io.cwd, ref.path);
  const references = await resolveReferences(loaded.policy);
  return { policy: loaded.policy, referencedHashes: references.hashes, diagnostics: [...loaded.diagnostics, ...references.diagnostics].sort(byPosition) };
}
