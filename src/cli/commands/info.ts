import { renderInfoMarkdown, renderInfoText } from "../../info/render.ts";
import { describeCache } from "../../info/run.ts";
import { command, valueOption } from "../command.ts";
import { targetContext, targetOf } from "../inputs.ts";
import { EXIT, UserError } from "../io.ts";
import { formatOption, nowOption, timeoutOption } from "../options.ts";
import { PLAN_FORMATS } from "../views/plan.ts";
import { progressDisplay } from "../views/progress.ts";

const DEFAULT_TOP = 10;

/** Counts, bytes and health of a cache (isar-sstate `info -v`, and what a cleanup policy would act on). */
export const infoCommand = command({
  name: "info",
  summary: "counts, bytes, ages and health of a cache (orphans, duplicates, siginfo-only tasks)",
  description: `Files and bytes per kind, arch, task and recipe, an age histogram, and what cleanup rules would
act on: orphans, siginfo-only tasks, duplicate generations, identical archives under different
hashes (isar-sstate info -v). Nothing is changed.`,
  operands: { usage: "TARGET", min: 1, max: 1, wrongCount: "name one target (a path, file://, s3:// or http(s):// URL)" },
  options: {
    format: formatOption(PLAN_FORMATS),
    now: nowOption,
    top: valueOption(
      "N",
      "how many recipes the top list names",
      (text) => {
        const top = text === undefined ? DEFAULT_TOP : Number(text);
        if (!Number.isInteger(top) || top < 0) throw new UserError(`--top ${text}: expected a whole number of recipes`);
        return top;
      },
      { default: String(DEFAULT_TOP) },
    ),
    timeout: timeoutOption,
  },
  async run({ options, operands: [raw] }, io) {
    const target = targetOf(io, raw, "target");
    const progress = progressDisplay(io, { quiet: options.format === "json" });
    const report = await describeCache({ target, context: targetContext(io, options.timeout), now: options.now.getTime(), top: options.top, onProgress: progress.listener }).finally(() =>
      progress.done()
    );
    const heading = { target: target.url };
    if (options.format === "json") io.stdout(`${JSON.stringify({ target: target.url, ...report }, null, 2)}\n`);
    else io.stdout(options.format === "markdown" ? renderInfoMarkdown(report, heading) : renderInfoText(report, heading));
    return EXIT.ok;
  },
});
