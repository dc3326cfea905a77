import { parseArgs, type ParseArgsConfig } from "node:util";
import { compileGlobs, decidedOnce } from "../policy/selectors/globs.ts";
import { DEFAULT_TIMEOUTS, type Timeouts } from "../backends/backend.ts";
import { DURATION_HELP, parseDuration } from "../util/units.ts";
import { UserError } from "./io.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with messages that say which command and what to do. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${command}: ${(error as Error).message.split("\n")[0]}\nusage: ${usage}`);
  }
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`--${flag} ${value}: expected one of ${allowed.join(", ")}`);
  return value as T;
}

/** `--now ISO`, or the wall clock: what ages are measured against. */
export function nowOption(io: { clock(): Date }, text: string | undefined): Date {
  if (text === undefined) return io.clock();
  const now = new Date(text);
  if (Number.isNaN(now.getTime())) throw new UserError(`--now '${text}' is not an ISO 8601 time such as 2026-11-21T06:00:00Z`);
  return now;
}

const MAX_CONCURRENCY = 1024;

/** A whole-number flag from 1 to `max`. */
export function wholeNumberOption(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new UserError(`--${flag} ${text}: expected a whole number from 1 to ${max}`);
  return value;
}

/** `--concurrency N`: requests in flight. */
export function concurrencyOption(text: string | undefined, fallback: number): number {
  return wholeNumberOption("concurrency", text, fallback, MAX_CONCURRENCY);
}

/** Repeatable glob flags (`--pn`, `--arch`, `--task`) with the policy selectors' semantics; none given matches all. */
export function globOption(flag: string, patterns: readonly string[] | undefined): (text: string) => boolean {
  const problems: string[] = [];
  const matches = compileGlobs([...(patterns ?? [])], (message) => problems.push(message));
  if (!matches) throw new UserError(`--${flag}: ${problems.join("; ")}`);
  return decidedOnce(matches);
}

/**
 * `--timeout D`: how long a remote server may stay silent before a request is given up and
 * retried. Connecting may take at most the same (10 s by default); an operation with its
 * retries gets four times as long, so the default ends a command against a silent server
 * within two minutes.
 */
export function timeoutOption(text: string | undefined): Timeouts {
  if (text === undefined) return DEFAULT_TIMEOUTS;
  const idleMs = parseDuration(text);
  if (idleMs === undefined || idleMs === 0) throw new UserError(`--timeout ${text}: expected ${DURATION_HELP}, e.g. 15s`);
  return { connectMs: Math.min(DEFAULT_TIMEOUTS.connectMs, idleMs), idleMs, operationMs: 4 * idleMs };
}
