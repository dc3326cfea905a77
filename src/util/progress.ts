/**
 * Where a long run is: the runs report it, the CLI shows it (a line on a terminal, nothing
 * elsewhere). A report names its phase; a new phase name starts a new phase.
 */
export interface Progress {
  /** What is being done and to what, e.g. `listing s3://bucket/sstate`. */
  phase: string;
  /** Units dealt with so far in this phase. */
  done: number;
  /** Units this phase has to deal with, when known (an ETA is then possible). */
  total?: number;
  /** What is counted: files, items. */
  unit: string;
  /** Bytes dealt with so far, when the phase moves bytes. */
  bytes?: number;
  /** Bytes this phase has to move, when known (the ETA then follows the bytes). */
  totalBytes?: number;
}

export type ProgressListener = (progress: Progress) => void;
