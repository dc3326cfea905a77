import { relative, resolve, sep } from "node:path";
import { buildPlan, serializePlan, serializePlanChunks, type PlanFile } from "../../plan/plan-file.ts";
import { evaluate } from "../../plan/planner.ts";
import { DEFAULT_MAX_CHARS, renderMarkdown } from "../../plan/render/markdown.ts";
import { renderText } from "../../plan/render/text.ts";
import { DURATION_HELP, parseDuration } from "../../util/units.ts";
import { writeFileAtomically } from "../../util/atomic-file.ts";
import { outputFile } from "../destinations.ts";
import { TOOL } from "../../util/version.ts";
import { nowOption, oneOf, parseCommandArgs, timeoutOption, wholeNumberOption } from "../args.ts";
import { EXIT, UserError, type CommandIo } from "../io.ts";
import { listTarget, targetOf, withBackend } from "../listing-input.ts";
import { readPolicy } from "../policy-input.ts";

const USAGE = "sstate-keeper plan --policy P [--target URL] [--now ISO] [--out plan.json] [--format text|markdown|json] [--max-chars N] [--explain] [--all] [--valid-for 7d] [--timeout 15s]";
export const FORMATS = ["text", "markdown", "json"] as const;
export type Format = (typeof FORMATS)[number];
const DEFAULT_VALIDITY = "7d";

export async function planCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "plan",
    argv,
    {
      policy: { type: "string", short: "p" },
      target: { type: "string", short: "t" },
      now: { type: "string" },
      out: { type: "string", short: "o" },
      format: { type: "string", short: "f" },
      explain: { type: "boolean" },
      all: { type: "boolean" },
      "valid-for": { type: "string" },
      "max-chars": { type: "string" },
      timeout: { type: "string" },
    },
    USAGE,
  );
  if (positionals.length > 0) throw new UserError(`plan: unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  if (!values.policy) throw new UserError(`plan: --policy is required\nusage: ${USAGE}`);
  const format = oneOf("format", values.format, FORMATS, "text");
  const now = nowOption(io, values.now);
  const validForMs = parseDuration(values["valid-for"] ?? DEFAULT_VALIDITY);
  if (validForMs === undefined) throw new UserError(`--valid-for '${values["valid-for"]}' is not ${DURATION_HELP}`);
  const timeouts = timeoutOption(values.timeout);
  const out = values.out === undefined ? undefined : await outputFile(io, "out", values.out);

  const { policy, referencedHashes } = await readPolicy(io, values.policy);
  const target = targetOf(io, values.target ?? policy.target);
  const plan = await withBackend(io, target, async (backend) => {
    const listing = await listTarget(io, backend);
    const evaluation = evaluate({ listing, policy, now: now.getTime(), referencedHashes, explainKept: values.explain === true });
    return buildPlan(evaluation, {
      tool: TOOL,
      createdAt: io.clock(),
      now,
      validForMs,
      target: target.url,
      policy: { path: portablePath(io.cwd, values.policy!), sha256: policy.sha256 },
      listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
    }, io.env["SSTATE_KEEPER_PLAN_KEY"] || undefined);
  }, timeouts);
  if (out !== undefined) await writeFileAtomically(out, coalesce(serializePlanChunks(plan)));
  if (format === "json") for (const chunk of coalesce(serializePlanChunks(plan))) io.stdout(chunk);
  else io.stdout(renderPlan(plan, format, { all: values.all === true, maxChars: maxCharsOption(values["max-chars"]) }));
  if (plan.refused) {
    io.stderr(`plan refused by guard: ${plan.guards.filter((g) => g.verdict === "refused").map((g) => `${g.name}: ${g.message}`).join("; ")}\n`);
    return EXIT.refused;
  }
  return EXIT.ok;
}

/** Joins small chunks into writes of about 1 MiB. */
function* coalesce(chunks: Iterable<string>): Generator<string> {
  let pending: string[] = [];
  let size = 0;
  for (const chunk of chunks) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= 1 << 20) {
      yield pending.join("");
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield pending.join("");
}

export function renderPlan(plan: PlanFile, format: Format, options: { all: boolean; maxChars: number }): string {
  if (format === "json") return serializePlan(plan);
  if (format === "markdown") return renderMarkdown(plan, { maxChars: options.maxChars });
  return renderText(plan, { all: options.all, limit: 30 });
}

/** `--max-chars N`: the markdown rendering's budget (GitHub comments hold 65,536 characters). */
export function maxCharsOption(text: string | undefined): number {
  return wholeNumberOption("max-chars", text, DEFAULT_MAX_CHARS, 10_000_000);
}

/** The policy path as recorded in the plan: relative to where the command ran, with / separators. */
function portablePath(cwd: string, file: string): string {
  return relative(cwd, resolve(cwd, file)).split(sep).join("/");
}
