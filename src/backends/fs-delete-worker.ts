/** Entry point of a deletion thread (see fs-delete-threads.ts): runs each job it is sent and posts the outcomes back. */
import { parentPort, workerData } from "node:worker_threads";
import { type DeletionJob, type PinnedRoot, runDeletionJob } from "./fs-delete.ts";

const root = workerData as PinnedRoot;
parentPort!.on("message", ({ id, job }: { id: number; job: DeletionJob }) => {
  try {
    const outcomes = runDeletionJob(root, job);
    parentPort!.postMessage({ id, outcomes }, outcomes ? [outcomes.statuses.buffer as ArrayBuffer] : []);
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
