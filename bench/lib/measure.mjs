import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";

const GNU_TIME = "/usr/bin/time";
const HAS_GNU_TIME = existsSync(GNU_TIME);
/** How often /proc is read for the peak RSS when GNU time is missing. */
const RSS_POLL_MS = 10;

/**
 * Runs a command with stdout discarded (like `> /dev/null`), and measures its wall time and
 * peak RSS: GNU time's %M (the kernel's rusage maximum, exact) where /usr/bin/time exists,
 * else the VmHWM high-water mark polled from /proc, which can miss growth in the last few ms.
 * Rejects unless it exits with 0.
 */
export async function measureCommand(command, args, { cwd, scratchDir, captureStdout = false, env = process.env }) {
  const rssFile = join(scratchDir, `rss-${process.pid}-${Date.now()}.txt`);
  const [file, argv] = HAS_GNU_TIME ? [GNU_TIME, ["-f", "%M", "-o", rssFile, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { cwd, env, stdio: ["ignore", captureStdout ? "pipe" : "ignore", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  let polledPeakKiB = 0;
  const poll = HAS_GNU_TIME ? undefined : setInterval(() => {
    polledPeakKiB = Math.max(polledPeakKiB, highWaterMarkKiB(child.pid));
  }, RSS_POLL_MS);
  const exitCode = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code ?? `signal ${signal}`));
  }).finally(() => clearInterval(poll));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (exitCode !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${exitCode}\n${stderr.trim()}`);
  }
  let peakRssKiB = polledPeakKiB;
  if (HAS_GNU_TIME) {
    // GNU time writes "Command exited with non-zero status N" before the figure on failures.
    const lines = (await readFile(rssFile, "utf8")).trim().split("\n");
    peakRssKiB = Number(lines.at(-1));
    await rm(rssFile, { force: true });
  }
  return { wallMs, peakRssKiB, stdout };
}

/** The name of the peak RSS method, for the results' machine section. */
export const RSS_METHOD = HAS_GNU_TIME ? "GNU time %M (rusage maxrss)" : "/proc/PID/status VmHWM polled every 10 ms";

function highWaterMarkKiB(pid) {
  let status;
  try {
    // Synchronous on purpose: the child may exit between an asynchronous open and read.
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0;
  }
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/**
 * Runs each measurement `runs` times, alternating between them so that drifting machine load
 * hits all alike. Per measurement: the best (lowest) wall time, the highest peak RSS (the
 * memory bound must hold on every run) and every run.
 */
export async function bestOfAlternating(runs, measurements) {
  const all = Object.fromEntries(Object.keys(measurements).map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, measure] of Object.entries(measurements)) all[name].push(await measure());
  }
  return Object.fromEntries(
    Object.entries(all).map(([name, results]) => [
      name,
      {
        wallMs: Math.min(...results.map((result) => result.wallMs)),
        peakRssKiB: Math.max(...results.map((result) => result.peakRssKiB)),
        runs: results.map(({ wallMs, peakRssKiB }) => ({ wallMs, peakRssKiB })),
        last: results.at(-1),
      },
    ]),
  );
}

/**
 * Runs each measurement `runs` times, alternating between them so that drifting machine load
 * hits all alike, with the load average before each. Per measurement: every run, and the median
 * of each numeric figure of its results (wall time, requests…), picked from the run of median
 * wall time for the others.
 */
export async function medianOfAlternating(runs, measurements) {
  const all = Object.fromEntries(Object.keys(measurements).map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, measure] of Object.entries(measurements)) all[name].push({ load: loadavg()[0], ...(await measure(run)) });
  }
  return Object.fromEntries(
    Object.entries(all).map(([name, results]) => {
      const byWall = [...results].sort((a, b) => a.wallMs - b.wallMs);
      return [name, { ...byWall[(byWall.length - 1) >> 1], wallMs: median(results.map((result) => result.wallMs)), runs: results }];
    }),
  );
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Wall time of an in-process async function. */
export async function timed(work) {
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, wallMs: Number(process.hrtime.bigint() - started) / 1e6 };
}
