import { Buffer } from "node:buffer";

/** No access log line is this long (Apache caps a request line at 8 KiB); a longer one is garbage, skipped without buffering it. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Calls `onLine` for each line of a byte stream (LF or CRLF, the last one with or without a
 * newline), with its 1-based number, in bounded memory: a line longer than MAX_LINE_BYTES is
 * passed as undefined (it counts as a line but is not held).
 */
export async function forEachLine(chunks: AsyncIterable<Uint8Array>, onLine: (line: string | undefined, number: number) => void): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  let number = 0;
  const emit = (tail: Buffer) => {
    number++;
    if (overlong || pendingBytes + tail.length > MAX_LINE_BYTES) onLine(undefined, number);
    else {
      const whole = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
      const end = whole.length > 0 && whole[whole.length - 1] === 13 ? whole.length - 1 : whole.length;
      onLine(whole.toString("utf8", 0, end), number);
    }
    pending = [];
    pendingBytes = 0;
    overlong = false;
  };
  for await (const chunk of chunks) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let newline = bytes.indexOf(10, start); newline >= 0; newline = bytes.indexOf(10, start)) {
      emit(bytes.subarray(start, newline));
      start = newline + 1;
    }
    if (start < bytes.length) {
      const rest = bytes.subarray(start);
      if (overlong || pendingBytes + rest.length > MAX_LINE_BYTES) {
        overlong = true;
        pending = [];
        pendingBytes = 0;
      } else {
        // Copied: the source may reuse its chunk's memory.
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
  }
  if (pendingBytes > 0 || overlong) emit(Buffer.alloc(0));
}
