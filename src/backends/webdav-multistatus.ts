/**
 * The 207 multistatus answer of PROPFIND, scanned rather than parsed into a DOM: the
 * Depth: infinity answer for a million files is ~400 MB of XML, and only four properties of
 * each <response> matter. Element names are matched by local name with any namespace prefix
 * (Apache says D:/lp1:, others d: or a default namespace).
 *
 * Scanning is strict where it matters for deleting: an answer counts only when it is whole
 * (prolog, opening tag, nothing but <response> elements, closing tag) and every member it
 * names is complete. A truncated or malformed answer is an error, never "empty" or "not found".
 */

import { decodeEntities } from "./xml-text.ts";

/** One `<response>` of a 207 multistatus, with `path` relative to the backend root. */
export interface DavEntry {
  path: string;
  /** 200 when the properties were found, else the status the server gave for this member. */
  status: number;
  /**
   * `placeholder`: a member with neither size nor date, such as the lock-null resource a LOCK
   * of an unmapped URL leaves (Apache lists those): nothing that could be kept or deleted.
   */
  kind: "file" | "collection" | "placeholder";
  size: number;
  mtimeMs: number;
  etag: string | undefined;
}

/** A multistatus answer that is not whole or not well-formed; the message names what is wrong, never the body. */
export class MultistatusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MultistatusError";
  }
}

/** Apache's elements are under 2 KB; anything this big without its closing tag is not a multistatus answer. */
const MAX_ELEMENT_CHARS = 1 << 20;

const PREFIX = "(?:[A-Za-z_][\\w.-]*:)?";
const RESPONSE_START = new RegExp(`<${PREFIX}response[\\s>]`);
const RESPONSE_END = new RegExp(`</${PREFIX}response\\s*>`, "g");
const PROLOG = new RegExp(`^\\s*(?:<\\?xml[^>]*\\?>)?\\s*(?:<!--[\\s\\S]*?-->\\s*)*<${PREFIX}multistatus\\b[^>]*>\\s*$`);
const EMPTY_MULTISTATUS = new RegExp(`^\\s*(?:<\\?xml[^>]*\\?>)?\\s*(?:<!--[\\s\\S]*?-->\\s*)*<${PREFIX}multistatus\\b[^>]*?(?:/>|>\\s*</${PREFIX}multistatus\\s*>)\\s*$`);
const EPILOGUE = new RegExp(
  `^\\s*(?:<${PREFIX}responsedescription\\b[^>]*>[^<]*</${PREFIX}responsedescription\\s*>\\s*)?(?:<${PREFIX}sync-token\\b[^>]*>[^<]*</${PREFIX}sync-token\\s*>\\s*)?</${PREFIX}multistatus\\s*>\\s*$`,
);
const HREF = new RegExp(`<${PREFIX}href\\b[^>]*>([^<]*)<`);
const PROPSTAT = new RegExp(`<${PREFIX}propstat\\b[^>]*>([\\s\\S]*?)</${PREFIX}propstat\\s*>`, "g");
const STATUS = new RegExp(`<${PREFIX}status\\b[^>]*>[^<]*?\\b(\\d{3})\\b`);
const COLLECTION = new RegExp(`<${PREFIX}collection\\s*/?>`);
const CONTENT_LENGTH = new RegExp(`<${PREFIX}getcontentlength\\b[^>]*>([^<]*)<`);
const LAST_MODIFIED = new RegExp(`<${PREFIX}getlastmodified\\b[^>]*>([^<]*)<`);
const ETAG = new RegExp(`<${PREFIX}getetag\\b[^>]*>([^<]*)<`);

/** Cuts complete `<response>` elements out of text that arrives in arbitrary chunks, checking the text around them. */
export class MultistatusScanner {
  private pending = "";
  private opened = false;

  /** The elements completed by `text`; throws MultistatusError on anything but a multistatus answer. */
  push(text: string): string[] {
    this.pending += text;
    const elements: string[] = [];
    let start = 0;
    RESPONSE_END.lastIndex = 0;
    for (let match = RESPONSE_END.exec(this.pending); match; match = RESPONSE_END.exec(this.pending)) {
      const piece = this.pending.slice(start, RESPONSE_END.lastIndex);
      const at = piece.search(RESPONSE_START);
      const lead = at < 0 ? piece : piece.slice(0, at);
      if (at < 0 || !(this.opened ? lead.trim() === "" : PROLOG.test(lead))) {
        throw new MultistatusError(this.opened ? "unexpected content between <response> elements" : "it does not start with <multistatus>");
      }
      this.opened = true;
      elements.push(piece.slice(at));
      start = RESPONSE_END.lastIndex;
    }
    this.pending = this.pending.slice(start);
    if (this.pending.length > MAX_ELEMENT_CHARS) throw new MultistatusError(`no </response> within ${MAX_ELEMENT_CHARS} characters`);
    return elements;
  }

  /** Call at the end of the body: throws unless the answer ended with its closing tag. */
  finish(): void {
    const whole = this.opened ? EPILOGUE.test(this.pending) : EMPTY_MULTISTATUS.test(this.pending);
    if (!whole) throw new MultistatusError("the closing </multistatus> tag is missing (the answer was cut short)");
  }
}

/** Every member of a whole multistatus body, strictly. */
export function parseMultistatus(xml: string, pathOf: (href: string) => string | undefined): DavEntry[] {
  const scanner = new MultistatusScanner();
  const entries: DavEntry[] = [];
  for (const element of scanner.push(xml)) {
    const entry = parseResponseElement(element, pathOf);
    if (entry) entries.push(entry);
  }
  scanner.finish();
  return entries;
}

/** One member; undefined for an href outside the root (servers do not send those, but a proxy might rewrite them). */
export function parseResponseElement(element: string, pathOf: (href: string) => string | undefined): DavEntry | undefined {
  const href = HREF.exec(element)?.[1];
  if (href === undefined) throw new MultistatusError("a <response> without <href>");
  const path = pathOf(decodeEntities(href.trim()));
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
    status ??= Number(STATUS.exec(element)?.[1] ?? 0);
    if (status === 0) throw new MultistatusError(`the <response> for ${path || "the root"} has no status`);
    return { path, status, kind: "file", size: 0, mtimeMs: 0, etag: undefined };
  }
  const etag = ETAG.exec(found)?.[1];
  const entry: DavEntry = { path, status: 200, kind: "collection", size: 0, mtimeMs: 0, etag: etag === undefined ? undefined : decodeEntities(etag.trim()) };
  if (COLLECTION.test(found)) return entry;
  const size = CONTENT_LENGTH.exec(found)?.[1]?.trim();
  const modified = LAST_MODIFIED.exec(found)?.[1]?.trim();
  if (size === undefined && modified === undefined) return { ...entry, kind: "placeholder" };
  const mtimeMs = Date.parse(modified ?? "");
  if (size === undefined || !/^\d+$/.test(size)) throw new MultistatusError(`${path} has no valid getcontentlength`);
  if (Number.isNaN(mtimeMs)) throw new MultistatusError(`${path} has no valid getlastmodified`);
  return { ...entry, kind: "file", size: Number(size), mtimeMs };
}
