import { command } from "../command.ts";
import { readPlan } from "../inputs.ts";
import { EXIT } from "../io.ts";
import { allOption, formatOption, maxCharsOption } from "../options.ts";
import { writeWarnings } from "../views/diagnostics.ts";
import { PLAN_FORMATS, writePlan } from "../views/plan.ts";

export const showCommand = command({
  name: "show",
  summary: "render a saved plan as text, markdown or json",
  description: "The plan is checked as apply checks it (format version, shape, integrity) before it is shown; the warnings it records go to stderr.",
  operands: { usage: "PLAN", min: 1, max: 1, wrongCount: "name one plan file" },
  options: { format: formatOption(PLAN_FORMATS), "max-chars": maxCharsOption, all: allOption },
  async run({ options, operands: [file] }, io) {
    const plan = await readPlan(io, file!);
    writeWarnings(io, plan.summary.warnings ?? []);
    writePlan(io, plan, options.format, { all: options.all, maxChars: options["max-chars"] });
    return EXIT.ok;
  },
});
