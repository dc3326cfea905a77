import type { ItemAnalysis, ItemOutcome } from "../../analyze/analyze.ts";
import type { AnalyzeReport } from "../../analyze/run.ts";
import { count } from "../../plan/render/format.ts";
import { hashText } from "../../siginfo/compare.ts";

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

/** `hello:amd64:dpkg_build local <unihash> vs remote <unihash> (newest of 3 candidates)`, hashes in full. */
function headerOf({ item, remote }: ItemAnalysis): string {
  const local = `${item.pn}:${item.arch}:${item.task} local ${hashText(item.hash)}`;
  if (!remote) return local;
  const candidates = item.candidates.length === 1 ? "the only candidate" : `newest of ${count(item.candidates.length)} candidates`;
  return `${local} vs remote ${hashText(remote.name.hash)} (${candidates})`;
}
