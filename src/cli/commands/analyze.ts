import { analyzeCaches } from "../../analyze/run.ts";
import { command } from "../command.ts";
import { targetContext, targetOf } from "../inputs.ts";
import { EXIT } from "../io.ts";
import { concurrencyOption, globsOption, timeoutOption } from "../options.ts";
import { renderAnalysis } from "../views/analyze.ts";
import { progressDisplay } from "../views/progress.ts";

const DEFAULT_CONCURRENCY = 8;

/** isar-sstate analyze: why does the local build not find its items in the remote cache? */
export const analyzeCommand = command({
  name: "analyze",
  summary: "explain why local items are missing remotely: bitbake-diffsigs against the newest remote candidate",
  description: `For each local item the target lacks, the siginfo of the newest remote item of the same
pn, arch and task is compared with the local one, following changed dependencies
(isar-sstate analyze).`,
  operands: { usage: "SRC TARGET", min: 2, max: 2, wrongCount: "name the local cache and the remote one" },
  options: {
    task: globsOption("task", "only tasks matching this glob (default: every task with a local archive)"),
    concurrency: concurrencyOption(DEFAULT_CONCURRENCY),
    timeout: timeoutOption,
  },
  async run({ options, operands: [source, target] }, io) {
    const progress = progressDisplay(io);
    const report = await analyzeCaches({
      source: targetOf(io, source, "source"),
      target: targetOf(io, target, "target"),
      context: targetContext(io, options.timeout),
      taskMatches: options.task.patterns.length > 0 ? options.task.matches : undefined,
      concurrency: options.concurrency,
      onProgress: progress.listener,
    }).finally(() => progress.done());
    io.stdout(renderAnalysis(report));
    return EXIT.ok;
  },
});
