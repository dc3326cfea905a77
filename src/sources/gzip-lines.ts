import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ListingSourceError } from "./source.ts";

/**
 * The lines of a gzipped stream, a batch per decompressed chunk, never more than a chunk and a
 * partial line held (a data file of an inventory can be gigabytes decompressed). `onCompressed`
 * sees every compressed byte (for the MD5 a manifest gives). A stream that is not gzip, or ends
 * early, or is not UTF-8, is a ListingSourceError naming `shown`; the source's own errors (not
 * found, a broken transfer) pass through as they are.
 */
export async function* gunzippedLines(bytes: AsyncIterable<Uint8Array>, shown: string, onCompressed?: (chunk: Uint8Array) => void): AsyncGenerator<string[]> {
  let sourceFailure: { error: unknown } | undefined;
  const input = Readable.from(onCompressed ? tapped(bytes, onCompressed) : bytes, { objectMode: false });
  const gunzip = createGunzip();
  input.on("error", (error) => {
    sourceFailure = { error };
    gunzip.destroy(error);
  });
  input.pipe(gunzip);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let partial = "";
  try {
    for await (const chunk of gunzip as AsyncIterable<Uint8Array>) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
    partial += decoder.decode();
  } catch (error) {
    if (sourceFailure) throw sourceFailure.error;
    throw new ListingSourceError(`${shown}: ${gzipProblem(error)}`);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (partial !== "") yield [partial];
}

/** The same bytes, each chunk shown to `onChunk` first (a digest of what is read). */
export async function* tapped(bytes: AsyncIterable<Uint8Array>, onChunk: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of bytes) {
    onChunk(chunk);
    yield chunk;
  }
}

function gzipProblem(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (error instanceof TypeError) return "is not UTF-8 text once decompressed";
  if (code === "Z_BUF_ERROR" || /unexpected end/i.test(message ?? "")) return "the gzip stream ends early (truncated file?)";
  if (code === "Z_DATA_ERROR") return `is not gzip (or damaged: ${message})`;
  return `cannot be decompressed: ${message}`;
}
