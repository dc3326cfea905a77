/** Entry point of a listing thread (see `FsBackend.list`): walks each unit it is sent and posts the result back. */
import { parentPort, threadId, workerData } from "node:worker_threads";
import { ListingPartWriter } from "../sstate/listing-part.ts";
import { packedUnit, type WalkRequest, walkUnit } from "./fs-walk.ts";

const { root } = workerData as { root: string };
/** One writer for the thread's life: each part brings only the dictionary entries that are new. */
const writer = new ListingPartWriter();
parentPort!.on("message", ({ unit, parsed }: WalkRequest) => {
  if (parsed) {
    const error = walkUnit(root, unit, (file) => writer.add(file));
    if (error !== undefined) return parentPort!.postMessage({ index: unit.index, error });
    const { part, transfer } = writer.take();
    return parentPort!.postMessage({ index: unit.index, thread: threadId, part }, transfer);
  }
  const walked = packedUnit(root, unit);
  parentPort!.postMessage(walked, "error" in walked ? [] : [walked.sizes.buffer as ArrayBuffer, walked.mtimesMs.buffer as ArrayBuffer]);
});
