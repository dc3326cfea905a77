/**
 * The threads a local apply deletes with: each takes whole jobs (a batch of files, or a share of
 * the directories to remove) and does them with blocking calls (fs-delete.ts), so a batch of a
 * thousand files costs two messages instead of a few thousand callbacks through libuv's pool.
 */
import { Worker } from "node:worker_threads";
import { BackendError } from "./backend.ts";
import { type DeletionJob, type PackedOutcomes, type PinnedRoot, runDeletionJob } from "./fs-delete.ts";

/**
 * More threads than this 2-core machine has cores, because the kernel side of a deletion mostly
 * waits: on an ext4 mounted with `discard`, each rmdir waits ~100 µs for the discard of the
 * directory's block, and four threads removed 10,000 directories each in 2.2× the time one took
 * for 10,000 (eight: 4.0×, for twice the work again).
 */
export const DELETION_THREADS = 4;
/**
 * Jobs smaller than this are done on the calling thread: starting a thread costs more than
 * deleting a few hundred files (a 300-file cache's apply would wait for the thread to start).
 */
export const SMALL_JOB = 256;
/** The thread's module next to this one: `.ts` when run from source (Deno, tests), `.js` when built. */
const DELETE_WORKER = new URL(`./fs-delete-worker${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`, import.meta.url);

interface Waiting {
  resolve(outcomes: PackedOutcomes | undefined): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
}

type Reply = { id: number; outcomes: PackedOutcomes | undefined } | { id: number; error: string };

export class DeletionThreads {
  readonly #root: PinnedRoot;
  #threads: Thread[] | undefined;
  #failure: BackendError | undefined;
  #nextId = 0;

  constructor(root: PinnedRoot) {
    this.#root = root;
  }

  /**
   * Runs a job on an idle thread, or the least busy one (a small job right here); rejects with a
   * BackendError if a thread failed (then every later job does too).
   */
  run(job: DeletionJob): Promise<PackedOutcomes | undefined> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (sizeOf(job) < SMALL_JOB) return Promise.resolve(runDeletionJob(this.#root, job));
    const threads = (this.#threads ??= []);
    // A new thread only when every one is busy: a small apply starts one.
    let thread = threads.find((candidate) => candidate.waiting.size === 0);
    if (thread === undefined && threads.length < DELETION_THREADS) threads.push(thread = this.#start());
    thread ??= threads.reduce((least, candidate) => (candidate.waiting.size < least.waiting.size ? candidate : least));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // Only a thread with work holds the process open: a backend nobody closed cannot keep it alive.
      if (thread.waiting.size === 0) thread.worker.ref();
      thread.waiting.set(id, { resolve, reject });
      thread.worker.postMessage({ id, job }, job.kind === "delete" ? [job.files.sizes.buffer as ArrayBuffer, job.files.mtimesMs.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    const threads = this.#threads ?? [];
    this.#threads = undefined;
    await Promise.all(threads.map(({ worker }) => worker.terminate()));
  }

  #start(): Thread {
    const thread: Thread = { worker: new Worker(DELETE_WORKER, { workerData: this.#root }), waiting: new Map() };
    thread.worker.unref();
    thread.worker.on("message", (reply: Reply) => {
      const waiting = thread.waiting.get(reply.id);
      thread.waiting.delete(reply.id);
      if (thread.waiting.size === 0) thread.worker.unref();
      if ("error" in reply) waiting?.reject(new BackendError(`deleting in ${this.#root.path} failed: ${reply.error}`));
      else waiting?.resolve(reply.outcomes);
    });
    thread.worker.on("error", (error: Error) => this.#fail(new BackendError(`deleting in ${this.#root.path} failed: ${error.message}`)));
    thread.worker.on("exit", (code) => {
      // Threads that close() took out of the pool are meant to stop.
      if (this.#threads?.includes(thread)) this.#fail(new BackendError(`deleting in ${this.#root.path} failed: a deletion thread stopped (exit code ${code})`));
    });
    return thread;
  }

  /** A thread that broke leaves its jobs unanswered: they and every later one fail, and the apply stops. */
  #fail(error: BackendError): void {
    this.#failure ??= error;
    for (const { waiting } of this.#threads ?? []) {
      for (const { reject } of waiting.values()) reject(this.#failure);
      waiting.clear();
    }
  }
}

function sizeOf(job: DeletionJob): number {
  return job.kind === "delete" ? job.files.sizes.length : job.dirs.length;
}
