import { collectListing, collectListingParts, type Listing } from "../sstate/listing.ts";
import type { SstateNames } from "../sstate/name.ts";
import type { ProgressListener } from "../util/progress.ts";
import type { Backend, OpenOptions } from "./backend.ts";
import type { Env, Target } from "./registry.ts";

/** What opening a target needs beyond its URL: the environment (credentials), timeouts and the secret sink. */
export interface TargetContext extends OpenOptions {
  env: Env;
}

/** Runs `work` with the target opened, and closes it whatever happens. */
export async function withBackend<T>(target: Target, context: TargetContext, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await target.open(context.env, { timeouts: context.timeouts, secrets: context.secrets });
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

/** The whole listing of a backend, reporting the count as it grows. `names`: a parser shared with another listing. */
export function listBackend(backend: Backend, options: { names?: SstateNames; onProgress?: ProgressListener } = {}): Promise<Listing> {
  const { onProgress } = options;
  const phase = `listing ${backend.displayUrl}`;
  const collecting = { names: options.names, onCount: onProgress && ((done: number) => onProgress({ phase, done, unit: "files" })) };
  return backend.listParts ? collectListingParts(backend.listParts(), collecting) : collectListing(backend.list(), collecting);
}
