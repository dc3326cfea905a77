/**
 * Why a local build could not use the remote cache (isar-sstate `analyze`): for each local item
 * the target lacks, the signature of the newest remote item of the same pn, arch and task is
 * compared with the local one, bitbake-diffsigs style, following changed dependencies.
 */
import { type Backend, BackendError, NotFoundError } from "../backends/backend.ts";
import { compareSigData } from "../siginfo/compare.ts";
import { decodeSiginfo, LegacySiginfoError, type SigData, SiginfoFormatError } from "../siginfo/decode.ts";
import type { Listing, ManagedFile } from "../sstate/listing.ts";
import { KIND, type TaskKey } from "../sstate/name.ts";
import { mapConcurrent } from "../util/concurrency.ts";
import { compareCodeUnits } from "../util/compare.ts";

/** One local pn+arch+task+hash that the target lacks. */
export interface MissingItem {
  pn: string;
  arch: string;
  task: string;
  hash: string;
  /** The local siginfo, when the local cache has one. */
  localSiginfo: ManagedFile | undefined;
  /** Remote siginfo files of the same pn, arch and task, one per hash, newest first. */
  candidates: ManagedFile[];
}

export interface MissingItems {
  /** Sorted by pn, arch, task, hash. */
  missing: MissingItem[];
  /** Local items of the selected tasks that the target has. */
  found: number;
}

/**
 * The local archives and siginfo files of the selected tasks whose hash the target lacks: an
 * archive is found when the target has the archive, a siginfo-only task when it has the siginfo.
 * Without `taskMatches`, every task that has an archive in the local cache is selected. Both
 * listings must share one parser (their task keys are then comparable).
 */
export function missingItems(local: Listing, remote: Listing, taskMatches?: (task: string) => boolean): MissingItems {
  if (local.names !== remote.names) throw new Error("missingItems: both listings must be read with one parser");
  const itemKey = (listing: Listing, i: number) => `${listing.taskKeys[i]}\u0000${listing.hash(i)}`;
  /** One entry per local pn+arch+task+hash: the first file seen, whether it has an archive, its siginfo. */
  const localItems = new Map<string, { first: number; hasArchive: boolean; siginfo: number }>();
  const archiveTasks = new Set<string>();
  for (let i = 0; i < local.count; i++) {
    const kind = local.kinds[i];
    if (kind !== KIND.archive && kind !== KIND.siginfo) continue;
    const key = itemKey(local, i);
    let item = localItems.get(key);
    if (!item) localItems.set(key, item = { first: i, hasArchive: false, siginfo: -1 });
    if (kind === KIND.archive) {
      item.hasArchive = true;
      archiveTasks.add(local.task(i));
    } else if (item.siginfo < 0) item.siginfo = i;
  }
  const selected = taskMatches ?? ((task: string) => archiveTasks.has(task));

  const remoteArchives = new Set<string>();
  const remoteSiginfos = new Set<string>();
  const candidatesByTask = new Map<TaskKey, number[]>();
  for (let i = 0; i < remote.count; i++) {
    const kind = remote.kinds[i];
    if (kind === KIND.archive) remoteArchives.add(itemKey(remote, i));
    if (kind !== KIND.siginfo) continue;
    remoteSiginfos.add(itemKey(remote, i));
    const taskKey = remote.taskKeys[i]!;
    const candidates = candidatesByTask.get(taskKey);
    if (candidates) candidates.push(i);
    else candidatesByTask.set(taskKey, [i]);
  }

  const result: MissingItems = { missing: [], found: 0 };
  for (const [key, item] of localItems) {
    const i = item.first;
    if (!selected(local.task(i))) continue;
    if ((item.hasArchive ? remoteArchives : remoteSiginfos).has(key)) {
      result.found++;
      continue;
    }
    const hash = local.hash(i);
    result.missing.push({
      pn: local.pn(i),
      arch: local.arch(i),
      task: local.task(i),
      hash,
      localSiginfo: item.siginfo >= 0 ? (local.file(item.siginfo) as ManagedFile) : undefined,
      candidates: newestPerHash(remote, (candidatesByTask.get(local.taskKeys[i]!) ?? []).filter((c) => remote.hash(c) !== hash)),
    });
  }
  result.missing.sort((a, b) => compareCodeUnits(a.pn, b.pn) || compareCodeUnits(a.arch, b.arch) || compareCodeUnits(a.task, b.task) || compareCodeUnits(a.hash, b.hash));
  return result;
}

function newestPerHash(listing: Listing, indexes: number[]): ManagedFile[] {
  const newest = new Map<string, ManagedFile>();
  for (const i of indexes.sort((a, b) => listing.mtimes[b]! - listing.mtimes[a]! || a - b)) {
    const hash = listing.hash(i);
    if (!newest.has(hash)) newest.set(hash, listing.file(i) as ManagedFile);
  }
  return [...newest.values()];
}

export type ItemOutcome = "compared" | "no-candidate" | "no-local-siginfo" | "unreadable";

