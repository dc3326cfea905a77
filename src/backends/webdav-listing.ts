import { createHash, type Hash } from "node:crypto";
import { TextDecoder } from "node:util";
import { type DavEntry, MultistatusError, MultistatusScanner, parseResponseElement } from "./webdav-multistatus.ts";
import type { DavStream } from "./webdav-http.ts";

/** Entries handed out at a time: batching keeps per-entry async overhead negligible on million-file caches. */
const BATCH = 4096;

export interface ListingSource {
  /** Sends the Depth: infinity PROPFIND again; resolves with its 207 answer. */
  open(): Promise<DavStream>;
  pathOf(href: string): string | undefined;
  /** The error for an answer that is not a whole, well-formed multistatus (retried like a lost connection). */
  malformed(what: string, detail: string): Error;
  /** The error for an answer that, sent again, no longer starts with what was handed out (not retried). */
  changed(what: string): Error;
}

interface OpenAnswer {
  stream: DavStream;
  scanner: MultistatusScanner;
  decoder: TextDecoder;
  elements: string[];
  nextElement: number;
  /** Entries read from this answer, and the digest of their paths. */
  read: number;
  digest: Hash;
  ended: boolean;
}

/**
 * One Depth: infinity multistatus, parsed while it arrives (memory stays flat on million-file
 * caches) and handed out in batches. Each `next()` is one attempt: when the answer breaks off,
 * the next call sends the request again and skips the entries already handed out, after checking
 * that they came back the same (a digest of their paths in order), so that no entry is listed
 * twice or lost; a server that answers differently makes the listing fail, never shrink.
 */
export class ResumableListing {
  private handedOut = 0;
  private handedOutDigest = "";
  private answer: OpenAnswer | undefined;
  private done = false;
  private readonly source: ListingSource;

  constructor(source: ListingSource) {
    this.source = source;
  }

  /** The next batch of entries, or undefined after the last; throws on a failed attempt (call again to resume). */
  async next(): Promise<DavEntry[] | undefined> {
    if (this.done) return undefined;
    try {
      const answer = (this.answer ??= await this.start());
      const batch: DavEntry[] = [];
      while (batch.length < BATCH) {
        const entry = await this.nextEntry(answer);
        if (entry === undefined) break;
        answer.read++;
        answer.digest.update(`${entry.path}\0`);
        if (answer.read < this.handedOut) continue;
        if (answer.read === this.handedOut) {
          if (answer.digest.copy().digest("hex") !== this.handedOutDigest) throw this.source.changed(answer.stream.what);
          continue;
        }
        batch.push(entry);
      }
      if (answer.ended && answer.read < this.handedOut) throw this.source.changed(answer.stream.what);
      this.handedOut = answer.read;
      this.handedOutDigest = answer.digest.copy().digest("hex");
      if (answer.ended) {
        this.done = true;
        this.answer = undefined;
      }
      return batch.length > 0 || !this.done ? batch : undefined;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Drops the answer being read (a consumer that stops early, or a failure). */
  close(): void {
    this.answer?.stream.cancel();
    this.answer = undefined;
  }

  private async start(): Promise<OpenAnswer> {
    const stream = await this.source.open();
    return { stream, scanner: new MultistatusScanner(), decoder: new TextDecoder(), elements: [], nextElement: 0, read: 0, digest: createHash("sha256"), ended: false };
  }

  private async nextEntry(answer: OpenAnswer): Promise<DavEntry | undefined> {
    try {
      for (;;) {
        while (answer.nextElement < answer.elements.length) {
          const entry = parseResponseElement(answer.elements[answer.nextElement++]!, this.source.pathOf);
          if (entry) return entry;
        }
        if (answer.ended) return undefined;
        const chunk = await answer.stream.next();
        answer.elements = answer.scanner.push(chunk === undefined ? answer.decoder.decode() : answer.decoder.decode(chunk, { stream: true }));
        answer.nextElement = 0;
        if (chunk === undefined) {
          answer.scanner.finish();
          answer.ended = true;
        }
      }
    } catch (error) {
      if (error instanceof MultistatusError) throw this.source.malformed(answer.stream.what, error.message);
      throw error;
    }
  }
}
