import { analyzeItems, missingItems, type ItemAnalysis, type ItemOutcome } from "../../analyze/analyze.ts";
import { count } from "../../plan/render/format.ts";
import { shortHash } from "../../siginfo/compare.ts";
import { SstateNames } from "../../sstate/name.ts";
import { concurrencyOption, globOption, parseCommandArgs, timeoutOption } from "../args.ts";
import { EXIT, progressLine, UserError, type CommandIo } from "../io.ts";
import { listTarget, targetOf, withBackend } from "../listing-input.ts";

const USAGE = "sstate-keeper analyze SRC TARGET [--task GLOB]… [--concurrency N] [--timeout 15s]";
const DEFAULT_CONCURRENCY = 8;

/** isar-sstate analyze: why does the local build not find its items in the remote cache? */
export async function analyzeCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "analyze",
    argv,
    { task: { type: "string", multiple: true }, concurrency: { type: "string", short: "j" }, timeout: { type: "string" } },
    USAGE,
  );
  if (positionals.length !== 2) throw new UserError(`analyze: name the local cache and the remote one\nusage: ${USAGE}`);
  const taskMatches = values.task ? globOption("task", values.task) : undefined;
  const concurrency = concurrencyOption(values.concurrency, DEFAULT_CONCURRENCY);
  const timeouts = timeoutOption(values.timeout);
  const source = targetOf(io, positionals[0], "source");
  const target = targetOf(io, positionals[1], "target");

  const { found, analyses } = await withBackend(io, source, (localBackend) =>
    withBackend(io, target, async (remoteBackend) => {
      // One parser for both: their task keys then name the same pn+arch+task.
      const names = new SstateNames();
      const local = { backend: localBackend, listing: await listTarget(io, localBackend, names) };
      const remote = { backend: remoteBackend, listing: await listTarget(io, remoteBackend, names) };
      const { missing, found } = missingItems(local.listing, remote.listing, taskMatches);
      const progress = progressLine(io);
      try {
        const analyses = await analyzeItems(missing, local, remote, {
          concurrency,
          onProgress: (done) => progress.update(`comparing signatures: ${count(done)} of ${count(missing.length)} items`),
        });
        return { found, analyses };
      } finally {
        progress.done();
      }
    }, timeouts),
  timeouts);

  const out: string[] = [`Analyze ${source.url} against ${target.url}: ${count(analyses.length)} local items missing on the target, ${count(found)} found there`];
  for (const analysis of analyses) out.push("", headerOf(analysis), ...analysis.lines.map((line) => `  ${line}`));
  const outcomes = (outcome: ItemOutcome) => count(analyses.filter((a) => a.outcome === outcome).length);
  out.push(
    "",
    `${outcomes("compared")} compared, ${outcomes("no-candidate")} without a remote candidate, ${outcomes("no-local-siginfo")} without a local siginfo, ${outcomes("unreadable")} unreadable`,
  );
  io.stdout(`${out.join("\n")}\n`);
  return EXIT.ok;
}

/** `hello:amd64:dpkg_build local 1a2b3c4d vs remote 5e6f7a8b (newest of 3 candidates)` */
function headerOf({ item, remote }: ItemAnalysis): string {
  const local = `${item.pn}:${item.arch}:${item.task} local ${shortHash(item.hash)}`;
  if (!remote) return local;
  const candidates = item.candidates.length === 1 ? "the only candidate" : `newest of ${count(item.candidates.length)} candidates`;
  return `${local} vs remote ${shortHash(remote.name.hash)} (${candidates})`;
}
