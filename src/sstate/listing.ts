import { createHash } from "node:crypto";
import type { RemoteFile } from "./files.ts";
import { archivePathOf, parseSstatePath, type SstateName } from "./name.ts";
import { compareCodeUnits } from "../util/compare.ts";

/** One listed object with its parsed name (undefined: unmanaged, never touched; a special file is unmanaged whatever its name). */
export interface ListedFile extends RemoteFile {
  name: SstateName | undefined;
}

export interface ManagedFile extends ListedFile {
  name: SstateName;
}

/** A whole listing, sorted by path so that everything computed from it is deterministic. */
export interface Listing {
  files: ListedFile[];
  bytes: number;
  /** sha256 over "path\tsize\tmtimeMs\n" of every file in path order: identifies the listing in a plan. */
  sha256: string;
}

export function isManaged(file: ListedFile): file is ManagedFile {
  return file.name !== undefined;
}

/**
 * Parses names as they stream in; call `finish()` once the backend listing is exhausted. While
 * the files arrive in path order (the local listing sends them so), they are fingerprinted as they come.
 */
export class ListingBuilder {
  private readonly files: ListedFile[] = [];
  private readonly digest = new ListingDigest();

  add(batch: readonly RemoteFile[]): void {
    // New records of one shape, whatever the backend gave: a property added to the backend's
    // objects went to a separate store per file, and every planner access would see several shapes.
    for (const { path, size, mtimeMs, etag, symlink, special } of batch) {
      const file: ListedFile = { path, size, mtimeMs, etag, symlink, special, name: special ? undefined : parseSstatePath(path) };
      this.files.push(file);
      if (this.digest.ordered) this.digest.add(file);
    }
  }

  get count(): number {
    return this.files.length;
  }

  finish(): Listing {
    return this.digest.ordered ? this.digest.finish(this.files) : listingOf(this.files);
  }
}

/** Sorts (in place) and fingerprints a set of listed files. */
export function listingOf(files: ListedFile[]): Listing {
  files.sort(byPath);
  const digest = new ListingDigest();
  for (const file of files) digest.add(file);
  return digest.finish(files);
}

/** The listing's bytes and sha256 over "path\tsize\tmtimeMs\n" of files added in path order; `ordered` turns false at the first file out of order. */
class ListingDigest {
  ordered = true;
  private readonly digest = createHash("sha256");
  private bytes = 0;
  private chunk = "";
  private lastPath = "";

  add(file: RemoteFile): void {
    if (file.path < this.lastPath) {
      this.ordered = false;
      return;
    }
    this.lastPath = file.path;
    this.bytes += file.size;
    this.chunk += `${file.path}\t${file.size}\t${file.mtimeMs}\n`;
    if (this.chunk.length > 1 << 16) {
      this.digest.update(this.chunk);
      this.chunk = "";
    }
  }

  finish(files: ListedFile[]): Listing {
    this.digest.update(this.chunk);
    return { files, bytes: this.bytes, sha256: this.digest.digest("hex") };
  }
}

export function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodeUnits(a.path, b.path);
}

export async function collectListing(batches: AsyncIterable<readonly RemoteFile[]>, onCount?: (n: number) => void): Promise<Listing> {
  const builder = new ListingBuilder();
  for await (const batch of batches) {
    builder.add(batch);
    onCount?.(builder.count);
  }
  return builder.finish();
}

/**
 * For each .siginfo/.sig/.done, the listing index of its archive (-1 if absent). The listing
 * is sorted by path and a companion's path extends its archive's, so the archive comes
 * shortly before it, among paths that share the archive path as a prefix.
 */
export function companionArchiveIndexes(files: readonly ListedFile[]): Int32Array {
  const archiveOf = new Int32Array(files.length).fill(-1);
  for (let i = 0; i < files.length; i++) {
    const name = files[i]!.name;
    if (!name || (name.kind !== "siginfo" && name.kind !== "signature" && name.kind !== "done")) continue;
    const archivePath = archivePathOf(files[i]!.path, name);
    // Slices compared with ===: startsWith walks long paths one character at a time.
    for (let j = i - 1; j >= 0 && files[j]!.path.slice(0, archivePath.length) === archivePath; j--) {
      if (files[j]!.path.length === archivePath.length) {
        if (files[j]!.name?.kind === "archive") archiveOf[i] = j;
        break;
      }
    }
  }
  return archiveOf;
}
