import type { Redactor } from "../util/secrets.ts";

/** Exit codes (SPEC §3). */
export const EXIT = {
  ok: 0,
  runtime: 1,
  invalidInput: 2,
  refused: 3,
  /** Finished; some files were skipped because they changed since planning (normal on a live cache). */
  skipped: 4,
  /** Finished; some deletions or uploads failed: needs a person. */
  failed: 5,
} as const;

/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Progress is shown only on an interactive stderr (see views/progress.ts). */
  progressEnabled: boolean;
  /** The width of that terminal, when known: a progress line longer than it would not rewrite itself. */
  terminalColumns?: number;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The wall clock (plans record when they were made; apply checks expiry). */
  clock(): Date;
}

/** What `run` hands to a command: the Io with every line it prints redacted, and where credentials are registered. */
export interface CommandIo extends Io {
  secrets: Redactor;
}

/**
 * Masks every known secret in what the command prints. stderr also gets the pattern-based
 * masking (URL userinfo, Authorization values): messages quote servers and arguments, while
 * stdout holds renderings of plans and reports, where one literal pass is enough and cheap on
 * a million-line plan.
 */
export function redactingIo(io: Io, secrets: Redactor): CommandIo {
  return {
    ...io,
    stdout: (text) => io.stdout(secrets.redactKnown(text)),
    stderr: (text) => io.stderr(secrets.redact(text)),
    secrets,
  };
}

/** A problem with what the user gave us: printed as is, with its exit code. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.invalidInput) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}
