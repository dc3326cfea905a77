/**
 * Build manifests (`stamps --publish`): what one build used, as the unihashes its stamps name,
 * with the time it was published. They live under a reserved prefix of a cache (or of any
 * location): the name grammar makes them unmanaged, so no policy can delete them.
 */
import { type ManifestProblem, parseManifest } from "./stamps.ts";

/** Where manifests live under a cache or location root. No sstate name starts with a dot. */
export const BUILD_MANIFEST_PREFIX = ".sstate-keeper/builds/";
export const BUILD_MANIFEST_SUFFIX = ".hashes.gz";
const MAGIC = "# sstate-keeper build manifest 1";
const PUBLISHED = "# published: ";

export interface BuildManifest {
  /** When the build published it (ms since the epoch): what `used-by-builds: { within }` measures. */
  publishedAt: number;
  hashes: ReadonlySet<string>;
}

/** A manifest as read, with where it came from (for messages). */
export interface BuildRecord extends BuildManifest {
  source: string;
}

/**
 * `.sstate-keeper/builds/20261202T021823.000Z-ci-runner-3-1f2e3d4c.hashes.gz`: sortable by time,
 * unique across concurrent builds by host and a random tail. The host is reduced to [A-Za-z0-9._-].
 */
export function buildManifestPath(publishedAt: Date, host: string, random: string): string {
  const time = publishedAt.toISOString().replace(/[-:]/g, "");
  const safeHost = host.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 64) || "host";
  return `${BUILD_MANIFEST_PREFIX}${time}-${safeHost}-${random}${BUILD_MANIFEST_SUFFIX}`;
}

/** The publication time a manifest's name says (ms), or undefined for a name `buildManifestPath` did not make. */
export function publishedAtOfName(path: string): number | undefined {
  const match = /(?:^|\/)(\d{8}T\d{6}\.\d{3}Z)-[^/]*$/.exec(path);
  if (!match) return undefined;
  const t = match[1]!;
  const time = Date.parse(`${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 11)}:${t.slice(11, 13)}:${t.slice(13)}`);
  return Number.isNaN(time) ? undefined : time;
}

/** The manifest's text: a header with the publication time, then the sorted unihashes, one a line (a `hashes:` manifest too). */
export function renderBuildManifest(manifest: BuildManifest & { host: string; sources: readonly string[] }): string {
  const header = [MAGIC, `${PUBLISHED}${new Date(manifest.publishedAt).toISOString()}`, `# host: ${oneLine(manifest.host)}`, ...manifest.sources.map((source) => `# stamps: ${oneLine(source)}`)];
  return `${[...header, ...[...manifest.hashes].sort()].join("\n")}\n`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/** Reads a manifest's text; the time comes from its header, never from the object's mtime. */
export function parseBuildManifest(text: string): { manifest?: BuildManifest; problems: ManifestProblem[] } {
  const lines = text.split(/\r?\n/, 2);
  if (lines[0] !== MAGIC) return { problems: [{ line: 1, col: 1, message: `not a build manifest (its first line is not '${MAGIC}')` }] };
  const published = lines[1]?.startsWith(PUBLISHED) ? Date.parse(lines[1].slice(PUBLISHED.length)) : Number.NaN;
  if (Number.isNaN(published)) return { problems: [{ line: 2, col: 1, message: `the second line must be '${PUBLISHED}<ISO 8601 time>'` }] };
  const { hashes, problems } = parseManifest(text);
  return problems.length > 0 ? { problems } : { manifest: { publishedAt: published, hashes }, problems };
}
