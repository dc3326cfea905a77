import { MAX_BATCH_SIZE } from "../../apply/executor.ts";
import { applyReviewedPlan } from "../../apply/session.ts";
import { PLAN_KEY } from "../../plan/run.ts";
import { command, flag, textOption, valueOption } from "../command.ts";
import { outputFile, policyFacts, readPlan, targetContext, targetOf } from "../inputs.ts";
import { UserError } from "../io.ts";
import { concurrencyOption, dryRunOption, formatOption, timeoutOption, wholeNumber } from "../options.ts";
import { applyHeader, showApplyReport } from "../views/apply.ts";
import { progressDisplay } from "../views/progress.ts";

/** Batches in flight: one batch's checks overlap another's delete request. */
const DEFAULT_CONCURRENCY = 8;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const applyCommand = command({
  name: "apply",
  summary: "execute a reviewed plan exactly: checks every file first, journals, resumes",
  description: `Before the first deletion the plan is checked: integrity, expiry, target, policy and
signature as asked. Each file is deleted only if it is still as planned; what changed since
is skipped and kept. The journal makes a re-run resume; --log records every deletion before
it is made. Exit 4: some files skipped; exit 5: some deletions failed.`,
  operands: { usage: "PLAN", min: 1, max: 1, wrongCount: "name one plan file" },
  options: {
    target: textOption("URL", "apply to this target, which must be the plan's", { short: "t", default: "the plan's target" }),
    policy: textOption("P", "refuse the plan unless it was made from this policy file as it is now", { short: "p" }),
    "require-signed": flag(`refuse a plan not signed with ${PLAN_KEY}`),
    "expect-digest": valueOption("sha256:…", "refuse any plan but the one with this digest (the reviewed one)", (text) => {
      if (text !== undefined && !DIGEST.test(text)) throw new UserError(`--expect-digest ${text}: expected the plan digest as the plan comment shows it, sha256: and 64 hex digits`);
      return text;
    }),
    journal: textOption("FILE", "where outcomes are recorded for a re-run to resume from", { default: "PLAN.journal" }),
    log: textOption("FILE", "an audit log of JSON lines: every deletion announced before it is made"),
    concurrency: concurrencyOption(DEFAULT_CONCURRENCY, "batches in flight"),
    "batch-size": valueOption("N", "files per delete request", (text) => wholeNumber("batch-size", text, MAX_BATCH_SIZE, MAX_BATCH_SIZE), { default: String(MAX_BATCH_SIZE) }),
    timeout: timeoutOption,
    "dry-run": dryRunOption("check every planned file and delete nothing (no lock, no journal)"),
    format: formatOption(["text", "json"] as const),
  },
  async run({ options, operands: [source] }, io) {
    const journalPath = await outputFile(io, "journal", options.journal ?? `${source}.journal`);
    const logPath = options.log === undefined ? undefined : await outputFile(io, "log", options.log);
    const plan = await readPlan(io, source!);
    const target = targetOf(io, options.target ?? plan.target);
    const policy = options.policy === undefined ? undefined : await policyFacts(io, options.policy);
    const dryRun = options["dry-run"];
    const progress = progressDisplay(io, { quiet: options.format === "json" });
    const report = await applyReviewedPlan({
      plan,
      source: source!,
      target,
      context: targetContext(io, options.timeout),
      expectations: {
        ...(options.target !== undefined ? { targetUrl: target.url } : {}),
        ...(policy !== undefined ? { policySha256: policy.sha256 } : {}),
        ...(policy?.target !== undefined ? { policyTargetUrl: targetOf(io, policy.target, "policy target").url } : {}),
        ...(io.env[PLAN_KEY] ? { planKey: io.env[PLAN_KEY] } : {}),
        requireSigned: options["require-signed"],
        ...(options["expect-digest"] !== undefined ? { expectDigest: options["expect-digest"] } : {}),
      },
      journalPath,
      logPath,
      clock: io.clock,
      options: { dryRun, concurrency: options.concurrency, batchSize: options["batch-size"] },
      // Which plan, before anything is touched: on stderr when stdout is the JSON report, so that a job's log shows it first either way.
      onStart: (verified) => {
        if (options.format === "text") io.stdout(applyHeader(verified, dryRun));
        else io.stderr(applyHeader(verified, dryRun));
      },
      onProgress: progress.listener,
    }).finally(() => progress.done());
    return showApplyReport(io, report, { source: source!, journalPath, format: options.format });
  },
});
