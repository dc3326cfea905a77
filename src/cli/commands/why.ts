import { whyFromEvaluation, whyFromPlan } from "../../plan/why.ts";
import { command, textOption } from "../command.ts";
import { readPlan, readPolicy } from "../inputs.ts";
import { EXIT, UserError } from "../io.ts";
import { formatOption, listingOption, nowOption, timeoutOption } from "../options.ts";
import { planOnTarget } from "../planning.ts";
import { renderWhyText } from "../views/why.ts";

const FORMATS = ["text", "json"] as const;
const CHOOSE = "give --plan PLAN, or --policy P (with --target URL or the policy's target:)";

export const whyCommand = command({
  name: "why",
  summary: "why a file is deleted or kept: every rule that selected it and the one that decided",
  description: `PATH is a path in the target as plans show it (a full local path or URL under the target, or a
bare file name, works too). From --plan, the answer is what the plan says: its delete list, and
its keep list when it was made with --explain. From --policy, the target is listed and the policy
evaluated as plan would (nothing is written).`,
  operands: { usage: "PATH…", min: 1, max: Infinity, wrongCount: "name at least one file" },
  options: {
    plan: textOption("PLAN", "explain from this plan file"),
    policy: textOption("P", "explain from this policy, evaluated on the target now", { short: "p" }),
    target: textOption("URL", "with --policy: the cache", { short: "t", default: "the policy's target:" }),
    listing: { ...listingOption, help: `with --policy: ${listingOption.help}` },
    now: nowOption,
    format: formatOption(FORMATS),
    timeout: timeoutOption,
  },
  async run({ options, operands }, io) {
    if (options.plan === undefined && options.policy === undefined) throw new UserError(`why: ${CHOOSE}`);
    if (options.plan !== undefined && options.policy !== undefined) throw new UserError(`why: --plan and --policy exclude each other; ${CHOOSE}`);
    let report;
    if (options.plan !== undefined) {
      if (options.target !== undefined || options.listing !== undefined) throw new UserError("why: --target and --listing go with --policy; a plan names its own target");
      report = whyFromPlan(await readPlan(io, options.plan), operands, io.cwd);
    } else {
      const { policy, evidence } = await readPolicy(io, options.policy!);
      const { plan, evaluation } = await planOnTarget(io, {
        policy,
        evidence,
        target: options.target,
        timeout: options.timeout,
        now: options.now,
        quiet: options.format === "json",
        validForMs: 0,
        explainKept: false,
        listingSource: options.listing,
      });
      report = whyFromEvaluation(evaluation, plan, operands, io.cwd);
    }
    io.stdout(options.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderWhyText(report, options.plan ?? options.policy!));
    return EXIT.ok;
  },
});
