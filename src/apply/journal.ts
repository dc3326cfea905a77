import { createReadStream } from "node:fs";
import { truncate } from "node:fs/promises";
import { writeFileAtomically } from "../util/atomic-file.ts";
import { TOOL } from "../util/version.ts";
import { JsonLinesWriter } from "./json-lines.ts";
import { type FileResult, JOURNALED_OUTCOMES } from "./outcome.ts";

/**
 * The apply journal: JSON lines, a header naming the plan by its integrity digest, then one
 * line per settled file, appended and fdatasync'd after every batch. Because a line is only
 * written after its file was dealt with, a killed run leaves at worst deletions that are not
 * journaled; the re-run finds those files gone and counts them as done. Only the holder of the
 * journal's lock (lock.ts) reads and writes it, and a new journal appears whole, header
 * included, so it never gets two headers.
 */

const JOURNAL_KIND = "sstate-keeper apply journal";
const JOURNAL_VERSION = 1;

interface JournalHeader {
  journal: typeof JOURNAL_KIND;
  version: typeof JOURNAL_VERSION;
  /** The plan's integrity digest: a journal only ever speaks for one plan. */
  plan: string;
  target: string;
  tool: string;
  createdAt: string;
}

/** A journal that cannot be used for this plan (invalid input, exit 2). */
export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JournalError";
  }
}

export interface JournalState {
  path: string;
  /** The last outcome earlier runs journaled for each path. */
  previous: Map<string, FileResult>;
  /** False for a journal that does not exist yet (or holds not even a whole header line). */
  started: boolean;
  /** Bytes up to the last complete line; anything after it is an append cut short by a crash. */
  completeBytes: number;
  size: number;
}

const NEWLINE = 0x0a;

/** Reads what earlier runs of this plan journaled; a missing journal is an empty one. */
export async function readJournal(path: string, planIntegrity: string): Promise<JournalState> {
  const state: JournalState = { path, previous: new Map(), started: false, completeBytes: 0, size: 0 };
  let lineNumber = 0;
  const onLine = (line: string) => {
    lineNumber++;
    if (lineNumber === 1) checkHeader(parseLine(path, line, lineNumber), path, planIntegrity);
    else {
      const entry = parseLine(path, line, lineNumber) as Partial<FileResult> | null;
      if (typeof entry?.path !== "string" || !JOURNALED_OUTCOMES.includes(entry.outcome!)) {
        throw new JournalError(`${path}:${lineNumber}: not a journal entry; the journal is damaged — move it away and run apply again (files already deleted then count as already gone)`);
      }
      state.previous.set(entry.path, entry as FileResult);
    }
  };
  try {
    // Split on newline bytes before decoding: a newline byte never occurs inside a UTF-8 sequence.
    let carry: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, start)) {
        onLine(data.toString("utf8", start, end));
        start = end + 1;
      }
      state.completeBytes += start;
      state.size += chunk.length;
      carry = data.subarray(start);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return state;
    if (error instanceof JournalError) throw error;
    throw new JournalError(`${path}: cannot read the journal: ${(error as Error).message}`);
  }
  state.started = lineNumber > 0;
  return state;
}

/** Opens the journal for appending: drops a line cut short by a crash, and creates a new journal with its header. */
export async function openJournal(state: JournalState, plan: { integrity: string; target: string }, now: Date): Promise<JsonLinesWriter> {
  if (!state.started) {
    const header: JournalHeader = {
      journal: JOURNAL_KIND,
      version: JOURNAL_VERSION,
      plan: plan.integrity,
      target: plan.target,
      tool: `${TOOL.name} ${TOOL.version}`,
      createdAt: now.toISOString(),
    };
    await writeFileAtomically(state.path, [`${JSON.stringify(header)}\n`]);
  } else if (state.completeBytes < state.size) {
    await truncate(state.path, state.completeBytes);
  }
  return JsonLinesWriter.open(state.path, { durable: true });
}

function parseLine(path: string, line: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new JournalError(`${path}:${lineNumber}: not valid JSON; the journal is damaged — move it away and run apply again (files already deleted then count as already gone)`);
  }
}

function checkHeader(header: unknown, path: string, planIntegrity: string): void {
  const { journal, version, plan } = (header ?? {}) as Partial<JournalHeader>;
  if (journal !== JOURNAL_KIND) throw new JournalError(`${path}: not an ${JOURNAL_KIND}; give --journal a file of its own`);
  if (version !== JOURNAL_VERSION) {
    throw new JournalError(`${path}: journal version ${JSON.stringify(version)} is not supported by ${TOOL.name} ${TOOL.version} (it writes version ${JOURNAL_VERSION})`);
  }
  if (plan !== planIntegrity) {
    throw new JournalError(
      `${path}: this journal records an apply of another plan (${plan}), not of this one (${planIntegrity}), so it cannot tell what this plan has done. Give this plan its own --journal file, or remove that journal if its plan is finished with.`,
    );
  }
}
