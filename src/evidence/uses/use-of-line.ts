/** What makes a log line a use of a cache file (README "Retention by use"). */
import type { UseSource } from "../../policy/uses.ts";
import { parseHttpLogLine } from "./http-log.ts";
import { parseS3LogLine } from "./s3-log.ts";

export interface LoggedUse {
  /** The cache path: relative to the cache root, decoded. */
  path: string;
  time: number;
}

/** A use; `null`: a line of the format that is not a use; `undefined`: not a line of the format. */
export type LineVerdict = LoggedUse | null | undefined;

const S3_READS = new Set(["REST.GET.OBJECT", "REST.HEAD.OBJECT"]);
const HTTP_READS = new Set(["GET", "HEAD"]);

/** A read answered with content (2xx, including 206 for a range) or "not modified" (304): the client has the file. */
const served = (status: number | undefined) => status !== undefined && ((status >= 200 && status < 300) || status === 304);

export function lineReader(source: UseSource): (line: string) => LineVerdict {
  const ignored = (agent: string | undefined) => agent !== undefined && source.ignoreUserAgents.some((part) => agent.includes(part));
  if (source.format === "s3") {
    return (line) => {
      const record = parseS3LogLine(line);
      if (record === undefined) return undefined;
      if (!S3_READS.has(record.operation) || !served(record.status) || record.key === undefined || ignored(record.userAgent)) return null;
      if (source.bucket !== undefined && record.bucket !== source.bucket) return null;
      const path = cachePath(record.key, source.prefix);
      return path === undefined ? null : { path, time: record.time };
    };
  }
  const format = source.format;
  return (line) => {
    const request = parseHttpLogLine(line, format);
    if (request === undefined) return undefined;
    if (!HTTP_READS.has(request.method) || !served(request.status) || ignored(request.userAgent)) return null;
    const path = cachePath(pathOfTarget(request.target), source.prefix);
    return path === undefined ? null : { path, time: request.time };
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
