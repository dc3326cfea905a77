import { loadPolicy, type Policy } from "../../src/policy/load.ts";
import { evaluate, type Evaluation } from "../../src/plan/planner.ts";
import { type Listing, listingOf } from "../../src/sstate/listing.ts";

export const NOW = Date.parse("2026-11-01T12:00:00Z");
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A file for planner tests: path plus its age before NOW (default 10 days) and size. */
export interface TestFile {
  path: string;
  age?: number;
  size?: number;
}

export function listingFrom(files: readonly TestFile[]): Listing {
  return listingOf(files.map((f) => ({ path: f.path, size: f.size ?? 100, mtimeMs: NOW - (f.age ?? 10 * DAY) })));
}

export function policyFrom(yaml: string, file = "test-policy.yaml"): Policy {
  const { policy, diagnostics } = loadPolicy(yaml, file);
  if (!policy || diagnostics.length > 0) throw new Error(`test policy is invalid:\n${diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join("\n")}`);
  return policy;
}

export function planFor(yaml: string, files: readonly TestFile[], referencedHashes = new Map<string, Set<string>>()): Evaluation {
  return evaluate({ listing: listingFrom(files), policy: policyFrom(yaml), now: NOW, referencedHashes, explainKept: true });
}

export function deletedPaths(evaluation: Evaluation): string[] {
  return Array.from(evaluation.deleted, (i) => evaluation.listing.path(i));
}

/** One decision as plain data, for assertions. */
export interface Decision {
  path: string;
  rules: readonly string[];
  decidedBy: string;
  /** The path of the archive the deletion depends on. */
  after?: string;
}

function decisionsOf(evaluation: Evaluation, indexes: Int32Array | undefined): Decision[] {
  return Array.from(indexes ?? [], (i) => {
    const after = evaluation.after(i);
    return { path: evaluation.listing.path(i), rules: evaluation.rulesOf(i), decidedBy: evaluation.decidedBy(i), ...(after >= 0 ? { after: evaluation.listing.path(after) } : {}) };
  });
}

export function deletedDecisions(evaluation: Evaluation): Decision[] {
  return decisionsOf(evaluation, evaluation.deleted);
}

/** The kept files' decisions (planFor explains kept files). */
export function keptDecisions(evaluation: Evaluation): Decision[] {
  return decisionsOf(evaluation, evaluation.kept);
}

/** An sstate path built from its parts (64-hex hash derived from `seed`). */
export function sstatePath(parts: { pn: string; arch?: string; task: string; ext?: string; seed: string | number; pv?: string; pr?: string; nativelsb?: string; version?: string }): string {
  const hash = hashFrom(parts.seed);
  const swspec = parts.arch === undefined;
  const target = swspec ? "" : `${parts.arch}-poky-linux`;
  const name = `sstate:${parts.pn}:${target}:${parts.pv ?? "1.0"}:${parts.pr ?? "r0"}:${parts.arch ?? ""}:${parts.version ?? "14"}:${hash}_${parts.task}${parts.ext ?? ".tar.zst"}`;
  return `${parts.nativelsb ? `${parts.nativelsb}/` : ""}${hash.slice(0, 2)}/${hash.slice(2, 4)}/${name}`;
}

export function hashFrom(seed: string | number): string {
  let h = 2166136261;
  const text = String(seed);
  let out = "";
  for (let round = 0; out.length < 64; round++) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    h = Math.imul(h ^ round, 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 64);
}
