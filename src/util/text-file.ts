import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { formatBytes } from "./units.ts";

/** Where in a file a problem is, 1-based; `line`/`col` 1:1 for a problem with the whole file. */
export interface TextFileProblem {
  message: string;
  line: number;
  col: number;
}

/**
 * Reads a UTF-8 text file that a person wrote or a tool generated (a policy, a manifest), in
 * bounded time and memory whatever the path names: a FIFO or device is refused without
 * waiting for a writer (opened non-blocking, then checked), at most `maxBytes` are read
 * however large the file is or grows, and bytes that are not UTF-8 are reported where they
 * are rather than silently replaced. `what` names the file in messages ("policy").
 */
export async function readTextFile(path: string, what: string, maxBytes: number): Promise<{ text: string } | { problem: TextFileProblem }> {
  const problem = (message: string, line = 1, col = 1) => ({ problem: { message, line, col } });
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return problem(`cannot read the ${what}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) return problem(`cannot read the ${what}: ${stats.isDirectory() ? "it is a directory" : "not a regular file"}`);
    const tooLarge = () => problem(`the ${what} is larger than ${formatBytes(maxBytes)}, the most a ${what} may be`);
    if (stats.size > maxBytes) return tooLarge();
    // Room for one byte more than the stat said: a file that grew since is read on, up to the limit.
    let buffer = new Uint8Array(stats.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const larger = new Uint8Array(Math.min(2 * buffer.length, maxBytes + 1));
        larger.set(buffer);
        buffer = larger;
      }
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return tooLarge();
    }
    const bytes = buffer.subarray(0, length);
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      const at = firstInvalidByte(bytes);
      const { line, col } = positionAt(bytes.subarray(0, at));
      return problem(`the ${what} is not UTF-8 text: byte 0x${bytes[at]!.toString(16).padStart(2, "0")} here is not valid UTF-8`, line, col);
    }
  } catch (error) {
    return problem(`cannot read the ${what}: ${(error as Error).message}`);
  } finally {
    await file.close();
  }
}

/**
 * Offset of the first byte that makes `bytes` invalid UTF-8 (which must be invalid): the
 * shortest invalid prefix, found by bisection with a streaming decoder (which accepts a
 * sequence cut at the end); a sequence cut by the end of the file points at its first byte.
 */
function firstInvalidByte(bytes: Uint8Array): number {
  const validPrefix = (end: number) => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  if (validPrefix(bytes.length)) {
    let start = bytes.length - 1;
    while (start > 0 && (bytes[start]! & 0xc0) === 0x80) start--;
    return start;
  }
  let [low, high] = [0, bytes.length];
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (validPrefix(middle)) low = middle;
    else high = middle;
  }
  // The decoder fails at the byte that breaks a sequence; the sequence it breaks may have begun before it.
  const failed = high - 1;
  for (let back = 1; back <= 3 && failed - back >= 0; back++) {
    const byte = bytes[failed - back]!;
    if (byte < 0x80) break;
    if (byte >= 0xc0) return back < (byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2) ? failed - back : failed;
  }
  return failed;
}

/** The 1-based line and column just after a valid UTF-8 prefix (columns count characters). */
function positionAt(prefix: Uint8Array): { line: number; col: number } {
  const text = new TextDecoder("utf-8").decode(prefix);
  const lineStart = text.lastIndexOf("\n") + 1;
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) line++;
  return { line, col: [...text.slice(lineStart)].length + 1 };
}
