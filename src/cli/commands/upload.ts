import { uploadCache } from "../../upload/run.ts";
import { command } from "../command.ts";
import { targetContext, targetOf } from "../inputs.ts";
import { EXIT } from "../io.ts";
import { concurrencyOption, dryRunOption, globsOption, timeoutOption } from "../options.ts";
import { progressDisplay } from "../views/progress.ts";
import { showUploadReport } from "../views/upload.ts";

const DEFAULT_CONCURRENCY = 8;

/** isar-sstate upload: copies what the target lacks, under the same relative paths. */
export const uploadCommand = command({
  name: "upload",
  summary: "push a cache to another (local, S3, WebDAV), skipping what is there already",
  description: `Copies what the target lacks under the same paths, from one listing of each side; nothing on
the target is overwritten. Companions go before their archives. Temporaries that interrupted
uploads left on the target over an hour ago are removed. Exit 5 if some uploads failed.`,
  operands: { usage: "SRC TARGET", min: 2, max: 2, wrongCount: "name the source cache and the target" },
  options: {
    pn: globsOption("pn", "only recipes matching this glob"),
    arch: globsOption("arch", "only package architectures matching this glob"),
    "dry-run": dryRunOption("say what would be uploaded and cleaned, and change nothing"),
    concurrency: concurrencyOption(DEFAULT_CONCURRENCY),
    timeout: timeoutOption,
  },
  async run({ options, operands: [source, target] }, io) {
    const { pn, arch } = options;
    const progress = progressDisplay(io);
    const report = await uploadCache({
      source: targetOf(io, source, "source"),
      target: targetOf(io, target, "target"),
      context: targetContext(io, options.timeout),
      wanted: (file) => pn.matches(file.name.pn) && arch.matches(file.name.arch),
      dryRun: options["dry-run"],
      concurrency: options.concurrency,
      now: io.clock().getTime(),
      onProgress: progress.listener,
    }).finally(() => progress.done());
    const filters = [...pn.patterns.map((glob) => `--pn ${glob}`), ...arch.patterns.map((glob) => `--arch ${glob}`)];
    return showUploadReport(io, report, filters) ? EXIT.failed : EXIT.ok;
  },
});
