import type { ItemAnalysis, ItemOutcome } from "../../analyze/analyze.ts";
import type { AnalyzeReport } from "../../analyze/run.ts";
import { count } from "../../plan/render/format.ts";
import { shortHash } from "../../siginfo/compare.ts";

export function renderAnalysis({ source, target, found, analyses }: AnalyzeReport): string {
  const out: string[] = [`Analyze ${source} against ${target}: ${count(analyses.length)} local items missing on the target, ${count(found)} found there`];
  for (const analysis of analyses) out.push("", headerOf(analysis), ...analysis.lines.map((line) => `  ${line}`));
  const outcomes = (outcome: ItemOutcome) => count(analyses.filter((a) => a.outcome === outcome).length);
  out.push(
    "",
    `${outcomes("compared")} compared, ${outcomes("no-candidate")} without a remote candidate, ${outcomes("no-local-siginfo")} without a local siginfo, ${outcomes("unreadable")} unreadable`,
  );
  return `${out.join("\n")}\n`;
}

/** `hello:amd64:dpkg_build local 1a2b3c4d vs remote 5e6f7a8b (newest of 3 candidates)` */
function headerOf({ item, remote }: ItemAnalysis): string {
  const local = `${item.pn}:${item.arch}:${item.task} local ${shortHash(item.hash)}`;
  if (!remote) return local;
  const candidates = item.candidates.length === 1 ? "the only candidate" : `newest of ${count(item.candidates.length)} candidates`;
  return `${local} vs remote ${shortHash(remote.name.hash)} (${candidates})`;
}
