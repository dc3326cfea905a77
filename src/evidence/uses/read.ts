/**
 * Reads the use evidence a policy declares (`uses:`) before the cache is listed: each access log
 * streamed line by line (`.gz` decompressed on the way), local paths and globs from disk,
 * s3:// and http(s):// locations through the backends. A source that cannot be read, or names
 * no file, is an error: silently missing evidence would make every file look unused.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { Minimatch } from "minimatch";
import { type Backend, BackendError, NotFoundError } from "../../backends/backend.ts";
import { FsBackend } from "../../backends/fs.ts";
import { parseTarget, TargetError } from "../../backends/index.ts";
import { type TargetContext, withBackend } from "../../backends/open.ts";
import { type Diagnostic, excerpt } from "../../policy/diagnostics.ts";
import { formatDuration } from "../../util/units.ts";
import { type Policy, type UseSource } from "../../policy/load.ts";
import { compareCodeUnits } from "../../util/compare.ts";
import { isUrlLocation } from "../../util/location.ts";
import { forEachLine } from "./lines.ts";
import { lineReader } from "./use-of-line.ts";
import { UseRecords } from "./use-records.ts";

/** A declared log that cannot be read: the command stops before listing (exit 2). */
export class UseEvidenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UseEvidenceError";
  }
}

/** A directory a glob must look into cannot be read. */
class UnreadableDirectory extends Error {}

export interface UseReading {
  uses: UseRecords;
  /** Per log with lines not of its format; per `uses:` entry without a single use, or beginning after the rules' window; at the entry's position. */
  warnings: Diagnostic[];
}

/** One log file to read: its name in messages and `whereUsed`, and its bytes. */
interface LogFile {
  name: string;
  open(): AsyncIterable<Uint8Array>;
}

const GLOB_MAGIC = /[*?[\]{}()!+@]/;

/**
 * `cwd`: where the policy file's path starts (its local logs' locations are already resolved);
 * `now`: what the rules measure from (a log that begins after now minus their window is reported).
 */
export async function readUses(policy: Policy, cwd: string, now: number, context: TargetContext): Promise<UseReading> {
  const reading: UseReading = { uses: new UseRecords(), warnings: [] };
  const window = Math.max(0, ...policy.rules.map((rule) => rule.looksBackMs ?? 0));
  for (const source of policy.uses) {
    const where = `${policy.file}:${source.position.line}:${source.position.col}: access log '${excerpt(source.written, 200)}'`;
    const { base, pattern } = splitLocation(source.location);
    const warn = (code: string, message: string) => reading.warnings.push({ code, message, file: policy.file, ...source.position, severity: "warning" });
    const read = (files: AsyncIterable<LogFile>) => readSource(files, source, where, { now, window }, reading, warn);
    if (!isUrlLocation(source.location)) {
      await read(localFiles(base, pattern, source, dirname(resolve(cwd, policy.file))));
      continue;
    }
    let target;
    try {
      target = parseTarget(base, cwd);
    } catch (error) {
      if (error instanceof TargetError) throw new UseEvidenceError(`${where}: ${error.message}`);
      throw error;
    }
    if (target.scheme === "file") throw new UseEvidenceError(`${where}: give a local log as a path, not a URL`);
    await withBackend(target, context, (backend) => read(remoteFiles(backend, base, pattern))).catch((error: unknown) => {
      // Refused credentials or a missing bucket are the policy's to fix; an unreachable server fails as a target does.
      if (error instanceof BackendError && error.kind !== "unavailable") throw new UseEvidenceError(`${where}: ${error.message}`);
      throw error;
    });
  }
  return reading;
}

/** Reads every log file of one `uses:` entry into `reading`, with the entry's warnings. */
async function readSource(
  files: AsyncIterable<LogFile>,
  source: UseSource,
  where: string,
  span: { now: number; window: number },
  reading: UseReading,
  warn: (code: string, message: string) => void,
): Promise<void> {
  let count = 0;
  let earliest = Infinity;
  let found = 0;
  const named = `access log '${excerpt(source.written, 200)}'`;
  try {
    for await (const file of files) {
      count++;
      try {
        const log = await readLog(file, source, reading.uses);
        for (const message of log.warnings) warn("malformed-log-lines", message);
        earliest = Math.min(earliest, log.earliest);
        found += log.found;
      } catch (error) {
        throw error instanceof BackendError && error.kind === "unavailable" ? error : new UseEvidenceError(`${where}: cannot read ${file.name}: ${reasonOf(error)}`);
      }
    }
  } catch (error) {
    throw error instanceof UnreadableDirectory ? new UseEvidenceError(`${where}: ${error.message}`) : error;
  }
  if (count === 0) throw new UseEvidenceError(`${where}: no log file matches (paths are relative to the policy file)`);
  if (found === 0) warn("log-without-uses", `${named}: no request in ${count === 1 ? "it" : `its ${count} files`} is a use of a file under '${source.prefix}' (check its prefix: setting)`);
  if (earliest !== Infinity && earliest > span.now - span.window) {
    const begins = new Date(earliest).toISOString().slice(0, 16).replace("T", " ");
    warn(
      "logs-begin-late",
      `${named} begins ${begins} UTC, ${formatDuration(span.now - earliest)} before now, and unused-for looks back ${
        formatDuration(span.window)
      }: a file used only before the logs begin counts as unused (keep the logs longer)`,
    );
  }
}

