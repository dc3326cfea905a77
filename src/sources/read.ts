/**
 * `plan --listing SOURCE`: the listing from a saved listing or an S3 Inventory report instead of
 * the target. SOURCE is a local path (a saved listing; a manifest.json or the directory holding
 * it) or `s3://BUCKET/KEY/manifest.json`, read through the S3 backend with the target's
 * credentials.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { Backend } from "../backends/backend.ts";
import { NotFoundError } from "../backends/backend.ts";
import { parseTarget, type Target } from "../backends/index.ts";
import { type TargetContext, withBackend } from "../backends/open.ts";
import { excerpt } from "../policy/diagnostics.ts";
import type { Listing } from "../sstate/listing.ts";
import type { ProgressListener } from "../util/progress.ts";
import { tapped } from "./gzip-lines.ts";
import { parseInventoryManifest, readInventory } from "./inventory.ts";
import { readSavedListing } from "./saved-listing.ts";
import { type ListingSource, ListingSourceError, type SourceFiles } from "./source.ts";

export interface SourceInput {
  /** As given to --listing. */
  source: string;
  cwd: string;
  /** The target the plan is for: a saved listing must be of it, an inventory of its bucket. */
  target: Target;
  context: TargetContext;
  onProgress?: ProgressListener;
}

const MANIFEST = "manifest.json";
const CHECKSUM = "manifest.checksum";

export async function readListingSource(input: SourceInput): Promise<{ listing: Listing; source: ListingSource }> {
  if (input.source.startsWith("s3://")) return readS3Inventory(input);
  const path = resolve(input.cwd, input.source);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ListingSourceError(`--listing ${input.source}: no such file or directory`);
  const location = relative(input.cwd, path).split(sep).join("/") || ".";
  if (info.isDirectory() || path.endsWith(".json")) {
    const manifestPath = info.isDirectory() ? join(path, MANIFEST) : path;
    const manifestBytes = await readLocal(manifestPath, input.source);
    const checksum = await readLocal(join(dirname(manifestPath), CHECKSUM), input.source);
    return inventoryListing(input, { location, manifestBytes, checksum, files: localReportFiles(dirname(manifestPath)) });
  }
  if (!info.isFile()) throw new ListingSourceError(`--listing ${input.source}: not a regular file`);
  const digest = createHash("sha256");
  const bytes = tapped(createReadStream(path) as AsyncIterable<Uint8Array>, (chunk) => digest.update(chunk));
  const phase = `reading ${input.source}`;
  const { header, listing } = await readSavedListing(bytes, input.source, {
    checkHeader: (header) => {
      if (header.target !== input.target.url) {
        throw new ListingSourceError(`${input.source}: a listing of ${header.target}, not of the target ${input.target.url}; plan that target, or list this one again`);
      }
    },
    onCount: input.onProgress && ((done) => input.onProgress!({ phase, done, unit: "files" })),
  });
  return { listing, source: { kind: "saved-listing", location, listedAt: header.listedAt, sha256: digest.digest("hex") } };
}

async function readS3Inventory(input: SourceInput): Promise<{ listing: Listing; source: ListingSource }> {
  let url: URL;
  let key: string;
  try {
    url = new URL(input.source);
    key = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  } catch {
    throw new ListingSourceError(`--listing ${excerpt(input.source, 200)}: not a valid s3://BUCKET/KEY URL`);
  }
  if (url.username || url.password || url.search) {
    throw new ListingSourceError(`--listing: an s3:// source is s3://BUCKET/KEY, without credentials or options (they come from the environment, as for S3 targets)`);
  }
  const manifestKey = key === "" || key.endsWith("/") ? `${key}${MANIFEST}` : key;
  if (basename(manifestKey) !== MANIFEST) throw new ListingSourceError(`--listing ${input.source}: an s3:// source is an inventory's ${MANIFEST} (or the folder holding it)`);
  const bucket = parseTarget(`s3://${url.hostname}`, input.cwd);
  return withBackend(bucket, input.context, async (backend) => {
    const shown = (path: string) => `s3://${url.hostname}/${path}`;
    const manifestBytes = await readObject(backend, manifestKey, shown);
    const checksum = await readObject(backend, `${dirname(manifestKey) === "." ? "" : `${dirname(manifestKey)}/`}${CHECKSUM}`, shown);
    // Data file keys are relative to the destination bucket: the one the manifest is in.
    const files = {
      read: (path: string) => readingObject(backend, path, shown(path)),
      shown,
      exists: async (path: string) => (await backend.stat(path)) !== undefined,
    };
    return inventoryListing(input, { location: shown(manifestKey), manifestBytes, checksum, files });
  });
}

