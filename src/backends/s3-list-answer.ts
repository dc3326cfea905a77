/**
 * The body of a ListObjectsV2 answer, scanned rather than parsed into a DOM: the SDK's XML
 * parser and deserializer cost ~70 µs of CPU a key (1.5 s for 20k keys, as long as the whole
 * listing takes on a 2-core machine), this scan a few µs. Markup cannot occur in XML text,
 * so every `<Tag>` found is an element; only IsTruncated, NextContinuationToken, EncodingType
 * and four fields of each `<Contents>` matter (no delimiter is sent: no CommonPrefixes).
 *
 * Strict where completeness matters: the answer must be one whole `<ListBucketResult>` with
 * IsTruncated, a truncated one must carry a continuation token, and every key must be whole;
 * anything else is a MalformedAnswerError (retried), never taken as the end of the listing.
 */

import { MalformedAnswerError } from "./s3-errors.ts";
import { decodeListedKey } from "./s3-keys.ts";
import { decodeEntities } from "./xml-text.ts";

/** One listed object, its key decoded. */
export interface ListedObject {
  key: string;
  size: number;
  mtimeMs: number;
  etag?: string;
}

/** A checked ListObjectsV2 answer with its keys decoded. */
export interface ListedPage {
  objects: ListedObject[];
  /** The continuation token, or undefined on the last page. */
  next: string | undefined;
}

const OPENING = /^\s*(?:<\?xml[^>]*\?>)?\s*<ListBucketResult[\s>]/;
const CLOSING = /<\/ListBucketResult>\s*$/;
const IS_TRUNCATED = /<IsTruncated>\s*(true|false)\s*<\/IsTruncated>/;
const NEXT_TOKEN = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/;
const ENCODING = /<EncodingType>\s*url\s*<\/EncodingType>/;
const CONTENTS_OPEN = "<Contents>";
const CONTENTS_CLOSE = "</Contents>";

/** The page a ListObjectsV2 answer body holds; throws MalformedAnswerError unless it is whole. */
export function scanListAnswer(xml: string): ListedPage {
  if (!OPENING.test(xml) || !CLOSING.test(xml)) throw new MalformedAnswerError("a ListObjectsV2 answer that is no whole ListBucketResult (cut short?)");
  const truncated = IS_TRUNCATED.exec(xml)?.[1];
  if (truncated === undefined) throw new MalformedAnswerError("a ListObjectsV2 answer without IsTruncated");
  const token = NEXT_TOKEN.exec(xml)?.[1];
  if (truncated === "true" && !token) throw new MalformedAnswerError("a truncated ListObjectsV2 answer without a continuation token");
  const encoded = ENCODING.test(xml);
  const objects: ListedObject[] = [];
  for (let at = xml.indexOf(CONTENTS_OPEN); at !== -1; at = xml.indexOf(CONTENTS_OPEN, at)) {
    const end = xml.indexOf(CONTENTS_CLOSE, at);
    if (end === -1) throw new MalformedAnswerError("a ListObjectsV2 answer with an unclosed Contents element");
    objects.push(objectOf(xml.slice(at + CONTENTS_OPEN.length, end), encoded));
    at = end + CONTENTS_CLOSE.length;
  }
  return { objects, next: truncated === "true" ? decodeEntities(token!) : undefined };
}

function objectOf(element: string, encoded: boolean): ListedObject {
  const key = field(element, "Key");
  if (key === undefined) throw new MalformedAnswerError("a ListObjectsV2 answer with an object without a key");
  const size = field(element, "Size")?.trim();
  const modified = field(element, "LastModified")?.trim();
  const etag = field(element, "ETag");
  const mtimeMs = modified === undefined ? 0 : Date.parse(modified);
  if (size !== undefined && !/^\d+$/.test(size)) throw new MalformedAnswerError("a ListObjectsV2 answer with an object of no valid Size");
  if (Number.isNaN(mtimeMs)) throw new MalformedAnswerError("a ListObjectsV2 answer with an object of no valid LastModified");
  const object: ListedObject = { key: keyOf(decodeEntities(key), encoded), size: size === undefined ? 0 : Number(size), mtimeMs: secondsOf(mtimeMs) };
  if (etag !== undefined) object.etag = decodeEntities(etag.trim());
  return object;
}

function keyOf(text: string, encoded: boolean): string {
  if (!encoded) return text;
  try {
    return decodeListedKey(text);
  } catch {
    throw new MalformedAnswerError("a ListObjectsV2 answer with a key that is no URL-encoded UTF-8");
  }
}

/** The text of the element's first child `<name>`, undefined when it has none. */
function field(element: string, name: string): string | undefined {
  const start = element.indexOf(`<${name}>`);
  if (start === -1) return undefined;
  const from = start + name.length + 2;
  const end = element.indexOf(`</${name}>`, from);
  if (end === -1) throw new MalformedAnswerError(`a ListObjectsV2 answer with an unclosed ${name} element`);
  return element.slice(from, end);
}

/** Listings report milliseconds on some servers (radosgw), HeadObject only seconds: truncate both so they agree. */
export function secondsOf(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
