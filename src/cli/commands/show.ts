import { resolve } from "node:path";
import { readTextFile } from "../../util/text-file.ts";
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

/** Under the longest string V8 holds (2^29 - 24 characters): a plan of about two million files. */
const MAX_PLAN_BYTES = 500 * 1024 * 1024;

/** A plan file's text: a FIFO is never waited on, bytes that are not UTF-8 are reported where they are. */
export async function readPlanText(io: CommandIo, file: string): Promise<string> {
  const read = await readTextFile(resolve(io.cwd, file), "plan", MAX_PLAN_BYTES);
  if ("text" in read) return read.text;
  const { message, line, col } = read.problem;
  throw new UserError(line === 1 && col === 1 ? `${file}: ${message}` : `${file}:${line}:${col}: ${message}`);
}
