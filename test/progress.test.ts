// Progress on a terminal: what the line says (a pure function of the progress and the time
// elapsed), when it is drawn, and that nothing is drawn where no terminal can take it.
import { describe, expect, it } from "vitest";
import { formatProgress, progressDisplay, progressWanted } from "../src/cli/views/progress.ts";
import type { Progress } from "../src/util/progress.ts";
import { testIo } from "./support/io.ts";

describe("the progress line", () => {
  it.each<{ progress: Progress; elapsedMs: number; line: string }>([
    { progress: { phase: "listing s3://yocto-sstate/ci", done: 1_234, unit: "files" }, elapsedMs: 600, line: "listing s3://yocto-sstate/ci: 1,234 files · 0:00 elapsed" },
    { progress: { phase: "listing s3://yocto-sstate/ci", done: 40_000, unit: "files" }, elapsedMs: 4_000, line: "listing s3://yocto-sstate/ci: 40,000 files · 10,000 files/s · 0:04 elapsed" },
    {
      progress: { phase: "evaluating policies/example.yaml", done: 1_000_000, total: 1_000_000, unit: "files" },
      elapsedMs: 200,
      line: "evaluating policies/example.yaml: 1,000,000 of 1,000,000 files · 0:00 elapsed",
    },
    {
      progress: { phase: "applying the plan for s3://yocto-sstate/ci", done: 1_200, total: 5_000, unit: "files", bytes: 3 * 1024 ** 3 },
      elapsedMs: 3_000,
      line: "applying the plan for s3://yocto-sstate/ci: 1,200 of 5,000 files, 3.00 GiB · 400 files/s, 1.00 GiB/s · 0:03 elapsed · 0:10 left",
    },
    {
      progress: { phase: "uploading to webdav+https://dav.example/sstate", done: 10, total: 1_000, unit: "files", bytes: 512 * 1024 ** 2, totalBytes: 2 * 1024 ** 3 },
      elapsedMs: 62_000,
      line: "uploading to webdav+https://dav.example/sstate: 10 of 1,000 files, 512.0 MiB of 2.00 GiB · 0 files/s, 8.26 MiB/s · 1:02 elapsed · 3:06 left",
    },
    { progress: { phase: "comparing signatures", done: 0, total: 12, unit: "items" }, elapsedMs: 3_723_000, line: "comparing signatures: 0 of 12 items · 1:02:03 elapsed" },
  ])("$line", ({ progress, elapsedMs, line }) => {
    expect(formatProgress(progress, elapsedMs)).toBe(line);
  });
});

describe("where progress is shown", () => {
  it.each([
    { stream: { isTTY: true }, env: {}, shown: true },
    { stream: { isTTY: true }, env: { TERM: "xterm-256color", NO_COLOR: "1" }, shown: true },
    { stream: { isTTY: false }, env: {}, shown: false },
    { stream: {}, env: {}, shown: false },
    { stream: { isTTY: true }, env: { TERM: "dumb" }, shown: false },
    { stream: { isTTY: true }, env: { CI: "true" }, shown: false },
  ])("isTTY $stream.isTTY, $env: $shown", ({ stream, env, shown }) => {
    expect(progressWanted(stream, env)).toBe(shown);
  });

  it("draws nothing and asks the runs for nothing without a terminal, or for JSON output", () => {
    const io = testIo();
    expect(progressDisplay(io).listener).toBeUndefined();
    expect(progressDisplay({ ...io, progressEnabled: true }, { quiet: true }).listener).toBeUndefined();
    progressDisplay(io).done();
    expect(io.err).toEqual([]);
  });

  it("draws a new phase at once, the same phase at most every 100 ms, fits the terminal, and clears the line when done", () => {
    const io = testIo();
    let now = 0;
    const display = progressDisplay({ ...io, progressEnabled: true, terminalColumns: 40 }, { clock: () => now });
    const listener = display.listener!;
    listener({ phase: "listing file:///srv/sstate", done: 10, unit: "files" });
    now = 50;
    listener({ phase: "listing file:///srv/sstate", done: 20, unit: "files" });
    listener({ phase: "evaluating policy.yaml", done: 20, total: 20, unit: "files" });
    now = 200;
    listener({ phase: "evaluating policy.yaml", done: 20, total: 20, unit: "files" });
    display.done();
    expect(io.err).toEqual([
      "\r\x1b[2Klisting file:///srv/sstate: 10 files ·…",
      "\r\x1b[2Kevaluating policy.yaml: 20 of 20 files…",
      "\r\x1b[2Kevaluating policy.yaml: 20 of 20 files…",
      "\r\x1b[2K",
    ]);
    expect(io.err.every((text) => text.length < "\r\x1b[2K".length + 40)).toBe(true);
  });
});
