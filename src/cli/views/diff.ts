import type { PlanComparison } from "../../plan/diff.ts";
import { diffJsonChunks, renderDiffMarkdown, renderDiffText } from "../../plan/render/diff.ts";
import type { Io } from "../io.ts";
import { writeChunks } from "./output.ts";
import { TEXT_LIMIT, type PlanFormat, type RenderOptions } from "./plan.ts";

export function writeDiff(io: Io, comparison: PlanComparison, format: PlanFormat, options: RenderOptions): void {
  if (format === "json") writeChunks(io, diffJsonChunks(comparison));
  else io.stdout(format === "markdown" ? renderDiffMarkdown(comparison, { maxChars: options.maxChars }) : renderDiffText(comparison, { all: options.all, limit: TEXT_LIMIT }));
}
