import { BackendError, DEFAULT_TIMEOUTS, type Backend, type Timeouts } from "../backends/backend.ts";
import { parseTarget, TargetError, type Target } from "../backends/index.ts";
import { excerpt } from "../policy/diagnostics.ts";
import { collectListing, type Listing } from "../sstate/listing.ts";
import type { SstateNames } from "../sstate/name.ts";
import { EXIT, progressLine, UserError, type CommandIo } from "./io.ts";

export function targetOf(io: CommandIo, raw: string | undefined, what = "target"): Target {
  if (!raw) throw new UserError(`no ${what}: give --target URL or set 'target:' in the policy`);
  try {
    return parseTarget(raw, io.cwd);
  } catch (error) {
    if (error instanceof TargetError) throw new UserError(`${what} '${excerpt(raw, 200)}': ${error.message}`);
    throw error;
  }
}

/** Lists a whole target, with progress on a TTY. */
export async function listTarget(io: CommandIo, backend: Backend, names?: SstateNames): Promise<Listing> {
  const progress = progressLine(io);
  try {
    return await collectListing(backend.list(), { onCount: (n) => progress.update(`listing ${backend.displayUrl}: ${n.toLocaleString("en-US")} files`), ...(names ? { names } : {}) });
  } finally {
    progress.done();
  }
}

/** Runs `work` with an opened backend; backend problems become one-line messages with exit 1. */
export async function withBackend<T>(io: CommandIo, target: Target, work: (backend: Backend) => Promise<T>, timeouts: Timeouts = DEFAULT_TIMEOUTS): Promise<T> {
  let backend: Backend | undefined;
  try {
    backend = await target.open(io.env, { timeouts, secrets: io.secrets });
    return await work(backend);
  } catch (error) {
    if (error instanceof BackendError) throw new UserError(error.message, EXIT.runtime);
    throw error;
  } finally {
    await backend?.close();
  }
}
