import { cacheInfo } from "../../info/report.ts";
import { renderInfoMarkdown, renderInfoText } from "../../info/render.ts";
import { nowOption, oneOf, parseCommandArgs, timeoutOption } from "../args.ts";
import { EXIT, UserError, type CommandIo } from "../io.ts";
import { listTarget, targetOf, withBackend } from "../listing-input.ts";
import { FORMATS } from "./plan.ts";

const USAGE = "sstate-keeper info TARGET [--format text|markdown|json] [--now ISO] [--top N]";
const DEFAULT_TOP = 10;

/** Counts, bytes and health of a cache (isar-sstate `info -v`, and what a cleanup policy would act on). */
export async function infoCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "info",
    argv,
    { format: { type: "string", short: "f" }, now: { type: "string" }, top: { type: "string" }, timeout: { type: "string" } },
    USAGE,
  );
  if (positionals.length !== 1) throw new UserError(`info: name one target (a path, file://, s3:// or http(s):// URL)\nusage: ${USAGE}`);
  const format = oneOf("format", values.format, FORMATS, "text");
  const now = nowOption(io, values.now);
  const top = values.top === undefined ? DEFAULT_TOP : Number(values.top);
  if (!Number.isInteger(top) || top < 0) throw new UserError(`--top ${values.top}: expected a whole number of recipes`);
  const timeouts = timeoutOption(values.timeout);
  const target = targetOf(io, positionals[0], "target");
  const report = await withBackend(io, target, async (backend) => cacheInfo(await listTarget(io, backend), { now: now.getTime(), top }), timeouts);
  const heading = { target: target.url };
  if (format === "json") io.stdout(`${JSON.stringify({ target: target.url, ...report }, null, 2)}\n`);
  else io.stdout(format === "markdown" ? renderInfoMarkdown(report, heading) : renderInfoText(report, heading));
  return EXIT.ok;
}
