import type { Timeouts } from "../backends/backend.ts";
import { makePlan, type PlanRun, type PlanRunInput } from "../plan/run.ts";
import type { Policy } from "../policy/load.ts";
import { targetContext, targetOf } from "./inputs.ts";
import type { CommandIo } from "./io.ts";
import { writeWarnings } from "./views/diagnostics.ts";
import { progressDisplay } from "./views/progress.ts";

/**
 * Plans a read policy on `--target` (or its own `target:`) as the commands that plan do: progress
 * on a terminal unless `quiet`, the use evidence's warnings said when the logs are read.
 */
export function planOnTarget(
  io: CommandIo,
  input:
    & { policy: Policy; evidence: PlanRunInput["evidence"]; target: string | undefined; timeout: Timeouts; now: Date; quiet: boolean }
    & Pick<
      PlanRunInput,
      "validForMs" | "explainKept" | "key" | "warnings" | "listingSource"
    >,
): Promise<PlanRun> {
  const { target, timeout, quiet, ...run } = input;
  const progress = progressDisplay(io, { quiet });
  return makePlan({
    ...run,
    target: targetOf(io, target ?? input.policy.target),
    context: targetContext(io, timeout),
    cwd: io.cwd,
    createdAt: io.clock(),
    onProgress: progress.listener,
    onWarnings: (warnings) => writeWarnings(io, warnings),
  }).finally(() => progress.done());
}
