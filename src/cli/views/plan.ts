import { type PlanFile, serializePlanChunks } from "../../plan/plan-file.ts";
import { renderMarkdown } from "../../plan/render/markdown.ts";
import { renderText } from "../../plan/render/text.ts";
import { EXIT, type Io } from "../io.ts";
import { writeChunks } from "./output.ts";

export const PLAN_FORMATS = ["text", "markdown", "json"] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];
export interface RenderOptions {
  all: boolean;
  maxChars: number;
}
/** Files a text rendering lists without --all. */
export const TEXT_LIMIT = 30;

export function writePlan(io: Io, plan: PlanFile, format: PlanFormat, options: RenderOptions): void {
  if (format === "json") writeChunks(io, serializePlanChunks(plan));
  else io.stdout(format === "markdown" ? renderMarkdown(plan, { maxChars: options.maxChars }) : renderText(plan, { all: options.all, limit: TEXT_LIMIT }));
}

/** The exit code of a plan made: 0, or 3 when a guard refused it, which stderr then says. */
export function planExitCode(io: Io, plan: PlanFile): number {
  if (!plan.refused) return EXIT.ok;
  io.stderr(`plan refused by guard: ${plan.guards.filter((g) => g.verdict === "refused").map((g) => `${g.name}: ${g.message}`).join("; ")}\n`);
  return EXIT.refused;
}
