import { isUnihash, parseSstatePath } from "./name.ts";

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

/** A `hashes:` manifest: one unihash or sstate name per line; `#` starts a comment. */
export function parseManifest(text: string): { hashes: Set<string>; problems: ManifestProblem[] } {
  const hashes = new Set<string>();
  const problems: ManifestProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const content = raw.replace(/#.*$/, "");
    const entry = content.trim();
    if (entry === "") return;
    if (isUnihash(entry)) {
      hashes.add(entry);
      return;
    }
    const name = parseSstatePath(entry);
    if (name && name.hash !== "INVALID") hashes.add(name.hash);
    else problems.push({ line: index + 1, col: content.indexOf(entry) + 1, message: `'${entry}' is neither a unihash (32 or 64 hex) nor an sstate file name` });
  });
  return { hashes, problems };
}
