/** Entry point of a listing thread (see `FsBackend.list`): walks each unit it is sent and posts the result back. */
import { parentPort, workerData } from "node:worker_threads";
import { type WalkUnit, walkUnit } from "./fs-walk.ts";

const { root } = workerData as { root: string };
parentPort!.on("message", (unit: WalkUnit) => {
  const walked = walkUnit(root, unit);
  parentPort!.postMessage(walked, "error" in walked ? [] : [walked.sizes.buffer as ArrayBuffer, walked.mtimesMs.buffer as ArrayBuffer]);
});
