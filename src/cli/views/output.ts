import { Buffer } from "node:buffer";
import type { Io } from "../io.ts";

/** Chunks joined into pieces of about 1 MiB: a million-line JSON is neither one string nor a million writes. */
export function* coalesced(chunks: Iterable<string>): Generator<string> {
  let pending: string[] = [];
  let size = 0;
  for (const chunk of chunks) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= 1 << 20) {
      yield pending.join("");
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield pending.join("");
}

/**
 * Chunks written as UTF-8 into pieces of about 1 MiB: each string dies as soon as it is copied,
 * where pieces of strings kept hundreds of thousands of plan lines alive until the next one.
 */
export function* utf8Pieces(chunks: Iterable<string>): Generator<Uint8Array> {
  let piece = Buffer.allocUnsafe(PIECE_BYTES);
  let used = 0;
  for (const chunk of chunks) {
    // At most 3 bytes per UTF-16 code unit: a chunk that might not fit goes into the next piece.
    if (used + 3 * chunk.length > PIECE_BYTES && used > 0) {
      yield piece.subarray(0, used);
      piece = Buffer.allocUnsafe(PIECE_BYTES);
      used = 0;
    }
    if (3 * chunk.length > PIECE_BYTES) yield Buffer.from(chunk, "utf8");
    else used += piece.write(chunk, used, "utf8");
  }
  if (used > 0) yield piece.subarray(0, used);
}

const PIECE_BYTES = 1 << 20;

export function writeChunks(io: Io, chunks: Iterable<string>): void {
  for (const piece of coalesced(chunks)) io.stdout(piece);
}
