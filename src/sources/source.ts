/**
 * Listings that come from a file instead of listing the target: a listing saved by
 * `sstate-keeper list --out`, or an S3 Inventory report. A plan made from one records it, and
 * apply still checks every object against the live target before deleting it.
 */

/** What a plan records about the listing's source (absent: the target was listed). */
export interface ListingSource {
  kind: "saved-listing" | "s3-inventory";
  /** The saved listing or manifest.json as given (a local path relative to where the command ran, or an s3:// URL). */
  location: string;
  /** When the target was listed: the saved listing's time, or the inventory's creationTimestamp (ISO 8601). */
  listedAt: string;
  /** sha256 of the saved listing file, or of the inventory's manifest.json. */
  sha256: string;
}

/** A source that cannot be used as it is: missing, truncated, malformed, for another target. Always invalid input (exit 2). */
export class ListingSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListingSourceError";
  }
}

/** Where a source's files are read from: the local disk, or an S3 bucket through its backend. */
export interface SourceFiles {
  /** Streams a file's bytes; throws ListingSourceError if it does not exist. */
  read(path: string): AsyncIterable<Uint8Array>;
  /** How a file is named in messages and plans. */
  shown(path: string): string;
}
