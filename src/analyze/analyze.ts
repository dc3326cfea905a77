/**
 * Why a local build could not use the remote cache (isar-sstate `analyze`): for each local item
 * the target lacks, the signature of the newest remote item of the same pn, arch and task is
 * compared with the local one, bitbake-diffsigs style, following changed dependencies.
 */
import { BackendError, NotFoundError, type Backend } from "../backends/backend.ts";
import { compareSigData } from "../siginfo/compare.ts";
import { decodeSiginfo, LegacySiginfoError, SiginfoFormatError, type SigData } from "../siginfo/decode.ts";
import { isManaged, type Listing, type ManagedFile } from "../sstate/listing.ts";
import type { TaskKey } from "../sstate/name.ts";
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

interface LocalItem {
  file: ManagedFile;
  hasArchive: boolean;
  siginfo: ManagedFile | undefined;
}

const itemKey = (file: ManagedFile) => `${file.name.taskKey}\u0000${file.name.hash}`;

/**
 * The local archives and siginfo files of the selected tasks whose hash the target lacks: an
 * archive is found when the target has the archive, a siginfo-only task when it has the siginfo.
 * Without `taskMatches`, every task that has an archive in the local cache is selected.
 */
export function missingItems(local: Listing, remote: Listing, taskMatches?: (task: string) => boolean): MissingItems {
  const localItems = new Map<string, LocalItem>();
  const archiveTasks = new Set<string>();
  for (const file of local.files) {
    if (!isManaged(file) || (file.name.kind !== "archive" && file.name.kind !== "siginfo")) continue;
    const key = itemKey(file);
    let item = localItems.get(key);
    if (!item) {
      item = { file, hasArchive: false, siginfo: undefined };
      localItems.set(key, item);
    }
    if (file.name.kind === "archive") {
      item.hasArchive = true;
      archiveTasks.add(file.name.task);
    } else {
      item.siginfo ??= file;
    }
  }
  const selected = taskMatches ?? ((task: string) => archiveTasks.has(task));

  const remoteArchives = new Set<string>();
  const remoteSiginfos = new Set<string>();
  const candidatesByTask = new Map<TaskKey, ManagedFile[]>();
  for (const file of remote.files) {
    if (!isManaged(file)) continue;
    if (file.name.kind === "archive") remoteArchives.add(itemKey(file));
    if (file.name.kind !== "siginfo") continue;
    remoteSiginfos.add(itemKey(file));
    const key = file.name.taskKey;
    const candidates = candidatesByTask.get(key);
    if (candidates) candidates.push(file);
    else candidatesByTask.set(key, [file]);
  }

  const result: MissingItems = { missing: [], found: 0 };
  for (const [key, item] of localItems) {
    const { name } = item.file;
    if (!selected(name.task)) continue;
    if ((item.hasArchive ? remoteArchives : remoteSiginfos).has(key)) {
      result.found++;
      continue;
    }
    result.missing.push({
      pn: name.pn,
      arch: name.arch,
      task: name.task,
      hash: name.hash,
      localSiginfo: item.siginfo,
      candidates: newestPerHash((candidatesByTask.get(name.taskKey) ?? []).filter((c) => c.name.hash !== name.hash)),
    });
  }
  result.missing.sort((a, b) => compareCodeUnits(a.pn, b.pn) || compareCodeUnits(a.arch, b.arch) || compareCodeUnits(a.task, b.task) || compareCodeUnits(a.hash, b.hash));
  return result;
}

function newestPerHash(files: ManagedFile[]): ManagedFile[] {
  const newest = new Map<string, ManagedFile>();
  for (const file of files.sort((a, b) => b.mtimeMs - a.mtimeMs || compareCodeUnits(a.path, b.path))) {
    if (!newest.has(file.name.hash)) newest.set(file.name.hash, file);
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
  /** Siginfo files by hash, to find the dependencies a comparison descends into. */
  readonly byHash = new Map<string, ManagedFile[]>();

  constructor(side: Side) {
    this.#backend = side.backend;
    for (const file of side.listing.files) {
      if (!isManaged(file) || file.name.kind !== "siginfo") continue;
      const same = this.byHash.get(file.name.hash);
      if (same) same.push(file);
      else this.byHash.set(file.name.hash, [file]);
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
    return this.byHash.get(hash)?.find((file) => file.name.task === task && (pn === undefined || file.name.pn === pn));
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
