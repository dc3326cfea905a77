import type { Backend, DeleteOutcome, ExpectedFile, RemoteFile } from "../../src/backends/backend.ts";
import type { MemoryBackend } from "../../src/backends/memory.ts";

/** A backend that records its deleteMany calls, and fails chosen files or throws as a broken or refusing server would. */
export class FaultyBackend implements Backend {
  readonly displayUrl: string;
  private readonly inner: MemoryBackend;
  private readonly faults: { permanent?: Set<string>; throws?: Error };
  readonly deleteCalls: string[][] = [];

  constructor(inner: MemoryBackend, faults: FaultyBackend["faults"]) {
    this.inner = inner;
    this.displayUrl = inner.displayUrl;
    this.faults = faults;
  }

  list(): AsyncIterable<RemoteFile[]> {
    return this.inner.list();
  }

  stat(path: string): Promise<RemoteFile | undefined> {
    return this.inner.stat(path);
  }

  async deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]> {
    this.deleteCalls.push(files.map((file) => file.path));
    if (this.faults.throws) throw this.faults.throws;
    const outcomes = await this.inner.deleteMany(files.filter((file) => !this.faults.permanent?.has(file.path)));
    const byPath = new Map(outcomes.map((outcome) => [outcome.path, outcome]));
    return files.map((file) => byPath.get(file.path) ?? { path: file.path, status: "failed", error: "AccessDenied" });
  }

  put(path: string, data: Uint8Array): Promise<void> {
    return this.inner.put(path, data);
  }

  get(path: string): Promise<Uint8Array> {
    return this.inner.get(path);
  }

  read(path: string): AsyncIterable<Uint8Array> {
    return this.inner.read(path);
  }

  async close(): Promise<void> {}
}
