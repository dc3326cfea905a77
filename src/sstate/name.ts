/**
 * The sstate file-name grammar (SPEC §1):
 *   [<nativelsb>/]<h0:2>/[<h2:4>/]sstate:<pn>:<pkg_target>:<pv>:<pr>:<pkgarch>:<version>:<hash>_<task><ext>
 * Anything that does not parse is unmanaged and is never touched.
 */
import { randomBytes } from "node:crypto";

export type ManagedKind = "archive" | "siginfo" | "signature" | "done" | "temp";
export const MANAGED_KINDS: readonly ManagedKind[] = ["archive", "siginfo", "signature", "done", "temp"];

/** Fields of a parsed sstate name; strings are interned so a million entries share them. */
export interface SstateName {
  kind: ManagedKind;
  pn: string;
  pkgTarget: string;
  pv: string;
  pr: string;
  /** SSTATE_PKGARCH; empty for SWSPEC names. */
  arch: string;
  sstateVersion: string;
  /** The task's unihash (64 or 32 hex), or INVALID. */
  hash: string;
  /** Task name without `do_`. */
  task: string;
  /** `.tar.zst` or `.tgz`. */
  archiveExt: string;
  /** Everything after the task: `.tar.zst`, `.tgz.siginfo`, `.tar.zst.sig`, … (temp: including the random tail). */
  suffix: string;
  /** The directories above the hash directories (`universal`, `ubuntu-22.04`, `isarnative`), or "". */
  nativelsb: string;
  /**
   * pn+arch+task identity, the unit of `orphan` and `siginfo-only`: a number shared by every
   * name of the task within one process (a million files have hundreds of thousands of tasks,
   * and numbers hash for free).
   */
  taskKey: TaskKey;
}

export type TaskKey = number;

// A sticky pattern tested in place (no match arrays, no slices): the hash is read once per
// file of million-file listings.
const HASH_64 = /[0-9a-f]{64}_/y;
const HASH_32 = /[0-9a-f]{32}_/y;
const TASK = /[A-Za-z0-9_+-]+\./y;
/**
 * `NamedTemporaryFile(prefix=name)` appends 8 characters; shell `mktemp name.XXXXXXXX` appends a
 * dot and 8; this tool's own uploads write `name.keeper-` and 8 hex digits (see uploadTemporaryPath).
 */
const TEMP_TAIL = /^(?:\.?[A-Za-z0-9_]{8}|\.keeper-[0-9a-f]{8})$/;
const UPLOAD_TEMP_TAIL = /\.keeper-[0-9a-f]{8}$/;
const DOT = 46;
const SLASH = 47;

/** What may follow the task: an archive extension, then an optional companion extension. */
interface Ending {
  archiveExt: string;
  kind: ManagedKind;
  /** `archiveExt` plus the companion's extension: one shared string per ending (temp: everything after the task). */
  suffix: string;
}
const ARCHIVE_EXTS = [".tar.zst", ".tgz"];
/** `.siginfo` before `.sig`: the longer ending first. */
const COMPANIONS = [
  { ext: ".siginfo", kind: "siginfo" },
  { ext: ".sig", kind: "signature" },
  { ext: ".done", kind: "done" },
] as const;
const ENDINGS: readonly Ending[][] = ARCHIVE_EXTS.map((archiveExt) => [
  ...COMPANIONS.map(({ ext, kind }) => ({ archiveExt, kind, suffix: archiveExt + ext })),
  { archiveExt, kind: "archive", suffix: archiveExt },
]);

const interned = new Map<string, string>();
/** Returns one shared copy of a short repeated string (pn, arch, task…) to keep per-file records small. */
export function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  // Flatten any sliced substring so the interned copy doesn't pin the whole path it came from.
  const own = (" " + value).slice(1);
  interned.set(own, own);
  return own;
}

/**
 * The last name parsed and its path up to the end of the task. In path order an archive's
 * .siginfo/.sig/.done come right after it: they share everything up to their ending.
 */
let previousStem = "\u0000";
let previousName: SstateName | undefined;

