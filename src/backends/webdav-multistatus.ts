/**
 * The 207 multistatus answer of PROPFIND, scanned rather than parsed into a DOM: the
 * Depth: infinity answer for a million files is ~400 MB of XML, and only four properties of
 * each <response> matter. Element names are matched by local name with any namespace prefix
 * (Apache says D:/lp1:, others d: or a default namespace).
 */

/** One `<response>` of a 207 multistatus, with `path` relative to the backend root. */
export interface DavEntry {
  path: string;
  /** 200 when the properties were found, else the status the server gave for this member. */
  status: number;
  collection: boolean;
  size: number;
  mtimeMs: number;
  etag: string | undefined;
}

const PREFIX = "(?:[A-Za-z_][\\w.-]*:)?";
const RESPONSE_END = new RegExp(`</${PREFIX}response\\s*>`, "g");
const MULTISTATUS_END = new RegExp(`</${PREFIX}multistatus\\s*>`);
const HREF = new RegExp(`<${PREFIX}href\\b[^>]*>([^<]*)<`);
const PROPSTAT = new RegExp(`<${PREFIX}propstat\\b[^>]*>([\\s\\S]*?)</${PREFIX}propstat\\s*>`, "g");
const STATUS = new RegExp(`<${PREFIX}status\\b[^>]*>[^<]*?\\b(\\d{3})\\b`);
const COLLECTION = new RegExp(`<${PREFIX}collection\\s*/?>`);
const CONTENT_LENGTH = new RegExp(`<${PREFIX}getcontentlength\\b[^>]*>\\s*(\\d+)`);
const LAST_MODIFIED = new RegExp(`<${PREFIX}getlastmodified\\b[^>]*>([^<]*)<`);
const ETAG = new RegExp(`<${PREFIX}getetag\\b[^>]*>([^<]*)<`);

/** Cuts complete `<response>` elements out of text that arrives in arbitrary chunks. */
export class MultistatusScanner {
  complete = false;
  private pending = "";

  push(text: string): string[] {
    this.pending += text;
    const elements: string[] = [];
    let start = 0;
    RESPONSE_END.lastIndex = 0;
    for (let match = RESPONSE_END.exec(this.pending); match; match = RESPONSE_END.exec(this.pending)) {
      elements.push(this.pending.slice(start, RESPONSE_END.lastIndex));
      start = RESPONSE_END.lastIndex;
    }
    this.pending = this.pending.slice(start);
    if (MULTISTATUS_END.test(this.pending)) this.complete = true;
    return elements;
  }
}

export function parseResponseElement(element: string, pathOf: (href: string) => string | undefined): DavEntry | undefined {
  const href = HREF.exec(element)?.[1];
  const path = href === undefined ? undefined : pathOf(decodeEntities(href.trim()));
  if (path === undefined) return undefined;
  let found: string | undefined;
  let status: number | undefined;
  PROPSTAT.lastIndex = 0;
  for (let match = PROPSTAT.exec(element); match; match = PROPSTAT.exec(element)) {
    const propstatStatus = Number(STATUS.exec(match[1]!)?.[1] ?? 0);
    if (propstatStatus === 200) found = match[1]!;
    status ??= propstatStatus;
  }
  if (found === undefined) {
    return { path, status: status ?? Number(STATUS.exec(element)?.[1] ?? 0), collection: false, size: 0, mtimeMs: 0, etag: undefined };
  }
  const etag = ETAG.exec(found)?.[1];
  return {
    path,
    status: 200,
    collection: COLLECTION.test(found),
    size: Number(CONTENT_LENGTH.exec(found)?.[1] ?? 0),
    mtimeMs: Date.parse(LAST_MODIFIED.exec(found)?.[1] ?? "") || 0,
    etag: etag === undefined ? undefined : decodeEntities(etag.trim()),
  };
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, name: string) => {
    if (name[0] !== "#") return ENTITIES[name.toLowerCase()] ?? whole;
    return String.fromCodePoint(name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
  });
}
