import { listBackend, type TargetContext, withBackend } from "../backends/open.ts";
import type { Target } from "../backends/registry.ts";
import type { ProgressListener } from "../util/progress.ts";
import { cacheInfo, type InfoReport } from "./report.ts";

export interface InfoRunInput {
  target: Target;
  context: TargetContext;
  /** What ages are measured against (ms). */
  now: number;
  /** How many recipes the report names. */
  top: number;
  onProgress?: ProgressListener;
}

/** Lists a cache and describes it. */
export function describeCache(input: InfoRunInput): Promise<InfoReport> {
  return withBackend(input.target, input.context, async (backend) => {
    const listing = await listBackend(backend, { onProgress: input.onProgress });
    return cacheInfo(listing, { now: input.now, top: input.top });
  });
}
