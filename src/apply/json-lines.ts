import { type FileHandle, open } from "node:fs/promises";

/**
 * An append-only file of JSON lines (the journal and the audit log). Appends are chained, so
 * batches finishing at the same time never interleave their lines; once an append fails,
 * every later one fails too rather than leaving a gap.
 */
export class JsonLinesWriter {
  readonly path: string;
  private readonly handle: FileHandle;
  private readonly durable: boolean;
  private tail: Promise<void> = Promise.resolve();

  private constructor(path: string, handle: FileHandle, durable: boolean) {
    this.path = path;
    this.handle = handle;
    this.durable = durable;
  }

  /** `durable`: each append is on disk (fdatasync) before it resolves. */
  static async open(path: string, options: { durable: boolean }): Promise<JsonLinesWriter> {
    return new JsonLinesWriter(path, await open(path, "a"), options.durable);
  }

  append(records: readonly object[]): Promise<void> {
    if (records.length === 0) return this.tail;
    const text = `${records.map((record) => JSON.stringify(record)).join("\n")}\n`;
    this.tail = this.tail.then(async () => {
      await this.handle.appendFile(text);
      if (this.durable) await this.handle.datasync();
    });
    return this.tail;
  }

  async close(): Promise<void> {
    // A failed append was already reported to whoever awaited it.
    await this.tail.catch(() => undefined);
    await this.handle.close();
  }
}
