import { formatBytes, formatDuration } from "../../util/units.ts";
import type { PlanFile, PlannedFile, PlannedList } from "../plan-file.ts";

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function tally(t: { files: number; bytes: number }): string {
  return `${count(t.files)} files, ${formatBytes(t.bytes)}`;
}

/**
 * Where a plan's listing came from when not from listing the target, and how old it was when
 * planned, e.g. "from the S3 Inventory s3://logs/…/manifest.json of 2026-11-01T00:00:00.000Z,
 * 12h old; apply checks each file on the target": undefined for a listed target.
 */
export function listingSourceOf(plan: Pick<PlanFile, "listing" | "createdAt">, quote: (location: string) => string = (location) => location): string | undefined {
  const source = plan.listing.source;
  if (source === undefined) return undefined;
  const kind = source.kind === "s3-inventory" ? "the S3 Inventory" : "the saved listing";
  return `from ${kind} ${quote(source.location)} of ${source.listedAt}, ${
    formatDuration(Math.max(0, Date.parse(plan.createdAt) - Date.parse(source.listedAt)))
  } old when planned; apply checks each file on the target`;
}

export function ageOf(file: PlannedFile, plan: PlanFile): string {
  return formatDuration(Date.parse(plan.now) - Date.parse(file.mtime));
}

export function reasonOf(file: PlannedFile): string {
  const others = file.rules.filter((r) => r !== file.decidedBy);
  const reason = others.length ? `${file.decidedBy} (also: ${others.join(", ")})` : file.decidedBy;
  return file.lastUse !== undefined ? `${reason}, ${lastUseOf(file)}` : reason;
}

/** A recorded use in words: "last used 2026-11-20 14:03 UTC (access.log.1:1234)". */
export function lastUseOf(file: Pick<PlannedFile, "lastUse" | "lastUseFrom">): string {
  return `last used ${file.lastUse!.slice(0, 16).replace("T", " ")} UTC (${file.lastUseFrom})`;
}

/** The first `limit` planned files (all with Infinity), made only as far as they are shown. */
export function firstOf(files: PlannedList, limit: number): PlannedFile[] {
  const shown: PlannedFile[] = [];
  for (const file of files) {
    if (shown.length >= limit) break;
    shown.push(file);
  }
  return shown;
}
