/**
 * Apache/nginx access log lines in the Common Log Format and the Combined Log Format:
 *   common:   %h %l %u %t "%r" %>s %b
 *   combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"
 * (nginx's default `combined` is the same; anything after the user agent is ignored).
 */
import { parseLogTime } from "./log-time.ts";

export interface HttpRequestLine {
  time: number;
  method: string;
  /** The request target as logged: still URL-encoded, query included. */
  target: string;
  status: number;
  /** Combined format only. */
  userAgent?: string;
}

/** `"…"` fields: Apache escapes `"` and `\` inside them with a backslash. */
const QUOTED = String.raw`"([^"\\]*(?:\\.[^"\\]*)*)"`;
const COMMON = String.raw`^\S+ \S+ (?:\S+|"[^"]*") \[([^\]]+)\] ${QUOTED} (\d{3}) (?:\d+|-)`;
const COMMON_LINE = new RegExp(`${COMMON}\\s*$`);
const COMBINED_LINE = new RegExp(`${COMMON} ${QUOTED} ${QUOTED}(?:\\s|$)`);

/** One log line, or undefined when it is not a line of that format. */
export function parseHttpLogLine(line: string, format: "combined" | "common"): HttpRequestLine | undefined {
  const match = (format === "combined" ? COMBINED_LINE : COMMON_LINE).exec(line);
  if (!match) return undefined;
  const time = parseLogTime(match[1]!);
  if (time === undefined) return undefined;
  // "%r" is "METHOD TARGET PROTOCOL"; HTTP/0.9 has no protocol. A garbage request line ("-", a TLS handshake) is logged too: it is simply not a use.
  const [method = "", target = "", ...rest] = unescaped(match[2]!).split(" ");
  const request: HttpRequestLine = { time, method: rest.length <= 1 ? method : "", target, status: Number(match[3]) };
  if (format === "combined") request.userAgent = unescaped(match[5]!);
  return request;
}

function unescaped(field: string): string {
  return field.includes("\\") ? field.replace(/\\(.)/g, "$1") : field;
}
