/**
 * Why a file is deleted or kept: every rule that selected it, the decision and what decided it,
 * from a fresh evaluation or from a plan file. One pass over the listing (or the plan's lists)
 * for all the paths asked about.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KIND, parseSstatePath } from "../sstate/name.ts";
import type { PlanFile, PlannedFile } from "./plan-file.ts";
import type { Evaluation } from "./planner.ts";

/**
 * `deleted`/`kept`: decided (`decidedBy` says by what). `not-deleted`: not in the plan's delete
 * list, and the plan has no keep list to say more. `unmanaged`: not an sstate file, never
 * touched. `not-listed`: not in the listing (or the plan's).
 */
export type WhyStatus = "deleted" | "kept" | "not-deleted" | "unmanaged" | "not-listed";

export interface WhyAnswer {
  /** The path as asked. */
  asked: string;
  status: WhyStatus;
  /** The file's path in the target, when it was found. */
  path?: string;
  /** Every rule that selected it, in policy order. */
  rules: readonly string[];
  decidedBy?: string;
  size?: number;
  mtime?: string;
  /** Age at the plan's *now*. */
  ageMs?: number;
  /** The archive its deletion depends on: if that one stays, so does this file. */
  after?: string;
  /** A use the policy's logs record later than the mtime, and where (a log and its line). */
  lastUse?: string;
  lastUseFrom?: string;
}

export interface WhyReport {
  target: string;
  now: string;
  /** The plan file's digest, when the answers come from one. */
  digest?: string;
  /** Whether the plan asked about a keep list (`plan --explain`). */
  keepListed: boolean;
  /** A guard refused the plan: apply deletes nothing of it. */
  refused: boolean;
  answers: WhyAnswer[];
}

/** The answers from an evaluation of a listing (`why --policy P --target T`). */
export function whyFromEvaluation(evaluation: Evaluation, plan: PlanFile, asked: readonly string[], cwd: string): WhyReport {
  const { listing } = evaluation;
  const now = Date.parse(plan.now);
  const wanted = new Lookup(asked, plan.target, cwd);
  const answers = new Map<string, WhyAnswer>();
  for (let i = 0; i < listing.count; i++) {
    const path = listing.path(i);
    for (const question of wanted.matching(path)) {
      if (answers.has(question)) continue;
      const found = { asked: question, path, size: listing.sizes[i]!, mtime: new Date(listing.mtimes[i]!).toISOString(), ageMs: now - listing.mtimes[i]! };
      if (listing.kinds[i] === KIND.unmanaged) answers.set(question, { ...found, status: "unmanaged", rules: [] });
      else {
        const after = evaluation.after(i);
        const used = evaluation.usedAt(i);
        answers.set(question, {
          ...found,
          status: evaluation.isDeleted(i) ? "deleted" : "kept",
          rules: evaluation.rulesOf(i),
          decidedBy: evaluation.decidedBy(i),
          ...(after >= 0 ? { after: listing.path(after) } : {}),
          ...(used.where !== undefined ? { lastUse: new Date(used.time).toISOString(), lastUseFrom: used.where } : {}),
        });
      }
    }
  }
  return { target: plan.target, now: plan.now, keepListed: true, refused: plan.refused, answers: asked.map((question) => answers.get(question) ?? notFound(question)) };
}

/** The answers a plan file gives: its delete list, and its keep list when it was made with --explain. */
export function whyFromPlan(plan: PlanFile, asked: readonly string[], cwd: string): WhyReport {
  const now = Date.parse(plan.now);
  const wanted = new Lookup(asked, plan.target, cwd);
  const answers = new Map<string, WhyAnswer>();
  const visit = (files: Iterable<PlannedFile>, status: WhyStatus) => {
    for (const file of files) {
      for (const question of wanted.matching(file.path)) {
        if (answers.has(question)) continue;
        answers.set(question, {
          asked: question,
          status,
          path: file.path,
          rules: file.rules,
          decidedBy: file.decidedBy,
          size: file.size,
          mtime: file.mtime,
          ageMs: now - Date.parse(file.mtime),
          ...(file.after !== undefined ? { after: file.after } : {}),
          ...(file.lastUse !== undefined ? { lastUse: file.lastUse, lastUseFrom: file.lastUseFrom! } : {}),
        });
      }
    }
  };
  visit(plan.delete, "deleted");
  if (plan.keep) visit(plan.keep, "kept");
  const unanswered = (question: string): WhyAnswer => {
    const path = wanted.pathOf(question);
    if (parseSstatePath(path) === undefined) return { asked: question, status: "unmanaged", path, rules: [] };
    return plan.keep ? notFound(question) : { asked: question, status: "not-deleted", rules: [] };
  };
  return {
    target: plan.target,
    now: plan.now,
    digest: plan.integrity,
    keepListed: plan.keep !== undefined,
    refused: plan.refused,
    answers: asked.map((question) => answers.get(question) ?? unanswered(question)),
  };
}

const notFound = (asked: string): WhyAnswer => ({ asked, status: "not-listed", rules: [] });

/**
 * The paths asked about, as paths in the target: as given (relative to the target's root), or
 * under the target's URL, or, for a local target, a path (from `cwd`) under its root. A bare
 * file name matches the file of that name in any directory (sstate names are unique by hash).
 */
class Lookup {
  readonly #byPath = new Map<string, string[]>();
  readonly #byName = new Map<string, string[]>();
  readonly #paths = new Map<string, string>();

  constructor(asked: readonly string[], target: string, cwd: string) {
    const url = target.endsWith("/") ? target : `${target}/`;
    const root = target.startsWith("file://") ? `${fileURLToPath(target).replace(/\/$/, "")}/` : undefined;
    for (const question of asked) {
      let path = question;
      if (path.startsWith(url)) path = path.slice(url.length);
      else if (root !== undefined && resolve(cwd, path).startsWith(root)) path = resolve(cwd, path).slice(root.length);
      else path = path.replace(/^(\.\/)+/, "");
      this.#paths.set(question, path);
      const index = !path.includes("/") && !isAbsolute(path) ? this.#byName : this.#byPath;
      index.set(path, [...(index.get(path) ?? []), question]);
    }
  }

  /** The questions that `path` answers. */
  matching(path: string): readonly string[] {
    const exact = this.#byPath.get(path);
    const byName = this.#byName.size > 0 ? this.#byName.get(path.slice(path.lastIndexOf("/") + 1)) : undefined;
    if (!byName) return exact ?? [];
    return exact ? [...exact, ...byName] : byName;
  }

  /** The path in the target a question names. */
  pathOf(question: string): string {
    return this.#paths.get(question)!;
  }
}
