import { resolve } from "node:path";
import { DEFAULT_TIMEOUTS } from "../../backends/backend.ts";
import { runDemo } from "../../demo/run.ts";
import { PLAN_KEY } from "../../plan/run.ts";
import { command, textOption, valueOption } from "../command.ts";
import { targetContext } from "../inputs.ts";
import { UserError } from "../io.ts";
import { formatOption } from "../options.ts";
import { PLAN_FORMATS, planExitCode, writePlan } from "../views/plan.ts";
import { writeWarnings } from "../views/diagnostics.ts";
import { progressDisplay } from "../views/progress.ts";
import { DEFAULT_MAX_CHARS } from "../../plan/render/markdown.ts";

const MIN_FILES = 100;

/** Builds (once) a realistic cache with the project's deterministic generator and plans the example policy for it. */
export const demoCommand = command({
  name: "demo",
  summary: "generate a demo cache on local disk and plan policies/example.yaml for it",
  description: `The cache is deterministic (sparse files, mtimes relative to a fixed time) and written once;
a directory is written to only when it is missing, empty or a demo cache already.`,
  options: {
    dir: textOption("DIR", "where the demo cache is", { default: ".demo-cache" }),
    files: valueOption(
      "N",
      "how many files the cache has",
      (text) => {
        const files = Number(text ?? "5000");
        if (!Number.isInteger(files) || files < MIN_FILES) throw new UserError(`--files ${text}: expected a whole number of at least ${MIN_FILES}`);
        return files;
      },
      { default: "5000" },
    ),
    format: formatOption(PLAN_FORMATS),
  },
  async run({ options }, io) {
    const progress = progressDisplay(io, { quiet: options.format === "json" });
    const demo = await runDemo({
      dir: resolve(io.cwd, options.dir ?? ".demo-cache"),
      files: options.files,
      cwd: io.cwd,
      context: targetContext(io, DEFAULT_TIMEOUTS),
      clock: io.clock,
      key: io.env[PLAN_KEY] || undefined,
      onProgress: progress.listener,
    }).finally(() => progress.done());
    if (demo.written) io.stderr(`demo cache: ${demo.written.files} sparse files in ${demo.written.dir} (mtimes relative to ${demo.written.now})\n\n`);
    writeWarnings(io, demo.plan.summary.warnings ?? []);
    writePlan(io, demo.plan, options.format, { all: false, maxChars: DEFAULT_MAX_CHARS });
    return planExitCode(io, demo.plan);
  },
});
