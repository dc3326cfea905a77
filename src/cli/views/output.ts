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

export function writeChunks(io: Io, chunks: Iterable<string>): void {
  for (const piece of coalesced(chunks)) io.stdout(piece);
}
