/**
 * What is in a cache (isar-sstate `info -v` and more): a pure function of a listing and *now*,
 * read from its columns in a few linear passes.
 */
import { groupsNewestFirst, type Tally } from "../plan/planner.ts";
import { orphan, siginfoOnly } from "../policy/selectors/groups.ts";
import type { EvaluationContext, SelectorDefinition } from "../policy/selectors/selector.ts";
import type { Listing } from "../sstate/listing.ts";
import { KIND, MANAGED_KINDS, type ManagedKind } from "../sstate/name.ts";
import { compareCodeUnits } from "../util/compare.ts";

export type InfoKind = ManagedKind | "unmanaged";
export const INFO_KINDS: readonly InfoKind[] = [...MANAGED_KINDS, "unmanaged"];

/** A tally of managed files that also counts the archives among them. */
export interface GroupTally extends Tally {
  archives: number;
}

const DAY = 86_400_000;
/** Upper bounds (exclusive) of the age buckets; files from the future (clock skew) count as new. */
export const AGE_BUCKETS: readonly { label: string; belowMs: number }[] = [
  { label: "<1d", belowMs: DAY },
  { label: "1–7d", belowMs: 7 * DAY },
  { label: "7–30d", belowMs: 30 * DAY },
  { label: "30–90d", belowMs: 90 * DAY },
  { label: "90–365d", belowMs: 365 * DAY },
  { label: ">365d", belowMs: Infinity },
];

export interface IdenticalArchives {
  /** Sets of archives with the same size and ETag under at least two different hashes. */
  groups: number;
  files: number;
  /** Bytes beyond one copy per set. */
  surplusBytes: number;
  /** The sets that waste the most bytes, with their first paths in path order. */
  examples: { size: number; etag: string; files: number; paths: string[] }[];
}

export interface InfoReport {
  now: string;
  files: number;
  bytes: number;
  byKind: Record<InfoKind, Tally>;
  /** Managed files per SSTATE_PKGARCH ("" for SWSPEC names), keys sorted. */
  byArch: Record<string, GroupTally>;
  /** Managed files per task (without do_), keys sorted. */
  byTask: Record<string, GroupTally>;
  recipes: number;
  /** The recipes holding the most bytes, biggest first. */
  topRecipes: ({ pn: string } & GroupTally)[];
  /** Managed files by age (mtime before *now*), in AGE_BUCKETS order. */
  ages: ({ label: string } & Tally)[];
  /** .siginfo/.sig/.done whose archive is absent, for a pn+arch+task that has an archive (`orphan: true`). */
  orphans: Tally;
  /** pn+arch+task groups without any archive, and their files (`siginfo-only: true`, OE --remove-orphans). */
  siginfoOnly: { groups: number } & Tally;
  /** pn+arch+task groups with more than one archive; surplus = every archive but the newest. */
  duplicates: { groups: number; surplusFiles: number; surplusBytes: number };
  /** null when the backend has no ETags (local files): identical content is then not visible from a listing. */
  identicalArchives: IdenticalArchives | null;
}

export interface InfoOptions {
  now: number;
  /** How many recipes `topRecipes` holds (default 10). */
  top?: number;
  /** How many sets `identicalArchives.examples` holds, and paths each (default 5). */
  examples?: number;
}

export function cacheInfo(listing: Listing, options: InfoOptions): InfoReport {
  const { now, top = 10, examples = 5 } = options;
  const { names } = listing;
  const byKind = Object.fromEntries(INFO_KINDS.map((kind) => [kind, { files: 0, bytes: 0 }])) as Record<InfoKind, Tally>;
  const ages: Tally[] = AGE_BUCKETS.map(() => ({ files: 0, bytes: 0 }));
  // Tallied per dictionary entry, then folded into per-arch/recipe/task records: a few thousand entries, not a million lookups.
  const byHeader = names.headers.map(emptyGroupTally);
  const byTaskId = names.tasks.map(emptyGroupTally);
  const archivesByContent = new Map<string, number[]>();
  for (let i = 0; i < listing.count; i++) {
    const size = listing.sizes[i]!;
    const kind = listing.kind(i);
    if (kind === undefined) {
      add(byKind.unmanaged, size);
      continue;
    }
    const isArchive = kind === "archive";
    add(byKind[kind], size);
    addGroup(byHeader[listing.headers[i]!]!, size, isArchive);
    addGroup(byTaskId[listing.tasks[i]!]!, size, isArchive);
    add(ages[ageBucketOf(now - listing.mtimes[i]!)]!, size);
    const etag = listing.etag(i);
    if (isArchive && etag !== undefined) {
      const contentKey = `${size}\u0000${etag}`;
      const same = archivesByContent.get(contentKey);
      if (same) same.push(i);
      else archivesByContent.set(contentKey, [i]);
    }
  }
  const byArch = new Map<string, GroupTally>();
  const byRecipe = new Map<string, GroupTally>();
  names.headers.forEach((header, id) => {
    merge(byArch, header.arch, byHeader[id]!);
    merge(byRecipe, header.pn, byHeader[id]!);
  });
  const byTask = new Map<string, GroupTally>();
  names.tasks.forEach((task, id) => merge(byTask, task, byTaskId[id]!));

  return {
    now: new Date(now).toISOString(),
    files: listing.count,
    bytes: listing.bytes,
    byKind,
    byArch: sortedRecord(byArch),
    byTask: sortedRecord(byTask),
    recipes: byRecipe.size,
    topRecipes: [...byRecipe]
      .map(([pn, tally]) => ({ pn, ...tally }))
      .sort((a, b) => b.bytes - a.bytes || (a.pn < b.pn ? -1 : 1))
      .slice(0, top),
    ages: AGE_BUCKETS.map((bucket, index) => ({ label: bucket.label, ...ages[index]! })),
    ...housekeeping(listing),
    identicalArchives: listing.hasEtags ? identicalArchives(listing, archivesByContent, examples) : null,
  };
}

