import type { PlanComparison } from "../../plan/diff.ts";
import { diffJsonChunks, renderDiffMarkdown, renderDiffText } from "../../plan/render/diff.ts";
import type { Io } from "../io.ts";
import { writeChunks } from "./output.ts";
import { type PlanFormat, type RenderOptions, TEXT_LIMIT } from "./plan.ts";

export function writeDiff(io: Io, comparison: PlanComparison, format: PlanFormat, options: RenderOptions): void {
  if (format === "json") writeChunks(io, diffJsonChunks(comparison));
  else io.stdout(format === "markdown" ? renderDiffMarkdown(comparison, { maxChars: options.maxChars }) : renderDiffText(comparison, { all: options.all, limit: TEXT_LIMIT }));
}
