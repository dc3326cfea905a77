import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parsePlan } from "../../plan/read-plan.ts";
import { oneOf, parseCommandArgs } from "../args.ts";
import { EXIT, UserError, type CommandIo } from "../io.ts";
import { FORMATS, maxCharsOption, renderPlan } from "./plan.ts";

const USAGE = "sstate-keeper show PLAN [--format text|markdown|json] [--max-chars N] [--all]";

export async function showCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("show", argv, { format: { type: "string", short: "f" }, all: { type: "boolean" }, "max-chars": { type: "string" } }, USAGE);
  if (positionals.length !== 1) throw new UserError(`show: name one plan file\nusage: ${USAGE}`);
  const plan = parsePlan(await readPlanText(io, positionals[0]!), positionals[0]!);
  io.stdout(renderPlan(plan, oneOf("format", values.format, FORMATS, "text"), { all: values.all === true, maxChars: maxCharsOption(values["max-chars"]) }));
  return EXIT.ok;
}

export async function readPlanText(io: CommandIo, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read the plan: ${(error as Error).message}`);
  }
}
