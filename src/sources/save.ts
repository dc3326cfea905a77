/** `sstate-keeper list TARGET [--out FILE]`: the target's listing, saved for planning later (`plan --listing FILE`). */
import type { Target } from "../backends/index.ts";
import { listBackend, type TargetContext, withBackend } from "../backends/open.ts";
import { writeFileAtomically } from "../util/atomic-file.ts";
import type { ProgressListener } from "../util/progress.ts";
import { savedListingBytes } from "./saved-listing.ts";

export interface ListRun {
  target: Target;
  context: TargetContext;
  /** When the listing starts: what the saved listing records as its time. */
  clock: () => Date;
  /** Where to save it (atomically); without it only the totals are returned. */
  out?: string;
  onProgress?: ProgressListener;
}

export async function listTarget(run: ListRun): Promise<{ files: number; bytes: number; sha256: string }> {
  const listedAt = run.clock();
  return withBackend(run.target, run.context, async (backend) => {
    const listing = await listBackend(backend, { onProgress: run.onProgress });
    if (run.out !== undefined) await writeFileAtomically(run.out, savedListingBytes(listing, { target: run.target.url, listedAt }));
    return { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 };
  });
}
