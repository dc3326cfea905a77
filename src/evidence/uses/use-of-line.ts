/** What makes a log line a use of a cache file (README "Retention by use"). */
import type { UseSource } from "../../policy/uses.ts";
import { parseHttpLogLine } from "./http-log.ts";
import { parseS3LogLine } from "./s3-log.ts";

/** A line of the log's format: when it was logged, and the cache path it used, if it is a use. */
export interface LoggedLine {
  time: number;
  /** Relative to the cache root, decoded. */
  used?: string;
}

const S3_READS = new Set(["REST.GET.OBJECT", "REST.HEAD.OBJECT"]);
const HTTP_READS = new Set(["GET", "HEAD"]);

/** A read answered with content (2xx, including 206 for a range) or "not modified" (304): the client has the file. */
const served = (status: number | undefined) => status !== undefined && ((status >= 200 && status < 300) || status === 304);

/** Reads one line: undefined when it is not a line of the source's format. */
export function lineReader(source: UseSource): (line: string) => LoggedLine | undefined {
  const ignored = (agent: string | undefined) => agent !== undefined && source.ignoreUserAgents.some((part) => agent.includes(part));
  if (source.format === "s3") {
    return (line) => {
      const record = parseS3LogLine(line);
      if (record === undefined) return undefined;
      const { time } = record;
      if (!S3_READS.has(record.operation) || !served(record.status) || record.key === undefined || ignored(record.userAgent)) return { time };
      if (source.bucket !== undefined && record.bucket !== source.bucket) return { time };
      const used = cachePath(record.key, source.prefix);
      return used === undefined ? { time } : { time, used };
    };
  }
  const format = source.format;
  return (line) => {
    const request = parseHttpLogLine(line, format);
    if (request === undefined) return undefined;
    const { time } = request;
    if (!HTTP_READS.has(request.method) || !served(request.status) || ignored(request.userAgent)) return { time };
    const used = cachePath(pathOfTarget(request.target), source.prefix);
    return used === undefined ? { time } : { time, used };
  };
}

/**
 * The path of a request target: an absolute-form target (`http://host/p`, through a proxy) loses
 * its origin, any target its query; `//` is one `/` as a web server maps it to a file (mirror
 * URLs written with a slash before PATH request `…/sstate//ab/…`).
 */
function pathOfTarget(target: string): string {
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(target);
  let path = origin ? target.slice(origin[0].length) || "/" : target;
  const query = path.search(/[?#]/);
  if (query >= 0) path = path.slice(0, query);
  return path.includes("//") ? path.replace(/\/{2,}/g, "/") : path;
}

/** The decoded path under `prefix`, or undefined when it is not under it (or not valid percent-encoding, which no server serves). */
function cachePath(encoded: string, prefix: string): string | undefined {
  let decoded: string;
  try {
    decoded = encoded.includes("%") ? decodeURIComponent(encoded) : encoded;
  } catch {
    return undefined;
  }
  if (!decoded.startsWith(prefix) || decoded.length === prefix.length) return undefined;
  return decoded.slice(prefix.length);
}
