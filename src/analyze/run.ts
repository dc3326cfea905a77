import { listBackend, type TargetContext, withBackend } from "../backends/open.ts";
import type { Target } from "../backends/registry.ts";
import { SstateNames } from "../sstate/name.ts";
import type { ProgressListener } from "../util/progress.ts";
import { analyzeItems, type ItemAnalysis, missingItems } from "./analyze.ts";

export interface AnalyzeRunInput {
  /** The local cache (the build's). */
  source: Target;
  /** The remote cache the build did not find its items in. */
  target: Target;
  context: TargetContext;
  /** The --task filter; without it every task with a local archive. */
  taskMatches?: (task: string) => boolean;
  concurrency: number;
  onProgress?: ProgressListener;
}

export interface AnalyzeReport {
  source: string;
  target: string;
  /** Local items of the selected tasks that the target has. */
  found: number;
  analyses: ItemAnalysis[];
}

/** Lists both caches and compares each local item the target lacks with its newest remote candidate. */
export function analyzeCaches(input: AnalyzeRunInput): Promise<AnalyzeReport> {
  const { onProgress } = input;
  return withBackend(input.source, input.context, (localBackend) =>
    withBackend(input.target, input.context, async (remoteBackend) => {
      // One parser for both: their task keys then name the same pn+arch+task.
      const names = new SstateNames();
      const local = { backend: localBackend, listing: await listBackend(localBackend, { names, onProgress }) };
      const remote = { backend: remoteBackend, listing: await listBackend(remoteBackend, { names, onProgress }) };
      const { missing, found } = missingItems(local.listing, remote.listing, input.taskMatches);
      const analyses = await analyzeItems(missing, local, remote, {
        concurrency: input.concurrency,
        onProgress: onProgress && ((done: number) => onProgress({ phase: "comparing signatures", done, total: missing.length, unit: "items" })),
      });
      return { source: input.source.url, target: input.target.url, found, analyses };
    }));
}
