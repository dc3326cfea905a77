import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces `path` with the given content so that, whenever the process dies, `path` holds
 * either its previous content or the whole new one: written to a temporary file in the same
 * directory, flushed to disk, renamed over `path`, and the directory flushed so the rename
 * itself survives a crash. A failed write removes its temporary; only a killed process can
 * leave one (`.<name>.<8 hex>.tmp`, beside the file).
 */
export async function writeFileAtomically(path: string, chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  const file = await open(temporary, "wx");
  try {
    try {
      // writeFile writes the whole chunk at the current position (write may write part of it).
      for await (const chunk of chunks) await file.writeFile(chunk);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/** Some filesystems (and platforms) cannot fsync a directory; the rename is then as durable as they make it. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/**
 * Why `path` cannot be written, or undefined if it can: checked before the work whose result
 * goes there, so that a long listing does not end in "cannot write". The directory must exist
 * and be writable; `path` itself must not be a directory.
 */
export async function unwritableReason(path: string): Promise<string | undefined> {
  const directory = dirname(path);
  const info = await stat(directory).catch(() => undefined);
  if (!info) return `the directory ${directory} does not exist`;
  if (!info.isDirectory()) return `${directory} is not a directory`;
  if (await access(directory, constants.W_OK).then(() => false, () => true)) return `the directory ${directory} is not writable`;
  if ((await stat(path).catch(() => undefined))?.isDirectory()) return `${path} is a directory`;
  return undefined;
}
