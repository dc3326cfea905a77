/**
 * What happened to one planned file. `would-delete` only comes from a dry run and is never
 * journaled; the other four are what the journal records.
 */
export type Outcome = "deleted" | "missing" | "skipped" | "failed" | "would-delete";

export const JOURNALED_OUTCOMES: readonly Outcome[] = ["deleted", "missing", "skipped", "failed"];

/** One line of the journal and of the audit log. */
export interface FileResult {
  path: string;
  outcome: Outcome;
  /** Why a file was skipped or failed ("already gone" for missing). */
  reason?: string;
  /** The planned size (for deleted files: the bytes freed). */
  size: number;
  /** ISO 8601, when the outcome was known. */
  time: string;
}

/** Outcomes a re-run must not redo: the file is gone, or it changed and only a new plan may reconsider it. */
export function isSettled(outcome: Outcome): boolean {
  return outcome === "deleted" || outcome === "missing" || outcome === "skipped";
}
