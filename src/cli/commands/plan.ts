import { comparePlans } from "../../plan/diff.ts";
import { serializePlanChunks } from "../../plan/plan-file.ts";
import { PLAN_KEY } from "../../plan/run.ts";
import { writeFileAtomically } from "../../util/atomic-file.ts";
import { DURATION_HELP, parseDuration } from "../../util/units.ts";
import { command, flag, requiredOption, textOption, valueOption } from "../command.ts";
import { outputFile, readPlan, readPolicy } from "../inputs.ts";
import { planOnTarget } from "../planning.ts";
import { UserError } from "../io.ts";
import { allOption, formatOption, listingOption, maxCharsOption, nowOption, timeoutOption } from "../options.ts";
import { writeWarnings } from "../views/diagnostics.ts";
import { writeDiff } from "../views/diff.ts";
import { utf8Pieces } from "../views/output.ts";
import { PLAN_FORMATS, planExitCode, writePlan } from "../views/plan.ts";

export const planCommand = command({
  name: "plan",
  summary: "list a cache, evaluate a policy, write a reviewable plan",
  description: `Nothing is deleted. The plan names every file to delete with the rules that selected it and
the one that decided; its digest is what the reviewer approves and apply checks. With
${PLAN_KEY} set the plan is signed. Exit 3 when a guard refuses the plan (it is still
printed and written, for review). Warnings (a rule that can never match or matched nothing,
stamps naming no hash, an unclosed '[') go to stderr and into the plan; the exit code ignores them.
With --listing the target is not listed: the plan is made from a saved listing ('list --out')
or an S3 Inventory report, records that source, and says how old it is; apply still checks
each file on the target before deleting it.`,
  options: {
    policy: requiredOption("P", "the policy file", { short: "p" }),
    target: textOption("URL", "the cache: a path, file://, s3:// or http(s):// URL", { short: "t", default: "the policy's target:" }),
    listing: listingOption,
    now: nowOption,
    out: textOption("FILE", "also write the plan (JSON) to this file, atomically", { short: "o" }),
    format: formatOption(PLAN_FORMATS),
    "max-chars": maxCharsOption,
    explain: flag("also list every kept file with its reason"),
    all: allOption,
    "valid-for": valueOption(
      "D",
      "how long the plan may be applied after it is made",
      (text) => {
        const ms = parseDuration(text ?? "7d");
        if (ms === undefined) throw new UserError(`--valid-for '${text}' is not ${DURATION_HELP}`);
        return ms;
      },
      { default: "7d" },
    ),
    diff: textOption("PREVIOUS", "print what changed since this plan (e.g. the approved one) instead of the plan"),
    timeout: timeoutOption,
  },
  async run({ options }, io) {
    const out = options.out === undefined ? undefined : await outputFile(io, "out", options.out);
    const previous = options.diff === undefined ? undefined : await readPlan(io, options.diff);
    const { policy, evidence, warnings } = await readPolicy(io, options.policy);
    // Said before the listing, which can take minutes.
    writeWarnings(io, warnings);
    const run = await planOnTarget(io, {
      policy,
      evidence,
      target: options.target,
      timeout: options.timeout,
      now: options.now,
      quiet: options.format === "json",
      validForMs: options["valid-for"],
      explainKept: options.explain,
      key: io.env[PLAN_KEY] || undefined,
      warnings,
      listingSource: options.listing,
    });
    const { plan } = run;
    writeWarnings(io, run.warnings);
    if (out !== undefined) await writeFileAtomically(out, utf8Pieces(serializePlanChunks(plan)));
    const rendering = { all: options.all, maxChars: options["max-chars"] };
    if (previous) writeDiff(io, comparePlans({ source: options.diff!, plan: previous }, { source: options.out ?? "the new plan", plan }), options.format, rendering);
    else writePlan(io, plan, options.format, rendering);
    return planExitCode(io, plan);
  },
});