/** Parses a path relative to the cache root; returns undefined for unmanaged files. */
export function parseSstatePath(relativePath: string): SstateName | undefined {
  if (extendsStem(relativePath, previousStem)) {
    const ending = endingAt(relativePath, previousStem.length);
    return ending && { ...previousName!, kind: ending.kind, archiveExt: ending.archiveExt, suffix: ending.suffix };
  }
  // Index arithmetic instead of split(): this runs once per file of million-file listings.
  const slash = relativePath.lastIndexOf("/");
  const nameStart = slash + 1;
  if (!relativePath.startsWith("sstate:", nameStart)) return undefined;
  const pnEnd = relativePath.indexOf(":", nameStart + 7);
  const targetEnd = pnEnd < 0 ? -1 : relativePath.indexOf(":", pnEnd + 1);
  const versionEnd = relativePath.lastIndexOf(":");
  const archEnd = relativePath.lastIndexOf(":", versionEnd - 1);
  const prEnd = relativePath.lastIndexOf(":", archEnd - 1);
  // PV may itself contain ':' only in hand-made names; keep everything between pkg_target and pr.
  const pvEnd = relativePath.lastIndexOf(":", prEnd - 1);
  if (targetEnd < 0 || pvEnd <= targetEnd) return undefined;
  const hashStart = versionEnd + 1;
  const hashLength = matchesAt(HASH_64, relativePath, hashStart) ? 64 : matchesAt(HASH_32, relativePath, hashStart) ? 32 : relativePath.startsWith("INVALID_", hashStart) ? 7 : 0;
  if (hashLength === 0) return undefined;
  const taskStart = hashStart + hashLength + 1;
  if (!matchesAt(TASK, relativePath, taskStart)) return undefined;
  const extStart = TASK.lastIndex - 1;
  const ending = endingAt(relativePath, extStart);
  if (ending === undefined) return undefined;
  const header = headerFields(relativePath, nameStart, pnEnd, targetEnd, pvEnd, prEnd, archEnd, versionEnd);
  const task = taskOf(relativePath.slice(taskStart, extStart));
  const name: SstateName = {
    kind: ending.kind,
    pn: header.pn,
    pkgTarget: header.pkgTarget,
    pv: header.pv,
    pr: header.pr,
    arch: header.arch,
    sstateVersion: header.sstateVersion,
    hash: relativePath.slice(hashStart, hashStart + hashLength),
    task: task.name,
    archiveExt: ending.archiveExt,
    suffix: ending.suffix,
    nativelsb: nativelsbOf(relativePath, slash, hashStart),
    taskKey: taskKeyOf(header, task),
  };
  previousStem = relativePath.slice(0, extStart);
  previousName = name;
  return name;
}

/**
 * Whether `path` is `stem` followed by an ending. Compared as a slice: `===` compares memory at
 * once, where `startsWith` walked the 150 characters of a path one by one (measured 3.5× slower).
 */
function extendsStem(path: string, stem: string): boolean {
  const length = stem.length;
  return path.charCodeAt(length) === DOT && path.charCodeAt(length - 1) === stem.charCodeAt(length - 1) && path.slice(0, length) === stem;
}

/** The ending at `extStart` (for a temp leftover: its own, with the random tail), or undefined if that is no sstate ending. */
function endingAt(path: string, extStart: number): Ending | undefined {
  const endings = ENDINGS.find((candidates) => path.startsWith(candidates[0]!.archiveExt, extStart));
  const ending = endings?.find((candidate) => path.startsWith(candidate.suffix, extStart));
  if (ending === undefined) return undefined;
  const restStart = extStart + ending.suffix.length;
  if (restStart === path.length) return ending;
  return TEMP_TAIL.test(path.slice(restStart)) ? { archiveExt: ending.archiveExt, kind: "temp", suffix: path.slice(extStart) } : undefined;
}

function matchesAt(pattern: RegExp, text: string, at: number): boolean {
  pattern.lastIndex = at;
  return pattern.test(text);
}

/** A task name and a small number for it; a cache has a few dozen tasks. */
interface Task {
  name: string;
  id: number;
}
const tasks = new Map<string, Task>();

function taskOf(text: string): Task {
  let task = tasks.get(text);
  if (task === undefined) {
    task = { name: intern(text), id: tasks.size };
    tasks.set(task.name, task);
  }
  return task;
}

/** `taskKeys` (task id → taskKey, -1 for none yet) is shared by every header of the same pn and arch. */
type HeaderFields = Pick<SstateName, "pn" | "pkgTarget" | "pv" | "pr" | "arch" | "sstateVersion"> & { taskKeys: TaskKey[] };
const taskKeysByPnArch = new Map<string, TaskKey[]>();
/**
 * A dictionary object rather than a Map: measured 30% faster for the tens of thousands of
 * headers of a million-file cache. Without a prototype, no key means anything else.
 */