/**
 * What the cleanup selectors would act on, found by their own code: `orphan` and
 * `siginfo-only` tests on the listing as it is (every listed archive survives), and the
 * planner's newest-first grouping of archives per pn+arch+task for duplicate generations.
 */
function housekeeping(listing: Listing): Pick<InfoReport, "orphans" | "siginfoOnly" | "duplicates"> {
  const archiveOf = listing.archiveIndexes();
  const context: EvaluationContext = {
    listing,
    now: 0,
    tasksWithArchive: listing.tasksWithArchive(),
    referencedHashes: new Map(),
    builds: new Map(),
    archiveSurvives: (companion) => archiveOf[companion]! >= 0,
    deletedByEarlierPhases: () => false,
    lastUse: (i) => listing.mtimes[i]!,
  };
  const testOf = (selector: SelectorDefinition) =>
    selector.compile({ value: true, ruleName: "info", action: "delete", report: () => undefined, warn: () => undefined, position: () => ({ line: 1, col: 1 }) })!.test!;
  const isOrphan = testOf(orphan);
  const isSiginfoOnly = testOf(siginfoOnly);
  const orphans: Tally = { files: 0, bytes: 0 };
  const siginfoOnlyTally = { groups: 0, files: 0, bytes: 0 };
  const siginfoOnlyTasks = new Set<number>();
  const archives: number[] = [];
  for (let i = 0; i < listing.count; i++) {
    if (!listing.isManaged(i)) continue;
    const size = listing.sizes[i]!;
    if (isOrphan(i, context)) add(orphans, size);
    if (isSiginfoOnly(i, context)) {
      add(siginfoOnlyTally, size);
      siginfoOnlyTasks.add(listing.taskKeys[i]!);
    }
    if (listing.kinds[i] === KIND.archive) archives.push(i);
  }
  siginfoOnlyTally.groups = siginfoOnlyTasks.size;
  const duplicates = { groups: 0, surplusFiles: 0, surplusBytes: 0 };
  const { members, starts } = groupsNewestFirst(listing, archives, ["pn", "arch", "task"]);
  for (let g = 0; g + 1 < starts.length; g++) {
    if (starts[g + 1]! - starts[g]! < 2) continue;
    duplicates.groups++;
    for (let m = starts[g]! + 1; m < starts[g + 1]!; m++) {
      duplicates.surplusFiles++;
      duplicates.surplusBytes += listing.sizes[members[m]!]!;
    }
  }
  return { orphans, siginfoOnly: siginfoOnlyTally, duplicates };
}

/** Same bytes under different unihashes: hash equivalence should have given them one hash. */
function identicalArchives(listing: Listing, archivesByContent: Map<string, number[]>, examples: number): IdenticalArchives {
  const result: IdenticalArchives = { groups: 0, files: 0, surplusBytes: 0, examples: [] };
  const sets: number[][] = [];
  for (const archives of archivesByContent.values()) {
    if (archives.length < 2 || archives.every((archive) => listing.hash(archive) === listing.hash(archives[0]!))) continue;
    result.groups++;
    result.files += archives.length;
    result.surplusBytes += (archives.length - 1) * listing.sizes[archives[0]!]!;
    sets.push(archives);
  }
  result.examples = sets
    .map((archives) => ({
      size: listing.sizes[archives[0]!]!,
      etag: listing.etag(archives[0]!)!,
      files: archives.length,
      paths: archives.map((a) => listing.path(a)).sort(compareCodeUnits),
      surplus: (archives.length - 1) * listing.sizes[archives[0]!]!,
    }))
    .sort((a, b) => b.surplus - a.surplus || compareCodeUnits(a.paths[0]!, b.paths[0]!))
    .slice(0, examples)
    .map(({ size, etag, files, paths }) => ({ size, etag, files, paths: paths.slice(0, examples) }));
  return result;
}

function ageBucketOf(ageMs: number): number {
  return AGE_BUCKETS.findIndex((bucket) => ageMs < bucket.belowMs);
}

function emptyGroupTally(): GroupTally {
  return { files: 0, bytes: 0, archives: 0 };
}

function add(tally: Tally, size: number): void {
  tally.files++;
  tally.bytes += size;
}

function addGroup(tally: GroupTally, size: number, isArchive: boolean): void {
  add(tally, size);
  if (isArchive) tally.archives++;
}

function merge(map: Map<string, GroupTally>, key: string, tally: GroupTally): void {
  if (tally.files === 0) return;
  const into = map.get(key);
  if (!into) map.set(key, { ...tally });
  else {
    into.files += tally.files;
    into.bytes += tally.bytes;
    into.archives += tally.archives;
  }
}

function sortedRecord<T>(map: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...map].sort(([a], [b]) => compareCodeUnits(a, b)));
}
