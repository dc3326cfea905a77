/** Options several commands share, declared once: their help, their default and how they are read. */
import { DEFAULT_TIMEOUTS, type Timeouts } from "../backends/backend.ts";
import { DEFAULT_MAX_CHARS } from "../plan/render/markdown.ts";
import { compileGlobs, decidedOnce } from "../policy/selectors/globs.ts";
import { DURATION_HELP, formatDuration, parseDuration } from "../util/units.ts";
import { flag, listOption, type OptionSpec, textOption, valueOption } from "./command.ts";
import { UserError } from "./io.ts";

function oneOf<T extends string>(flagName: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`--${flagName} ${value}: expected one of ${allowed.join(", ")}`);
  return value as T;
}

/** A whole-number flag from `min` to `max`. */
export function wholeNumber(flagName: string, text: string | undefined, fallback: number, max: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UserError(`--${flagName} ${text}: expected a whole number from ${min} to ${max}`);
  return value;
}

/** `--format`: which of `formats` to print, the first by default. */
export function formatOption<T extends string>(formats: readonly T[]): OptionSpec<T> {
  return valueOption(formats.join("|"), "how to print the result", (text) => oneOf("format", text, formats, formats[0]!), { short: "f", default: formats[0]! });
}

/** `--listing SOURCE`: plan from a saved listing or an S3 Inventory report instead of listing the target. */
export const listingOption = textOption(
  "SOURCE",
  "plan from this listing instead of listing the target: a file from 'list --out', or an S3 Inventory manifest.json (a path, its directory, or s3://BUCKET/…/manifest.json); apply still checks every file on the target",
);

/** `--now ISO`, or the wall clock: what ages are measured against. */
export const nowOption = valueOption(
  "ISO",
  "measure ages against this time (ISO 8601) instead of the clock",
  (text, io): Date => {
    if (text === undefined) return io.clock();
    const now = new Date(text);
    if (Number.isNaN(now.getTime())) throw new UserError(`--now '${text}' is not an ISO 8601 time such as 2026-11-21T06:00:00Z`);
    return now;
  },
  { default: "now" },
);

const MAX_CONCURRENCY = 1024;

/** `--concurrency N`: requests (or batches) in flight. */
export function concurrencyOption(fallback: number, what = "requests in flight"): OptionSpec<number> {
  return valueOption("N", what, (text) => wholeNumber("concurrency", text, fallback, MAX_CONCURRENCY), { short: "j", default: String(fallback) });
}

/**
 * `--timeout D`: how long a remote server may stay silent before a request is given up and
 * retried. Connecting may take at most the same (10 s by default); an operation with its
 * retries gets four times as long, so the default ends a command against a silent server
 * within two minutes.
 */
export const timeoutOption = valueOption(
  "D",
  "give up a request to a remote server silent for this long and retry it (each operation gets 4×)",
  (text): Timeouts => {
    if (text === undefined) return DEFAULT_TIMEOUTS;
    const idleMs = parseDuration(text);
    if (idleMs === undefined || idleMs === 0) throw new UserError(`--timeout ${text}: expected ${DURATION_HELP}, e.g. 15s`);
    return { connectMs: Math.min(DEFAULT_TIMEOUTS.connectMs, idleMs), idleMs, operationMs: 4 * idleMs };
  },
  { default: formatDuration(DEFAULT_TIMEOUTS.idleMs) },
);

/** `--max-chars N`: the markdown rendering's budget (GitHub comments hold 65,536 characters). */
export const maxCharsOption = valueOption(
  "N",
  "the markdown never exceeds this many characters (a GitHub comment holds 65,536)",
  (text) => wholeNumber("max-chars", text, DEFAULT_MAX_CHARS, 10_000_000),
  {
    default: String(DEFAULT_MAX_CHARS),
  },
);

/** `--all`: every file in a text rendering, not the first few. */
export const allOption = flag("list every file in text output, not only the first 30");

/** `--dry-run`: change nothing. */
export function dryRunOption(help: string): OptionSpec<boolean> {
  return flag(help, { short: "n" });
}

/** Repeatable glob flags (`--pn`, `--arch`, `--task`) with the policy selectors' semantics; none given matches all. */
export function globsOption(flagName: string, help: string): OptionSpec<{ patterns: string[]; matches: (text: string) => boolean }> {
  return listOption("GLOB", help, (patterns) => {
    const problems: string[] = [];
    const matches = compileGlobs(patterns, (message) => problems.push(message));
    if (!matches) throw new UserError(`--${flagName}: ${problems.join("; ")}`);
    return { patterns, matches: decidedOnce(matches) };
  });
}
