/**
 * The policy's `uses:` list: where evidence that cache files were used is found (access logs of
 * the server that serves the cache to builds). One definition gives the schema, the loader's
 * reading and the documentation.
 */
import { TOOL } from "../util/version.ts";
import type { SourcePosition } from "./locate.ts";
import { documented, documentedEnum } from "./value-schemas.ts";

export const USE_LOG_FORMATS = ["combined", "common", "s3"] as const;
export type UseLogFormat = (typeof USE_LOG_FORMATS)[number];

/** The tool's own requests are never uses: it sends this in its User-Agent (`sstate-keeper/<version>`). */
export const OWN_USER_AGENT = `${TOOL.name}/`;

/** One declared source of use evidence, resolved at the edge before planning. */
export interface UseSource {
  /** As written: a path or glob (relative to the policy file), or an s3:// or http(s):// location. */
  written: string;
  /** A local path or glob resolved against the policy file's directory; a URL as written. */
  location: string;
  format: UseLogFormat;
  /** What precedes a cache path in a logged request path (HTTP: `/sstate/`) or object key (S3: `sstate/`). */
  prefix: string;
  /** S3 logs only: the bucket whose requests count (a log bucket may collect several buckets' logs). */
  bucket?: string;
  /** Requests whose User-Agent contains one of these are not uses (the tool's own always are not). */
  ignoreUserAgents: readonly string[];
  position: SourcePosition;
}

const oneOrList = { anyOf: [{ type: "string", minLength: 1 }, { type: "array", items: { type: "string", minLength: 1 }, minItems: 1 }] };

const FORMAT_MEANINGS: Record<UseLogFormat, string> = {
  combined: "Apache's and nginx's default: common plus referrer and user agent (the default here).",
  common: "The NCSA common log format: no user agent, so sstate-keeper's own requests cannot be told apart.",
  s3: "S3 server access logs as AWS documents them (REST.GET.OBJECT, REST.HEAD.OBJECT).",
};

/** The JSON schema of `uses:`. */
export const USES_SCHEMA: Record<string, unknown> = documented(
  "Evidence of use: access logs of the server that serves this cache to builds. A GET or HEAD of a cache file answered 2xx or 304 is a use; `unused-for` measures from the latest use (or the mtime, if later).",
  [[{ "access-log": "logs/sstate-access.log*", prefix: "/sstate/" }]],
  {
    type: "array",
    items: {
      type: "object",
      required: ["access-log"],
      additionalProperties: false,
      properties: {
        "access-log": documented(
          "Log files: paths or globs relative to the policy file (.gz read transparently), or s3:// / http(s):// locations (a trailing / or a glob in the last segment: every matching object).",
          ["logs/sstate-access.log*", "s3://sstate-logs/logs/"],
          oneOrList,
        ),
        format: documented("The log's format.", ["combined", "s3"], documentedEnum(USE_LOG_FORMATS, (format) => FORMAT_MEANINGS[format as UseLogFormat])),
        prefix: documented(
          "What precedes a cache path in the logged request path (HTTP, default /) or object key (S3, default none): e.g. /sstate/ when the cache is served at https://host/sstate/.",
          ["/sstate/", "sstate/"],
          { type: "string" },
        ),
        bucket: documented("S3 logs: count only requests to this bucket.", ["yocto-sstate"], { type: "string", minLength: 1 }),
        "ignore-user-agent": documented("Requests whose User-Agent contains one of these are not uses (sstate-keeper's own requests never are).", [["Prometheus"]], oneOrList),
      },
    },
  },
);

/** The `uses:` value as the schema admits it (checked before this runs); `report` gets what the schema cannot say. */
export function compileUses(
  raw: unknown,
  position: (at: readonly (string | number)[]) => SourcePosition,
  report: (at: readonly (string | number)[], message: string) => void,
): UseSource[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((value: unknown, index) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
    const entry = value as Record<string, unknown>;
    const format = (entry["format"] as UseLogFormat | undefined) ?? "combined";
    const logs = entry["access-log"];
    const written = Array.isArray(logs) ? logs.map(String) : [String(logs)];
    const ignored = entry["ignore-user-agent"];
    if (entry["bucket"] !== undefined && format !== "s3") report(["uses", index, "bucket"], `'bucket' names the bucket of S3 server access logs; this log's format is ${format}`);
    return written.map((path, at) => ({
      written: path,
      location: path,
      format,
      prefix: normalisedPrefix(typeof entry["prefix"] === "string" ? entry["prefix"] : "", format),
      ...(typeof entry["bucket"] === "string" ? { bucket: entry["bucket"] } : {}),
      ignoreUserAgents: [OWN_USER_AGENT, ...(ignored === undefined ? [] : Array.isArray(ignored) ? ignored.map(String) : [String(ignored)])],
      position: position(["uses", index, "access-log", ...(Array.isArray(logs) ? [at] : [])]),
    }));
  });
}

/** HTTP request paths start with '/', S3 keys do not; a non-empty prefix names a directory. */
function normalisedPrefix(prefix: string, format: UseLogFormat): string {
  const inner = prefix.replace(/^\/+/, "").replace(/\/+$/, "");
  const directory = inner === "" ? "" : `${inner}/`;
  return format === "s3" ? directory : `/${directory}`;
}