async function inventoryListing(
  input: SourceInput,
  report: { location: string; manifestBytes: Uint8Array; checksum: Uint8Array; files: SourceFiles & { exists(path: string): Promise<boolean> } },
): Promise<{ listing: Listing; source: ListingSource }> {
  const manifest = parseInventoryManifest(report.manifestBytes, new TextDecoder().decode(report.checksum), report.location);
  const { target } = input;
  if (target.scheme !== "s3") {
    throw new ListingSourceError(`${report.location}: an S3 Inventory lists an S3 bucket, and the target is ${target.url}; give --target s3://${manifest.sourceBucket}[/PREFIX]`);
  }
  const [bucket, ...prefix] = target.url.slice("s3://".length).split("/");
  const phase = `reading ${report.location}`;
  const listing = await readInventory(manifest, report.files, { bucket: bucket!, prefix: prefix.join("/"), url: target.url }, {
    shown: report.location,
    onCount: input.onProgress && ((done) => input.onProgress!({ phase, done, unit: "files" })),
  });
  return {
    listing,
    source: { kind: "s3-inventory", location: report.location, listedAt: new Date(manifest.createdAt).toISOString(), sha256: createHash("sha256").update(report.manifestBytes).digest("hex") },
  };
}

/**
 * A local report: the destination bucket (or the part of it that holds the report) copied to
 * disk, e.g. with `aws s3 sync`. A data file's key is looked up under the manifest's directory
 * and each directory above it (where the copy of the bucket starts), then by its name in the
 * `data/` directory beside the manifest's (AWS's layout: CONFIG/DATE/manifest.json and
 * CONFIG/data/), in `data/` below it, and beside the manifest.
 */
function localReportFiles(manifestDir: string): SourceFiles & { exists(path: string): Promise<boolean> } {
  const found = new Map<string, string | undefined>();
  const locate = async (key: string): Promise<string | undefined> => {
    if (found.has(key)) return found.get(key);
    const candidates: string[] = [];
    for (let dir = manifestDir;; dir = dirname(dir)) {
      candidates.push(join(dir, ...key.split("/")));
      if (dirname(dir) === dir) break;
    }
    const name = basename(key);
    candidates.push(join(manifestDir, "..", "data", name), join(manifestDir, "data", name), join(manifestDir, name));
    let path: string | undefined;
    for (const candidate of candidates) {
      if ((await stat(candidate).catch(() => undefined))?.isFile()) {
        path = candidate;
        break;
      }
    }
    found.set(key, path);
    return path;
  };
  return {
    exists: async (key) => (await locate(key)) !== undefined,
    shown: (key) => {
      const path = found.get(key);
      return path === undefined ? key : path;
    },
    read: async function* (key) {
      const path = await locate(key);
      if (path === undefined) throw new ListingSourceError(`${key}: a data file the manifest names is missing`);
      yield* createReadStream(path) as AsyncIterable<Uint8Array>;
    },
  };
}

async function readLocal(path: string, source: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const { code } = error as { code?: string };
    throw new ListingSourceError(
      `--listing ${source}: cannot read ${path}: ${code === "ENOENT" ? `no such file (an S3 Inventory report has ${MANIFEST} and ${CHECKSUM} side by side)` : (error as Error).message}`,
    );
  }
}

async function readObject(backend: Backend, key: string, shown: (path: string) => string): Promise<Uint8Array> {
  try {
    return await backend.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) throw new ListingSourceError(`${shown(key)}: no such object (an S3 Inventory report has ${MANIFEST} and ${CHECKSUM} side by side)`);
    throw error;
  }
}

/** A data file deleted between the check that it exists and its reading is as missing as one never there. */
async function* readingObject(backend: Backend, key: string, shown: string): AsyncGenerator<Uint8Array> {
  try {
    yield* backend.read(key);
  } catch (error) {
    if (error instanceof NotFoundError) throw new ListingSourceError(`${shown}: a data file the manifest names is missing`);
    throw error;
  }
}