/** Streams one log into `uses`; returns its warnings, the time of its earliest line of the format and how many uses it holds. */
async function readLog(file: LogFile, source: UseSource, uses: UseRecords): Promise<{ warnings: string[]; earliest: number; found: number }> {
  const readLine = lineReader(source);
  const sourceNumber = uses.addSource(file.name);
  let malformed = 0;
  let firstMalformed = 0;
  let found = 0;
  let lines = 0;
  let earliest = Infinity;
  await forEachLine(decompressed(file), (line, number) => {
    lines++;
    if (line !== undefined && line.trim() === "") return;
    const logged = line === undefined ? undefined : readLine(line);
    if (logged === undefined) {
      if (malformed++ === 0) firstMalformed = number;
      return;
    }
    if (logged.time < earliest) earliest = logged.time;
    if (logged.used !== undefined) {
      found++;
      uses.record(logged.used, logged.time, sourceNumber, number);
    }
  });
  const warnings = malformed > 0 ? [`${file.name}: ${malformed} of ${lines} lines are not in the ${source.format} format (the first is line ${firstMalformed}); they were skipped`] : [];
  return { warnings, earliest, found };
}

function decompressed(file: LogFile): AsyncIterable<Uint8Array> {
  const bytes = file.open();
  return file.name.endsWith(".gz") ? Readable.from(bytes).pipe(createGunzip()) : bytes;
}

/** The location up to its first segment with glob characters, and the rest as a pattern; a trailing `/` means every file below. */
function splitLocation(location: string): { base: string; pattern: string } {
  const segments = (location.endsWith("/") ? `${location}**` : location).split("/");
  const firstMagic = segments.findIndex((segment) => GLOB_MAGIC.test(segment));
  const at = firstMagic < 0 ? segments.length - 1 : firstMagic;
  return { base: `${segments.slice(0, at).join("/")}/`, pattern: segments.slice(at).join("/") };
}

const matcherOf = (pattern: string) => new Minimatch(pattern, { dot: true });

/**
 * Local logs are named as the policy names them: relative to its directory, unless written as
 * absolute paths. Read as the local backend reads (a FIFO is refused, never waited on).
 */
async function* localFiles(base: string, pattern: string, source: UseSource, policyDir: string): AsyncIterable<LogFile> {
  const directory = new FsBackend(base);
  for (const path of await matchingFiles(base, "", matcherOf(pattern))) {
    const full = `${base}${path}`;
    yield { name: isAbsolute(source.written) ? full : relative(policyDir, full), open: () => directory.read(path) };
  }
}

/** Whether a local log location (a path or glob) names at least one file: what `validate` checks without reading. */
export async function namesLocalLog(location: string): Promise<boolean> {
  const { base, pattern } = splitLocation(location);
  return (await matchingFiles(base, "", matcherOf(pattern)).catch(() => [])).length > 0;
}

/** Files under `dir` whose path below `base` the pattern matches, sorted; directories the pattern cannot reach are not read. */
async function matchingFiles(base: string, below: string, matcher: Minimatch): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(`${base}${below}`, { withFileTypes: true });
  } catch (error) {
    if (below === "" && (error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new UnreadableDirectory(`cannot read directory ${base}${below}: ${reasonOf(error)}`);
  }
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => compareCodeUnits(a.name, b.name))) {
    const path = `${below}${entry.name}`;
    if (entry.isDirectory()) {
      if (matcher.match(path, true)) found.push(...(await matchingFiles(base, `${path}/`, matcher)));
    } else if (matcher.match(path)) found.push(path);
  }
  return found;
}

async function* remoteFiles(backend: Backend, base: string, pattern: string): AsyncIterable<LogFile> {
  const matcher = matcherOf(pattern);
  const paths: string[] = [];
  for await (const page of backend.list()) for (const file of page) if (matcher.match(file.path)) paths.push(file.path);
  paths.sort();
  for (const path of paths) {
    yield { name: `${base}${path}`, open: () => backend.read(path) };
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof NotFoundError) return "no such file";
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory (give a glob such as logs/access.log*)";
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") return "not a complete gzip file";
  return (error as Error).message;
}
