/**
 * S3 object keys as they travel: URL-encoded in listings (`EncodingType=url`), raw in the XML
 * body of DeleteObjects, and ordered by their UTF-8 bytes.
 */

/**
 * Characters an XML 1.0 document cannot carry at all (C0 controls other than tab, newline and
 * carriage return; U+FFFE, U+FFFF), and the three it carries but parsers rewrite (`\r\n` → `\n`,
 * whitespace-only text dropped): a key holding one cannot go into a DeleteObjects body, nor come
 * back out of its answer, unchanged.
 */
const NOT_XML_SAFE = /[\x00-\x1f\ufffe\uffff]/;

/** Whether the key survives the XML body of a DeleteObjects request and its answer byte for byte. */
export function isXmlSafeKey(key: string): boolean {
  return !NOT_XML_SAFE.test(key);
}

/**
 * A key, prefix or delimiter of a listing answer made with `EncodingType=url`. AWS encodes a
 * space as `+` (form encoding; a literal `+` comes as `%2B`), radosgw as `%20`; both encode `%`.
 * Throws URIError for an encoding that is no UTF-8.
 */
export function decodeListedKey(encoded: string): string {
  return decodeURIComponent(encoded.replaceAll("+", " "));
}

/**
 * S3's key order: UTF-8 bytes, which is code point order. JavaScript compares UTF-16 units,
 * which agrees except that a surrogate (half of a character beyond U+FFFF) must sort after
 * U+E000–U+FFFF: ranked here accordingly.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** The key without its last character (a whole surrogate pair for one beyond U+FFFF): a StartAfter that lists `key` itself. */
export function keyBefore(key: string): string {
  const last = key.charCodeAt(key.length - 1);
  return key.slice(0, last >= 0xdc00 && last <= 0xdfff && key.length >= 2 ? -2 : -1);
}

/** The longest common start of two keys, never ending inside a surrogate pair (it becomes a Prefix, which must be whole UTF-8). */
export function commonPrefix(a: string, b: string): string {
  let length = 0;
  while (length < a.length && a.charCodeAt(length) === b.charCodeAt(length)) length++;
  const last = a.charCodeAt(length - 1);
  return a.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}
