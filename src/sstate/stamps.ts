import { isUnihash, SstateNames } from "./name.ts";

/**
 * The unihash a stamp file names, if it is one that proves a build used an sstate object:
 * `<base>.do_<task>.sigdata.<hash>` (the task ran) or `<base>.do_<task>_setscene.<hash>[.<extra>]`
 * (restored from sstate). Plain `<base>.do_<task>.<hash>` stamps and `.sigbasedata.` dumps
 * don't count (OE's sstate-cache-management behaves the same).
 */
const STAMP = /\.do_[A-Za-z0-9_+-]+?(?:\.sigdata\.([0-9a-f]{64}|[0-9a-f]{32})|_setscene\.([0-9a-f]{64}|[0-9a-f]{32})(?:\..*)?)$/;

export function hashOfStamp(fileName: string): string | undefined {
  const match = STAMP.exec(fileName);
  return match ? (match[1] ?? match[2]) : undefined;
}

export interface ManifestProblem {
  line: number;
  col: number;
  message: string;
}

/** Bad lines reported one by one; a file that is not a manifest at all gets a count of the rest. */
const SHOWN_MANIFEST_PROBLEMS = 20;
/** Characters of a bad line quoted in its message. */
const QUOTED_ENTRY = 80;

/** A `hashes:` manifest: one unihash or sstate name per line; `#` starts a comment. */
export function parseManifest(text: string): { hashes: Set<string>; problems: ManifestProblem[] } {
  const hashes = new Set<string>();
  const problems: ManifestProblem[] = [];
  const names = new SstateNames();
  let unreported = 0;
  let firstUnreported = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const hash = raw.indexOf("#");
    const content = hash < 0 ? raw : raw.slice(0, hash);
    const entry = content.trim();
    if (entry === "") return;
    if (isUnihash(entry)) {
      hashes.add(entry);
      return;
    }
    const name = names.parse(entry);
    if (name && name.hash !== "INVALID") hashes.add(name.hash);
    else if (problems.length < SHOWN_MANIFEST_PROBLEMS) {
      const quoted = entry.length > QUOTED_ENTRY ? `${entry.slice(0, QUOTED_ENTRY)}…` : entry;
      problems.push({ line: index + 1, col: content.indexOf(entry) + 1, message: `'${quoted}' is neither a unihash (32 or 64 hex) nor an sstate file name` });
    } else if (unreported++ === 0) firstUnreported = index + 1;
  });
  if (unreported > 0) problems.push({ line: firstUnreported, col: 1, message: `… and ${unreported} more lines from here on that are neither a unihash nor an sstate file name` });
  return { hashes, problems };
}
