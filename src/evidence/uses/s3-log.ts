/**
 * S3 server access log records, as AWS documents them
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html):
 *   owner bucket [time] remote-ip requester request-id operation key "request-uri" status
 *   error-code bytes-sent object-size total-time turn-around-time "referer" "user-agent" version-id …
 * Fields are separated by one space; `-` means none; AWS may append fields at the end.
 */
import { parseLogTime } from "./log-time.ts";

export interface S3LogRecord {
  bucket: string;
  time: number;
  /** e.g. REST.GET.OBJECT */
  operation: string;
  /** The object key, still URL-encoded as logged; undefined for `-`. */
  key: string | undefined;
  /** undefined for `-` (a request that got no answer). */
  status: number | undefined;
  userAgent: string | undefined;
}

const FIELD = { bucket: 1, time: 2, operation: 6, key: 7, status: 9, userAgent: 16 } as const;
const FIELDS_NEEDED = FIELD.userAgent + 1;

/** One record, or undefined when the line is not one. */
export function parseS3LogLine(line: string): S3LogRecord | undefined {
  const fields = splitFields(line, FIELDS_NEEDED);
  if (fields === undefined) return undefined;
  const time = parseLogTime(fields[FIELD.time]!);
  const statusField = fields[FIELD.status]!;
  if (time === undefined || !/^(?:\d{3}|-)$/.test(statusField)) return undefined;
  const key = fields[FIELD.key]!;
  const userAgent = fields[FIELD.userAgent]!;
  return {
    bucket: fields[FIELD.bucket]!,
    time,
    operation: fields[FIELD.operation]!,
    key: key === "-" ? undefined : key,
    status: statusField === "-" ? undefined : Number(statusField),
    userAgent: userAgent === "-" ? undefined : userAgent,
  };
}

/** The first `count` fields: bare, `[bracketed]` or `"quoted"` (a quoted field may hold spaces and `\"`); undefined if there are fewer. */
function splitFields(line: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < count) {
    if (at >= line.length) return undefined;
    const opener = line[at];
    let end: number;
    let value: string;
    if (opener === "[" || opener === '"') {
      const closer = opener === "[" ? "]" : '"';
      end = at + 1;
      while (end < line.length && line[end] !== closer) end += line[end] === "\\" && closer === '"' ? 2 : 1;
      if (end >= line.length) return undefined;
      value = line.slice(at + 1, end);
      if (closer === '"' && value.includes("\\")) value = value.replace(/\\(.)/g, "$1");
      end++;
    } else {
      end = line.indexOf(" ", at);
      if (end < 0) end = line.length;
      value = line.slice(at, end);
    }
    if (end < line.length && line[end] !== " ") return undefined;
    fields.push(value);
    at = end + 1;
  }
  return fields;
}
