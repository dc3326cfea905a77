import { open } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { buildPlan, serializePlan, serializePlanChunks, type PlanFile } from "../../plan/plan-file.ts";
import { evaluate } from "../../plan/planner.ts";
import { renderMarkdown } from "../../plan/render/markdown.ts";
import { renderText } from "../../plan/render/text.ts";
import { DURATION_HELP, parseDuration } from "../../policy/units.ts";
import { TOOL } from "../../version.ts";
import { nowOption, oneOf, parseCommandArgs, timeoutOption } from "../args.ts";
import { EXIT, UserError, type CommandIo } from "../io.ts";
import { listTarget, targetOf, withBackend } from "../listing-input.ts";
import { readPolicy } from "../policy-input.ts";

const USAGE = "sstate-keeper plan --policy P [--target URL] [--now ISO] [--out plan.json] [--format text|markdown|json] [--explain] [--all] [--valid-for 7d]";
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
      listing: { files: listing.files.length, bytes: listing.bytes, sha256: listing.sha256 },
    });
  }, timeouts);
  if (values.out) {
    const file = await open(resolve(io.cwd, values.out), "w");
    try {
      for (const chunk of coalesce(serializePlanChunks(plan))) await file.write(chunk);
    } finally {
      await file.close();
    }
  }
  if (format === "json") for (const chunk of coalesce(serializePlanChunks(plan))) io.stdout(chunk);
  else io.stdout(renderPlan(plan, format, values.all === true));
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

export function renderPlan(plan: PlanFile, format: Format, all: boolean): string {
  if (format === "json") return serializePlan(plan);
  if (format === "markdown") return renderMarkdown(plan);
  return renderText(plan, { all, limit: 30 });
}

/** The policy path as recorded in the plan: relative to where the command ran, with / separators. */
function portablePath(cwd: string, file: string): string {
  return relative(cwd, resolve(cwd, file)).split(sep).join("/");
}
