/**
 * Build manifests through the backends: `stamps --publish` writes one, planning reads every one
 * under a location's reserved prefix. The planner gets them as evidence (publication time and
 * unihashes) and decides what a window of them keeps.
 */
import { randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { type Backend, NotFoundError } from "../backends/backend.ts";
import { parseTarget, type Target } from "../backends/index.ts";
import { type TargetContext, withBackend } from "../backends/open.ts";
import type { Policy } from "../policy/load.ts";
import { BUILD_MANIFEST_PREFIX, BUILD_MANIFEST_SUFFIX, buildManifestPath, type BuildRecord, parseBuildManifest, publishedAtOfName, renderBuildManifest } from "../sstate/build-manifest.ts";
import type { Listing } from "../sstate/listing.ts";
import { KIND } from "../sstate/name.ts";
import { mapConcurrent } from "../util/concurrency.ts";
import { isUrlLocation } from "../util/location.ts";
import { formatBytes } from "../util/units.ts";
import { MAX_MANIFEST_BYTES } from "./references.ts";

/** A manifest that cannot be read as one: planning stops, since what its build used is unknown. */
export class BuildManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildManifestError";
  }
}

/** Writes one build's manifest under the backend's reserved prefix (atomically, as every `put`); returns its path. */
export async function publishBuildManifest(backend: Backend, build: { publishedAt: Date; host: string; sources: readonly string[]; hashes: ReadonlySet<string> }): Promise<string> {
  const path = buildManifestPath(build.publishedAt, build.host, randomBytes(4).toString("hex"));
  const text = renderBuildManifest({ publishedAt: build.publishedAt.getTime(), host: build.host, sources: build.sources, hashes: build.hashes });
  await backend.put(path, gzipSync(text));
  return path;
}

/** Whether a listed path (relative to a cache or location root) is a build manifest. */
export function isBuildManifestPath(path: string): boolean {
  return path.startsWith(BUILD_MANIFEST_PREFIX) && path.endsWith(BUILD_MANIFEST_SUFFIX) && !path.slice(BUILD_MANIFEST_PREFIX.length).includes("/");
}

/**
 * The target that holds a location's manifests: `<location>/.sstate-keeper/builds`, so that a
 * location is listed only there (a path is relative to `baseDir`, as policy paths are).
 */
export function manifestsTargetOf(location: string, baseDir: string): Target {
  const prefix = BUILD_MANIFEST_PREFIX.slice(0, -1);
  if (!isUrlLocation(location)) return parseTarget(`${location.replace(/\/+$/, "")}/${prefix}`, baseDir);
  const url = new URL(location);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${prefix}`;
  return parseTarget(url.href, baseDir);
}

const CONCURRENT_READS = 8;

/**
 * Reads the given manifests of a backend (paths relative to its root); `shown` names the location
 * in messages. One removed since it was listed (pruned by a lifecycle rule) is no evidence any more.
 */
export async function readBuildManifests(backend: Backend, paths: readonly string[], shown: (path: string) => string): Promise<BuildRecord[]> {
  const read = await mapConcurrent(paths, CONCURRENT_READS, async (path): Promise<BuildRecord | undefined> => {
    const source = shown(path);
    let data: Uint8Array;
    try {
      data = await backend.get(path);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(gunzipSync(data, { maxOutputLength: MAX_MANIFEST_BYTES }));
    } catch (error) {
      const reason = (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ? `larger than ${formatBytes(MAX_MANIFEST_BYTES)} unpacked` : "not gzip-compressed UTF-8 text";
      throw new BuildManifestError(`build manifest ${source}: ${reason}; remove it or publish it again with 'sstate-keeper stamps --publish'`);
    }
    const { manifest, problems } = parseBuildManifest(text);
    if (!manifest) throw new BuildManifestError(`build manifest ${source}:${problems[0]!.line}: ${problems[0]!.message}; remove it or publish it again`);
    return { ...manifest, source };
  });
  return read.filter((record) => record !== undefined);
}

/** Reading skips manifests whose name says they were published this long before the widest window opens. */
const NAME_TIME_SLACK_MS = 86_400_000;

/**
 * The manifests every `used-by-builds` of the policy names, by `from` as written ("" for the
 * plan's target, whose listing has them already). Another location is listed only under its
 * reserved prefix; a location that cannot be listed fails the plan, as a target would. A
 * manifest whose name dates it well before the widest window of its location is not read (the
 * name and the header hold the same time; the header decides for every manifest read), so a
 * year of builds costs a listing, not a year of downloads.
 */
export async function readPolicyBuilds(
  policy: Policy,
  plan: { backend: Backend | undefined; listing: Listing; context: TargetContext; baseDir: string; now: number },
): Promise<Map<string, BuildRecord[]>> {
  const widest = new Map<string, number>();
  for (const source of policy.rules.flatMap((rule) => rule.builds)) widest.set(source.from ?? "", Math.max(widest.get(source.from ?? "") ?? 0, source.withinMs));
  const builds = new Map<string, BuildRecord[]>();
  for (const [from, withinMs] of widest) {
    const mayCount = (path: string) => (publishedAtOfName(path) ?? Infinity) >= plan.now - withinMs - NAME_TIME_SLACK_MS;
    if (from === "") {
      const { backend, listing } = plan;
      // A plan from a saved listing opens the target only when a rule reads build manifests from it.
      if (backend === undefined) throw new TypeError("the target's build manifests are read with the target opened");
      const paths: string[] = [];
      for (let i = 0; i < listing.count; i++) {
        if (listing.kinds[i] !== KIND.unmanaged) continue;
        const path = listing.path(i);
        if (isBuildManifestPath(path) && mayCount(path)) paths.push(path);
      }
      builds.set(from, await readBuildManifests(backend, paths, (path) => `${backend.displayUrl}/${path}`));
      continue;
    }
    const records = await withBackend(manifestsTargetOf(from, plan.baseDir), plan.context, async (backend) => {
      const paths: string[] = [];
      for await (const batch of backend.list()) for (const file of batch) if (!file.path.includes("/") && file.path.endsWith(BUILD_MANIFEST_SUFFIX) && mayCount(file.path)) paths.push(file.path);
      return readBuildManifests(backend, paths.sort(), (path) => `${backend.displayUrl}/${path}`);
    });
    builds.set(from, records);
  }
  return builds;
}
