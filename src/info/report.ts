/**
 * What is in a cache (isar-sstate `info -v` and more): a pure function of a listing and *now*,
 * computed in one pass so that it stays linear on million-file caches.
 */
import type { Tally } from "../plan/plan-file.ts";
import type { ListedFile, Listing, ManagedFile } from "../sstate/listing.ts";
import { archivePathOf, MANAGED_KINDS, type ManagedKind, type TaskKey } from "../sstate/name.ts";
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

interface TaskGroup {
  files: number;
  bytes: number;
  archives: number;
  archiveBytes: number;
  newestArchive: ManagedFile | undefined;
}

export function cacheInfo(listing: Listing, options: InfoOptions): InfoReport {
  const { now, top = 10, examples = 5 } = options;
  const byKind = Object.fromEntries(INFO_KINDS.map((kind) => [kind, { files: 0, bytes: 0 }])) as Record<InfoKind, Tally>;
  const byArch = new Map<string, GroupTally>();
  const byTask = new Map<string, GroupTally>();
  const byRecipe = new Map<string, GroupTally>();
  const ages: Tally[] = AGE_BUCKETS.map(() => ({ files: 0, bytes: 0 }));
  const groups = new Map<TaskKey, TaskGroup>();
  const archivePaths = new Set<string>();
  // Companions are judged once every archive is known; most have theirs, so few wait here.
  const companionsWithoutArchiveYet: ManagedFile[] = [];
  const archivesByContent = new Map<string, ManagedFile[]>();
  let sawEtag = false;

  for (const file of listing.files) {
    if (file.etag !== undefined) sawEtag = true;
    const name = file.name;
    if (!name) {
      count(byKind.unmanaged, file);
      continue;
    }
    const isArchive = name.kind === "archive";
    count(byKind[name.kind], file);
    countGroup(byArch, name.arch, file, isArchive);
    countGroup(byTask, name.task, file, isArchive);
    countGroup(byRecipe, name.pn, file, isArchive);
    count(ages[ageBucketOf(now - file.mtimeMs)]!, file);

    const key = name.taskKey;
    let group = groups.get(key);
    if (!group) {
      group = { files: 0, bytes: 0, archives: 0, archiveBytes: 0, newestArchive: undefined };
      groups.set(key, group);
    }
    group.files++;
    group.bytes += file.size;
    if (isArchive) {
      archivePaths.add(file.path);
      group.archives++;
      group.archiveBytes += file.size;
      if (!group.newestArchive || isNewer(file as ManagedFile, group.newestArchive)) group.newestArchive = file as ManagedFile;
      if (file.etag !== undefined) {
        const contentKey = `${file.size}\u0000${file.etag}`;
        const same = archivesByContent.get(contentKey);
        if (same) same.push(file as ManagedFile);
        else archivesByContent.set(contentKey, [file as ManagedFile]);
      }
    } else if (name.kind !== "temp" && !archivePaths.has(archivePathOf(file.path, name))) {
      companionsWithoutArchiveYet.push(file as ManagedFile);
    }
  }

  const orphans: Tally = { files: 0, bytes: 0 };
  for (const file of companionsWithoutArchiveYet) {
    if (!archivePaths.has(archivePathOf(file.path, file.name)) && (groups.get(file.name.taskKey)?.archives ?? 0) > 0) count(orphans, file);
  }
  const siginfoOnly = { groups: 0, files: 0, bytes: 0 };
  const duplicates = { groups: 0, surplusFiles: 0, surplusBytes: 0 };
  for (const group of groups.values()) {
    if (group.archives === 0) {
      siginfoOnly.groups++;
      siginfoOnly.files += group.files;
      siginfoOnly.bytes += group.bytes;
    } else if (group.archives > 1) {
      duplicates.groups++;
      duplicates.surplusFiles += group.archives - 1;
      duplicates.surplusBytes += group.archiveBytes - group.newestArchive!.size;
    }
  }

  return {
    now: new Date(now).toISOString(),
    files: listing.files.length,
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
    orphans,
    siginfoOnly,
    duplicates,
    identicalArchives: sawEtag ? identicalArchives(archivesByContent, examples) : null,
  };
}

/** Same bytes under different unihashes: hash equivalence should have given them one hash. */
function identicalArchives(archivesByContent: Map<string, ManagedFile[]>, examples: number): IdenticalArchives {
  const result: IdenticalArchives = { groups: 0, files: 0, surplusBytes: 0, examples: [] };
  const sets: ManagedFile[][] = [];
  for (const archives of archivesByContent.values()) {
    if (archives.length < 2 || archives.every((archive) => archive.name.hash === archives[0]!.name.hash)) continue;
    result.groups++;
    result.files += archives.length;
    result.surplusBytes += (archives.length - 1) * archives[0]!.size;
    sets.push(archives);
  }
  const surplusOf = (archives: ManagedFile[]) => (archives.length - 1) * archives[0]!.size;
  result.examples = sets
    .map((archives) => ({ size: archives[0]!.size, etag: archives[0]!.etag!, files: archives.length, paths: archives.map((a) => a.path).sort(), surplus: surplusOf(archives) }))
    .sort((a, b) => b.surplus - a.surplus || (a.paths[0]! < b.paths[0]! ? -1 : 1))
    .slice(0, examples)
    .map(({ size, etag, files, paths }) => ({ size, etag, files, paths: paths.slice(0, examples) }));
  return result;
}

function ageBucketOf(ageMs: number): number {
  return AGE_BUCKETS.findIndex((bucket) => ageMs < bucket.belowMs);
}

/** Newest by mtime, ties by path, as the planner's `newest` orders them. */
function isNewer(file: ManagedFile, than: ManagedFile): boolean {
  return file.mtimeMs > than.mtimeMs || (file.mtimeMs === than.mtimeMs && file.path < than.path);
}

function count(tally: Tally, file: ListedFile): void {
  tally.files++;
  tally.bytes += file.size;
}

function countGroup(map: Map<string, GroupTally>, key: string, file: ListedFile, isArchive: boolean): void {
  let tally = map.get(key);
  if (!tally) {
    tally = { files: 0, bytes: 0, archives: 0 };
    map.set(key, tally);
  }
  count(tally, file);
  if (isArchive) tally.archives++;
}

function sortedRecord<T>(map: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...map].sort(([a], [b]) => compareCodeUnits(a, b)));
}
