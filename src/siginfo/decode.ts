/**
 * Reads bitbake signature data (`.siginfo` next to sstate objects, `.sigdata` in stamps):
 * one zstd frame holding JSON with sorted keys, sets written as `{"_set_object":[…]}`.
 */
import { decompress } from "fzstd";

/** `[file name, checksum]`; the checksum is null when the file did not exist. */
export type FileChecksum = [name: string, checksum: string | null];

/**
 * The content of a siginfo file. Sets are sorted string arrays. The key names are bitbake's own
 * so that a reader of bitbake-dumpsig output recognises them.
 */
export interface SigData {
  /** e.g. `do_compile`. */
  task: string;
  basehash: string;
  /** BB_BASEHASH_IGNORE_VARS (`basewhitelist` in files written before 2022-02). */
  basehash_ignore_vars: string[];
  /** BB_TASKHASH_IGNORE_TASKS, a regex (`taskwhitelist` before 2022-02). */
  taskhash_ignore_tasks: string | null;
  /** Every variable the task's basehash depends on. */
  taskdeps: string[];
  /** The variables each variable references directly. */
  gendeps: Record<string, string[]>;
  /** Unexpanded values; `varvals[task]` is the task body, null for an unset variable. */
  varvals: Record<string, string | null>;
  /**
   * The keys below are written only once the task hash is known (sstate `.siginfo`, stamp
   * `.sigdata`), not in `.sigbasedata`. Dependency ids are `pn:do_task` or `mc:<mc>:pn:do_task`,
   * or `/path/x.bb:do_task` in files written before 2023-08.
   */
  runtaskdeps?: string[];
  /** Unihash of each dependency in `runtaskdeps`. */
  runtaskhashes?: Record<string, string>;
  file_checksum_values?: FileChecksum[];
  taskhash?: string;
  unihash?: string;
  /** `nostamp:<uuid>` for nostamp tasks, a bare uuid after a forced run. */
  taint?: string;
}

export class LegacySiginfoError extends Error {
  constructor() {
    super("legacy pickle siginfo format is not supported (written before Oct 2021)");
    this.name = "LegacySiginfoError";
  }
}

/** The bytes are neither a legacy pickle nor a well-formed zstd JSON siginfo. */
export class SiginfoFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SiginfoFormatError";
  }
}

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Pickle protocols ≥ 2 open with the PROTO opcode followed by the protocol number. */
const PICKLE_PROTO_OPCODE = 0x80;
const HIGHEST_PICKLE_PROTOCOL_BYTE = 0x0f;

export function decodeSiginfo(bytes: Uint8Array): SigData {
  if (ZSTD_MAGIC.every((byte, index) => bytes[index] === byte)) {
    return parseSigJson(decodeUtf8(decompressFrame(bytes)));
  }
  if (bytes[0] === PICKLE_PROTO_OPCODE && bytes.length > 1 && bytes[1]! <= HIGHEST_PICKLE_PROTOCOL_BYTE) {
    throw new LegacySiginfoError();
  }
  if (bytes.length === 0) throw new SiginfoFormatError("not a siginfo file: the file is empty");
  const head = Array.from(bytes.subarray(0, 4), (byte) => byte.toString(16).padStart(2, "0")).join(" ");
  throw new SiginfoFormatError(
    `not a siginfo file: expected zstd data (28 b5 2f fd) or a legacy pickle (80 0N), found ${head}`,
  );
}

function decompressFrame(bytes: Uint8Array): Uint8Array {
  try {
    return decompress(bytes);
  } catch (error) {
    throw new SiginfoFormatError(`corrupt zstd data in siginfo: ${messageOf(error)}`, { cause: error });
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SiginfoFormatError("siginfo is not valid UTF-8", { cause: error });
  }
}

type JsonObject = Record<string, unknown>;

/** What a siginfo field must hold, with the wording used when it does not. */
interface Shape<T> {
  description: string;
  matches: (value: unknown) => value is T;
}

