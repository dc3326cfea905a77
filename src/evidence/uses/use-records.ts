import type { UseEvidence } from "../../policy/selectors/selector.ts";

/** Where one use was recorded: a log and its line. */
interface Recorded {
  time: number;
  source: number;
  line: number;
}

/** The latest use of each cache path found in the logs, and where it was logged. */
export class UseRecords implements UseEvidence {
  readonly #latest = new Map<string, Recorded>();
  readonly #sources: string[] = [];

  /** Names a log in what `whereUsed` answers; returns its number for `record`. */
  addSource(name: string): number {
    return this.#sources.push(name) - 1;
  }

  record(path: string, time: number, source: number, line: number): void {
    const known = this.#latest.get(path);
    if (known === undefined) this.#latest.set(path, { time, source, line });
    else if (time > known.time) {
      known.time = time;
      known.source = source;
      known.line = line;
    }
  }

  get paths(): number {
    return this.#latest.size;
  }

  latestUse(path: string): number | undefined {
    return this.#latest.get(path)?.time;
  }

  whereUsed(path: string): string | undefined {
    const known = this.#latest.get(path);
    return known && `${this.#sources[known.source]!}:${known.line}`;
  }
}
