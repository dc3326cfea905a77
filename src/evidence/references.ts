import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Diagnostic } from "../policy/diagnostics.ts";
import type { Policy, ReferenceSource } from "../policy/load.ts";
import { hashOfStamp, parseManifest } from "../sstate/stamps.ts";
import { readTextFile } from "../util/text-file.ts";

/** About 500,000 hashes: the stamps of many releases of a large distro. */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;

/** Every hash a stamps tree names, at any depth (work-shared stamps are one level deep). */
export async function readStampHashes(dir: string, into = new Set<string>()): Promise<Set<string>> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.isDirectory()) await readStampHashes(join(dir, entry.name), into);
    else {
      const hash = hashOfStamp(entry.name);
      if (hash) into.add(hash);
    }
  }
  return into;
}

/**
 * Reads the stamps directories and manifests a policy names (the planner's "referenced
 * hashes"). Problems are reported at the position of the path in the policy; so is a directory
 * or manifest that names no hash (a warning: its rule keeps nothing by it).
 */
export async function resolveReferences(policy: Policy): Promise<{ hashes: Map<string, Set<string>>; diagnostics: Diagnostic[]; warnings: Diagnostic[] }> {
  const hashes = new Map<string, Set<string>>();
  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const problem = (ref: ReferenceSource, code: string, message: string, hint?: string) => diagnostics.push({ code, message, file: policy.file, ...ref.position, ...(hint ? { hint } : {}) });
  const namesNone = (rule: string, ref: ReferenceSource, what: string, hint: string) =>
    warnings.push({ code: "names-no-hash", message: `${what} '${ref.written}' names no hash: rule '${rule}' keeps nothing by it`, file: policy.file, ...ref.position, hint, severity: "warning" });
  for (const rule of policy.rules) {
    if (rule.references.length === 0) continue;
    const set = new Set<string>();
    hashes.set(rule.name, set);
    for (const ref of rule.references) {
      const info = await stat(ref.path).catch(() => undefined);
      if (ref.kind === "stamps") {
        if (!info?.isDirectory()) {
          problem(ref, "missing-stamps", `stamps directory '${ref.written}' does not exist`, "paths are relative to the policy file; point at a build's tmp/stamps");
          continue;
        }
        try {
          const found = await readStampHashes(ref.path);
          if (found.size === 0) {
            namesNone(rule.name, ref, "stamps directory", "it holds no *.do_<task>.sigdata.<hash> or *.do_<task>_setscene.<hash> stamp: point at a build's tmp/stamps after a build");
          }
          for (const h of found) set.add(h);
        } catch (error) {
          problem(ref, "unreadable-stamps", `cannot read stamps directory '${ref.written}': ${(error as Error).message}`);
        }
      } else {
        if (info === undefined) {
          problem(ref, "missing-manifest", `hashes manifest '${ref.written}' does not exist`, "paths are relative to the policy file");
          continue;
        }
        const read = await readTextFile(ref.path, "hashes manifest", MAX_MANIFEST_BYTES);
        if ("problem" in read) {
          diagnostics.push({ code: "unreadable-manifest", file: ref.path, ...read.problem });
          continue;
        }
        const manifest = parseManifest(read.text);
        for (const p of manifest.problems) diagnostics.push({ code: "bad-manifest", message: p.message, file: ref.path, line: p.line, col: p.col });
        if (manifest.hashes.size === 0 && manifest.problems.length === 0) namesNone(rule.name, ref, "hashes manifest", "it is empty or holds only comments: one unihash or sstate file name per line");
        for (const h of manifest.hashes) set.add(h);
      }
    }
  }
  return { hashes, diagnostics, warnings };
}
