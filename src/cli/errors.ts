/** The one place where what went wrong becomes an exit code (README "Exit codes"). */
import { JournalError } from "../apply/journal.ts";
import { LockedError } from "../apply/lock.ts";
import { RecordError } from "../apply/run.ts";
import { PlanRejectedError } from "../apply/session.ts";
import { BackendError } from "../backends/backend.ts";
import { TargetError } from "../backends/index.ts";
import { DemoDirectoryError } from "../demo/run.ts";
import { UseEvidenceError } from "../evidence/uses/read.ts";
import { BuildManifestError } from "../evidence/build-manifests.ts";
import { PlanFileError } from "../plan/read-plan.ts";
import { ListingSourceError } from "../sources/source.ts";
import { EXIT, UserError } from "./io.ts";

type ErrorClass = abstract new (...args: never[]) => Error;

/** Each kind of error a command may end with, and its exit code; an error not listed is a bug. */
const EXIT_CODES: readonly [ErrorClass, (error: never) => number][] = [
  [UserError, (error: UserError) => error.exitCode],
  [PlanFileError, () => EXIT.invalidInput],
  [PlanRejectedError, (error: PlanRejectedError) => (error.kind === "tampered" ? EXIT.invalidInput : EXIT.refused)],
  [JournalError, () => EXIT.invalidInput],
  [TargetError, () => EXIT.invalidInput],
  [DemoDirectoryError, () => EXIT.invalidInput],
  [UseEvidenceError, () => EXIT.invalidInput],
  [BuildManifestError, () => EXIT.invalidInput],
  [ListingSourceError, () => EXIT.invalidInput],
  [LockedError, () => EXIT.refused],
  [BackendError, () => EXIT.runtime],
  [RecordError, () => EXIT.runtime],
];

/** The exit code of an error a command ended with; undefined for an error that is a bug. */
export function exitCodeOf(error: unknown): number | undefined {
  for (const [kind, code] of EXIT_CODES) if (error instanceof kind) return code(error as never);
  return undefined;
}