const text: Shape<string> = {
  description: "a string",
  matches: (value): value is string => typeof value === "string",
};
const textOrNull: Shape<string | null> = {
  description: "a string or null",
  matches: (value): value is string | null => value === null || typeof value === "string",
};
const textList: Shape<string[]> = {
  description: "a list of strings",
  matches: (value): value is string[] => Array.isArray(value) && value.every((item) => text.matches(item)),
};
const checksumList: Shape<FileChecksum[]> = {
  description: "a list of [file name, checksum or null] pairs",
  matches: (value): value is FileChecksum[] =>
    Array.isArray(value) &&
    value.every(
      (item) => Array.isArray(item) && item.length === 2 && text.matches(item[0]) && textOrNull.matches(item[1]),
    ),
};

function objectOf<T>(entry: Shape<T>): Shape<Record<string, T>> {
  return {
    description: `an object whose values are each ${entry.description}`,
    matches: (value): value is Record<string, T> => isObject(value) && Object.values(value).every((item) => entry.matches(item)),
  };
}

function parseSigJson(json: string): SigData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json, reviveSet);
  } catch (error) {
    throw new SiginfoFormatError(`siginfo is not valid JSON: ${messageOf(error)}`, { cause: error });
  }
  if (!isObject(parsed)) throw new SiginfoFormatError("siginfo JSON is not an object");
  const record = parsed;
  const sigData: SigData = {
    task: field(record, "task", text),
    basehash: field(record, "basehash", text),
    basehash_ignore_vars: field(record, currentOrLegacyKey(record, "basehash_ignore_vars", "basewhitelist"), textList),
    taskhash_ignore_tasks: field(record, currentOrLegacyKey(record, "taskhash_ignore_tasks", "taskwhitelist"), textOrNull),
    // Files from 2021 hold taskdeps as a sorted list instead of a set; it is a set either way.
    taskdeps: field(record, "taskdeps", textList).sort(),
    gendeps: field(record, "gendeps", objectOf(textList)),
    varvals: field(record, "varvals", objectOf(textOrNull)),
  };
  const runtaskdeps = optionalField(record, "runtaskdeps", textList);
  if (runtaskdeps) sigData.runtaskdeps = runtaskdeps;
  const runtaskhashes = optionalField(record, "runtaskhashes", objectOf(text));
  if (runtaskhashes) sigData.runtaskhashes = runtaskhashes;
  const fileChecksums = optionalField(record, "file_checksum_values", checksumList);
  if (fileChecksums) sigData.file_checksum_values = fileChecksums;
  const taskhash = optionalField(record, "taskhash", text);
  if (taskhash !== undefined) sigData.taskhash = taskhash;
  const unihash = optionalField(record, "unihash", text);
  if (unihash !== undefined) sigData.unihash = unihash;
  const taint = optionalField(record, "taint", text);
  if (taint !== undefined) sigData.taint = taint;
  return sigData;
}

/** bitbake's SetDecoder makes `{"_set_object":[…]}` a frozenset; plain data wants a sorted array. */
function reviveSet(_key: string, value: unknown): unknown {
  return isObject(value) && Array.isArray(value._set_object) ? [...value._set_object].sort() : value;
}

function currentOrLegacyKey(record: JsonObject, current: string, legacy: string): string {
  return Object.hasOwn(record, legacy) && !Object.hasOwn(record, current) ? legacy : current;
}

function field<T>(record: JsonObject, key: string, shape: Shape<T>): T {
  const value = Object.hasOwn(record, key) ? record[key] : undefined;
  if (shape.matches(value)) return value;
  const found = value === undefined ? "it is missing" : `found ${JSON.stringify(value).slice(0, 80)}`;
  throw new SiginfoFormatError(`siginfo field "${key}" must be ${shape.description}, ${found}`);
}

function optionalField<T>(record: JsonObject, key: string, shape: Shape<T>): T | undefined {
  return Object.hasOwn(record, key) ? field(record, key, shape) : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
