/**
 * Progress on an interactive terminal: one line on stderr that rewrites itself, with the phase,
 * the count, the rate, the time elapsed and, when the total is known, the time left. Nothing
 * anywhere else: not on a pipe or a file, not in CI, not with TERM=dumb (no cursor control).
 */
import type { Progress, ProgressListener } from "../../util/progress.ts";
import { formatBytes } from "../../util/units.ts";
import type { Io } from "../io.ts";

/** Whether progress lines may be written to a stream. */
export function progressWanted(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && !env["CI"] && env["TERM"] !== "dumb";
}

/** A rate or an estimate needs this much time behind it to mean anything. */
const SETTLED_MS = 1_000;
/** A line at most this often: a terminal redrawn a thousand times a second slows the run. */
const REDRAW_MS = 100;

const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** `1:05`, `1:02:03`; whole seconds rounded down (time elapsed) or up (time left). */
function clockTime(ms: number, round: (seconds: number) => number = Math.floor): string {
  const seconds = Math.max(0, round(ms / 1000));
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** `applying plan.json: 1,200 of 5,000 files, 1.20 GiB · 400 files/s · 0:03 elapsed · 0:10 left` */
export function formatProgress(progress: Progress, elapsedMs: number): string {
  const { phase, done, total, unit, bytes, totalBytes } = progress;
  const amount = [`${count(done)}${total !== undefined ? ` of ${count(total)}` : ""} ${unit}`];
  if (bytes !== undefined) amount.push(`${formatBytes(bytes)}${totalBytes !== undefined ? ` of ${formatBytes(totalBytes)}` : ""}`);
  const parts = [`${phase}: ${amount.join(", ")}`];
  if (elapsedMs >= SETTLED_MS && done > 0) {
    const seconds = elapsedMs / 1000;
    parts.push(bytes !== undefined && bytes > 0 ? `${count(done / seconds)} ${unit}/s, ${formatBytes(Math.round(bytes / seconds))}/s` : `${count(done / seconds)} ${unit}/s`);
  }
  parts.push(`${clockTime(elapsedMs)} elapsed`);
  const left = remainingMs(progress, elapsedMs);
  if (left !== undefined) parts.push(`${clockTime(left, Math.ceil)} left`);
  return parts.join(" · ");
}

/** The time left at the rate so far, by bytes where they are known (a few big files dominate), else by count. */
function remainingMs({ done, total, bytes, totalBytes }: Progress, elapsedMs: number): number | undefined {
  if (elapsedMs < SETTLED_MS) return undefined;
  if (bytes !== undefined && totalBytes !== undefined && bytes > 0) return (elapsedMs * Math.max(0, totalBytes - bytes)) / bytes;
  if (total !== undefined && done > 0) return (elapsedMs * Math.max(0, total - done)) / done;
  return undefined;
}

export interface ProgressDisplay {
  /** What the runs call; undefined where no progress is shown, so runs skip the work of reporting. */
  listener: ProgressListener | undefined;
  /** Clears the line. */
  done(): void;
}

/**
 * The progress line for `io` (none when its stderr is no terminal, or `quiet`, e.g. for JSON
 * output). A new phase draws at once and restarts the clock; within a phase, at most every
 * REDRAW_MS.
 */
export function progressDisplay(io: Io, options: { quiet?: boolean; clock?: () => number } = {}): ProgressDisplay {
  if (!io.progressEnabled || options.quiet) return { listener: undefined, done() {} };
  const clock = options.clock ?? (() => performance.now());
  let phase: string | undefined;
  let started = 0;
  let drawn = -Infinity;
  let shown = false;
  const columns = io.terminalColumns ?? Infinity;
  return {
    listener(progress) {
      const now = clock();
      if (progress.phase !== phase) {
        phase = progress.phase;
        started = now;
      } else if (now - drawn < REDRAW_MS) return;
      drawn = now;
      shown = true;
      const line = formatProgress(progress, now - started);
      io.stderr(`\r\x1b[2K${line.length < columns ? line : `${line.slice(0, Math.max(0, columns - 2))}…`}`);
    },
    done() {
      if (shown) io.stderr("\r\x1b[2K");
      shown = false;
    },
  };
}
