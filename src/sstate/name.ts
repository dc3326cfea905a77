/**
 * The sstate file-name grammar (SPEC §1):
 *   [<nativelsb>/]<h0:2>/[<h2:4>/]sstate:<pn>:<pkg_target>:<pv>:<pr>:<pkgarch>:<version>:<hash>_<task><ext>
 * Anything that does not parse is unmanaged and is never touched.
 */

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
}

/** Sticky: matched in place from the last ':' of the path, without slicing it out first. */
const NAME_TAIL = /([0-9a-f]{64}|[0-9a-f]{32}|INVALID)_([A-Za-z0-9_+-]+?)(\.tar\.zst|\.tgz)(\.siginfo|\.sig|\.done)?(.*)$/y;
/** `NamedTemporaryFile(prefix=name)` appends 8 characters; shell `mktemp name.XXXXXXXX` appends a dot and 8. */
const TEMP_TAIL = /^\.?[A-Za-z0-9_]{8}$/;

const COMPANION_KIND: Record<string, ManagedKind> = {
  "": "archive",
  ".siginfo": "siginfo",
  ".sig": "signature",
  ".done": "done",
};

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

/** Parses a path relative to the cache root; returns undefined for unmanaged files. */
export function parseSstatePath(relativePath: string): SstateName | undefined {
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
  NAME_TAIL.lastIndex = versionEnd + 1;
  const tail = NAME_TAIL.exec(relativePath);
  if (!tail) return undefined;
  const [, hash, task, archiveExt, companion = "", rest] = tail as unknown as [string, string, string, string, string | undefined, string];
  let kind = COMPANION_KIND[companion]!;
  if (rest !== "") {
    if (!TEMP_TAIL.test(rest)) return undefined;
    kind = "temp";
  }
  const header = headerFields(relativePath, nameStart, pnEnd, targetEnd, pvEnd, prEnd, archEnd, versionEnd);
  return {
    kind,
    pn: header.pn,
    pkgTarget: header.pkgTarget,
    pv: header.pv,
    pr: header.pr,
    arch: header.arch,
    sstateVersion: header.sstateVersion,
    hash: hash!,
    task: intern(task!),
    archiveExt: intern(archiveExt!),
    suffix: kind === "temp" ? archiveExt + companion + rest : intern(archiveExt + companion),
    nativelsb: intern(nativelsbOf(slash < 0 ? "" : relativePath.slice(0, slash), hash!)),
  };
}

type HeaderFields = Pick<SstateName, "pn" | "pkgTarget" | "pv" | "pr" | "arch" | "sstateVersion">;
const headers = new Map<string, HeaderFields>();

/**
 * `sstate:<pn>:<pkg_target>:<pv>:<pr>:<pkgarch>:<version>` repeats for every task and hash of
 * a recipe build: one lookup of the whole header replaces six.
 */
function headerFields(path: string, nameStart: number, pnEnd: number, targetEnd: number, pvEnd: number, prEnd: number, archEnd: number, versionEnd: number): HeaderFields {
  const header = path.slice(nameStart, versionEnd);
  let fields = headers.get(header);
  if (fields === undefined) {
    fields = {
      pn: intern(path.slice(nameStart + 7, pnEnd)),
      pkgTarget: intern(path.slice(pnEnd + 1, targetEnd)),
      pv: intern(path.slice(targetEnd + 1, pvEnd)),
      pr: intern(path.slice(pvEnd + 1, prEnd)),
      arch: intern(path.slice(prEnd + 1, archEnd)),
      sstateVersion: intern(path.slice(archEnd + 1, versionEnd)),
    };
    headers.set(intern(header), fields);
  }
  return fields;
}

/** Strips the hash directories (`h0:2/h2:4` or the older `h0:2`) and returns what is above them. */
function nativelsbOf(dir: string, hash: string): string {
  const twoLevels = `${hash.slice(0, 2)}/${hash.slice(2, 4)}`;
  for (const hashDirs of [twoLevels, hash.slice(0, 2)]) {
    if (dir === hashDirs) return "";
    if (dir.endsWith(`/${hashDirs}`)) return dir.slice(0, dir.length - hashDirs.length - 1);
  }
  return dir;
}

/** The archive a companion (.siginfo/.sig/.done) belongs to: same directory, same name stem. */
export function archivePathOf(path: string, name: SstateName): string {
  return path.slice(0, path.length - name.suffix.length + name.archiveExt.length);
}

/** Identity of a pn+arch+task, the unit for `orphan` and `siginfo-only`. */
export function taskKey(name: SstateName): string {
  return `${name.pn}\u0000${name.arch}\u0000${name.task}`;
}

/** True for a well-formed unihash as written in names and stamps. */
export function isUnihash(text: string): boolean {
  return /^(?:[0-9a-f]{64}|[0-9a-f]{32})$/.test(text);
}