export interface ItemAnalysis {
  item: MissingItem;
  outcome: ItemOutcome;
  /** The remote siginfo compared against (the newest candidate). */
  remote: ManagedFile | undefined;
  /** compareSigData's lines (remote → local), or why there is nothing to compare. */
  lines: string[];
}

export interface Side {
  backend: Backend;
  listing: Listing;
}

export interface AnalyzeOptions {
  concurrency: number;
  onProgress?: (itemsDone: number) => void;
}

/** Problems reading one siginfo that end its comparison with a message instead of the whole run. */
function isUnreadable(error: unknown): error is Error {
  return error instanceof LegacySiginfoError || error instanceof SiginfoFormatError || error instanceof NotFoundError || error instanceof BackendError;
}

/** Reads and decodes each siginfo of one cache once, however many comparisons need it. */
class SiginfoCache {
  readonly #backend: Backend;
  readonly #decoded = new Map<string, Promise<SigData>>();
  readonly #listing: Listing;
  /** The listing indexes of siginfo files by hash, to find the dependencies a comparison descends into. */
  readonly byHash = new Map<string, number[]>();

  constructor(side: Side) {
    this.#backend = side.backend;
    this.#listing = side.listing;
    const { listing } = side;
    for (let i = 0; i < listing.count; i++) {
      if (listing.kinds[i] !== KIND.siginfo) continue;
      const hash = listing.hash(i);
      const same = this.byHash.get(hash);
      if (same) same.push(i);
      else this.byHash.set(hash, [i]);
    }
  }

  read(file: ManagedFile): Promise<SigData> {
    let decoded = this.#decoded.get(file.path);
    if (!decoded) {
      decoded = this.#backend.get(file.path).then(decodeSiginfo);
      this.#decoded.set(file.path, decoded);
    }
    return decoded;
  }

  /** A dependency's siginfo: bitbake names it `pn:do_task`, `mc:<mc>:pn:do_task` or (before 2023) `/path/x.bb:do_task`. */
  find(depId: string, hash: string): ManagedFile | undefined {
    const at = depId.lastIndexOf(":do_");
    const task = depId.slice(at + ":do_".length);
    const owner = depId.slice(0, Math.max(at, 0));
    const pn = owner.includes("/") ? undefined : owner.slice(owner.lastIndexOf(":") + 1);
    const listing = this.#listing;
    const found = this.byHash.get(hash)?.find((i) => listing.task(i) === task && (pn === undefined || listing.pn(i) === pn));
    return found === undefined ? undefined : (listing.file(found) as ManagedFile);
  }
}

/** Compares each missing item with its newest remote candidate, `concurrency` items at a time; results in item order. */
export async function analyzeItems(items: readonly MissingItem[], local: Side, remote: Side, options: AnalyzeOptions): Promise<ItemAnalysis[]> {
  const caches = { local: new SiginfoCache(local), remote: new SiginfoCache(remote) };
  let done = 0;
  return mapConcurrent(items, options.concurrency, async (item) => {
    const analysis = await analyzeItem(item, caches);
    options.onProgress?.(++done);
    return analysis;
  });
}

async function analyzeItem(item: MissingItem, caches: { local: SiginfoCache; remote: SiginfoCache }): Promise<ItemAnalysis> {
  const remote = item.candidates[0];
  if (!remote) return { item, outcome: "no-candidate", remote, lines: ["no remote candidate with the same pn, arch and task"] };
  if (!item.localSiginfo) return { item, outcome: "no-local-siginfo", remote, lines: ["no local siginfo to compare: the local archive has no .siginfo"] };
  const sides: [string, SiginfoCache, ManagedFile][] = [
    ["remote", caches.remote, remote],
    ["local", caches.local, item.localSiginfo],
  ];
  const decoded: SigData[] = [];
  const problems: string[] = [];
  for (const [label, cache, file] of sides) {
    try {
      decoded.push(await cache.read(file));
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      problems.push(`${label} siginfo ${file.path}: ${error.message}`);
    }
  }
  if (problems.length > 0) return { item, outcome: "unreadable", remote, lines: problems };

  // A dependency built locally may have come from the remote cache and vice versa: look in both.
  const notes: string[] = [];
  const resolveDependency = async (depId: string, remoteHash: string, localHash: string): Promise<[SigData, SigData] | undefined> => {
    const before = locate(caches.remote, caches.local, depId, remoteHash);
    const after = locate(caches.local, caches.remote, depId, localHash);
    if (!before || !after) return undefined;
    try {
      return [await before.cache.read(before.file), await after.cache.read(after.file)];
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      notes.push(`(${depId}: ${error.message})`);
      return undefined;
    }
  };
  const lines = await compareSigData(decoded[0]!, decoded[1]!, { resolveDependency });
  return { item, outcome: "compared", remote, lines: lines.length > 0 ? [...lines, ...notes] : ["no difference in the signature data"] };
}

function locate(preferred: SiginfoCache, other: SiginfoCache, depId: string, hash: string): { cache: SiginfoCache; file: ManagedFile } | undefined {
  for (const cache of [preferred, other]) {
    const file = cache.find(depId, hash);
    if (file) return { cache, file };
  }
  return undefined;
}