const headers: Record<string, HeaderFields> = Object.create(null);
let taskKeyCount = 0;

/**
 * `sstate:<pn>:<pkg_target>:<pv>:<pr>:<pkgarch>:<version>` repeats for every task and hash of
 * a recipe build: one lookup of the whole header replaces six.
 */
function headerFields(path: string, nameStart: number, pnEnd: number, targetEnd: number, pvEnd: number, prEnd: number, archEnd: number, versionEnd: number): HeaderFields {
  const header = path.slice(nameStart, versionEnd);
  let fields = headers[header];
  if (fields === undefined) {
    fields = {
      pn: intern(path.slice(nameStart + 7, pnEnd)),
      pkgTarget: intern(path.slice(pnEnd + 1, targetEnd)),
      pv: intern(path.slice(targetEnd + 1, pvEnd)),
      pr: intern(path.slice(pvEnd + 1, prEnd)),
      arch: intern(path.slice(prEnd + 1, archEnd)),
      sstateVersion: intern(path.slice(archEnd + 1, versionEnd)),
      taskKeys: [],
    };
    const pnArch = `${fields.pn}\u0000${fields.arch}`;
    const shared = taskKeysByPnArch.get(pnArch);
    if (shared) fields.taskKeys = shared;
    else taskKeysByPnArch.set(pnArch, fields.taskKeys);
    // A property key is stored as its own internalised copy: the path is not pinned.
    headers[header] = fields;
  }
  return fields;
}

function taskKeyOf(header: HeaderFields, task: Task): TaskKey {
  const keys = header.taskKeys;
  // Kept free of holes (-1 for "none yet"): reading a hole looks up Array.prototype.
  while (keys.length <= task.id) keys.push(-1);
  if (keys[task.id] === -1) keys[task.id] = taskKeyCount++;
  return keys[task.id]!;
}

/**
 * What is above the hash directories (`h0:2/h2:4`, or the older `h0:2`) of the file's
 * directory. Compared in place: slicing here cost a million short-lived strings per listing.
 */
function nativelsbOf(path: string, slash: number, hashStart: number): string {
  const twoChars = (at: number, from: number) => path.charCodeAt(at) === path.charCodeAt(hashStart + from) && path.charCodeAt(at + 1) === path.charCodeAt(hashStart + from + 1);
  const dirStartsAt = (at: number) => at === 0 || path.charCodeAt(at - 1) === SLASH;
  let hashDirsStart = slash;
  if (slash >= 5 && twoChars(slash - 5, 0) && path.charCodeAt(slash - 3) === SLASH && twoChars(slash - 2, 2) && dirStartsAt(slash - 5)) hashDirsStart = slash - 5;
  else if (slash >= 2 && twoChars(slash - 2, 0) && dirStartsAt(slash - 2)) hashDirsStart = slash - 2;
  if (hashDirsStart <= 0) return "";
  // A cache has one to three of these (universal, a host distro…): match them in place.
  const length = hashDirsStart - 1;
  const known = knownNativelsbs.find((candidate) => candidate.length === length && path.startsWith(candidate));
  if (known !== undefined) return known;
  const found = intern(path.slice(0, length));
  knownNativelsbs.push(found);
  return found;
}
const knownNativelsbs: string[] = [];

/** The archive a companion (.siginfo/.sig/.done) belongs to: same directory, same name stem. */
export function archivePathOf(path: string, name: SstateName): string {
  return path.slice(0, path.length - name.suffix.length + name.archiveExt.length);
}

/**
 * Where an upload writes an object before renaming it to `path`: beside it, so that the rename
 * is atomic, and named so that a killed upload's leftover is a temp file that `upload` cleans.
 */
export function uploadTemporaryPath(path: string): string {
  return `${path}.keeper-${randomBytes(4).toString("hex")}`;
}

/** Whether a temp leftover is one of this tool's upload temporaries (rather than bitbake's own). */
export function isUploadTemporary(name: SstateName): boolean {
  return name.kind === "temp" && UPLOAD_TEMP_TAIL.test(name.suffix);
}

/** True for a well-formed unihash as written in names and stamps. */
export function isUnihash(text: string): boolean {
  return /^(?:[0-9a-f]{64}|[0-9a-f]{32})$/.test(text);
}
