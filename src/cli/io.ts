/** Exit codes (SPEC §3). */
export const EXIT = {
  ok: 0,
  runtime: 1,
  invalidInput: 2,
  refused: 3,
  incomplete: 4,
} as const;

/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Progress is shown only on an interactive stderr. */
  progressEnabled: boolean;
  color: boolean;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The wall clock (plans record when they were made; apply checks expiry). */
  clock(): Date;
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

/** One line of progress that rewrites itself on a TTY. */
export function progressLine(io: Io): { update(text: string): void; done(): void } {
  if (!io.progressEnabled) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      io.stderr(`\r\x1b[2K${text}`);
    },
    done() {
      if (shown) io.stderr("\r\x1b[2K");
    },
  };
}
