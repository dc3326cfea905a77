/**
 * Where a paginated S3 listing may split the rest of its key range into parallel streams.
 *
 * A listing is one stream of ListObjectsV2 pages in key order; ranges listed in parallel each
 * start with StartAfter at a boundary and stop at the next one, costing at most one extra
 * request each (the page that runs past the boundary). Splitting pays only when every range
 * holds several pages, so the rest of a range is split by how many keys it probably holds,
 * estimated from the page just listed. sstate keys start with a two-hex-digit hash directory
 * ("3f/a2/sstate:…"), at the cache root or below a nativelsb directory ("universal/3f/a2/…"),
 * and hashes spread evenly: a key's hash directories place it in its directory's key space,
 * and the page's spread there gives the density. Keys of any other shape are listed by the
 * stream they fall into: the split is only ever an estimate, never a condition for a complete
 * listing (consecutive ranges share their boundaries exactly).
 */

import { compareKeys } from "./s3-keys.ts";

/** The keys after `after` (from the first key when undefined) up to and including `through` (to the last when undefined). */
export interface KeyRange {
  after: string | undefined;
  through: string | undefined;
}

/** A range is split only into parts expected to hold at least this many full pages: at most one extra request per this many. */
const MIN_PAGES_PER_RANGE = 2;

/**
 * A page whose keys lie in fewer hash directories than this says nothing about the rest (one
 * directory full of keys is no sign that every other one is): the stream is not split. A page of
 * a 10M-object cache still spans about six.
 */
const MIN_POSITIONS = 4;
/** Hash directories, two levels ("3f/a2/"), possibly below one directory ("universal/"); captures: directory, levels. */
const HASHED = /^((?:(?![0-9a-f]{2}\/)[^/]+\/)?)([0-9a-f]{2})\/(?:([0-9a-f]{2})\/)?/;
/** Positions are in 1/65536 of a directory's hash key space: the two hash levels. */
const SPACE = 0x10000;

/** Where a key lies in its directory's hash key space, or undefined for a key of another shape. */
function placeOf(root: string, key: string): { dir: string; position: number } | undefined {
  if (!key.startsWith(root)) return undefined;
  const match = HASHED.exec(key.slice(root.length));
  if (match === null) return undefined;
  const [, dir, first, second] = match;
  return { dir: dir!, position: parseInt(first!, 16) * 0x100 + (second === undefined ? 0 : parseInt(second, 16)) };
}

/** The smallest key of a hash position: "3f/a2/" below the directory. */
function boundaryAt(root: string, dir: string, position: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `${root}${dir}${hex(position >> 8)}/${hex(position & 0xff)}/`;
}

/**
 * Boundaries that split the rest of a stream's range (the keys after `keys`' last, through
 * `through`) into parts of at least MIN_PAGES_PER_RANGE pages each, at most `parts` parts:
 * ascending, after the last key and before `through`. Empty when a split would not pay.
 * `keys` is the page just listed, in order, and `pageSize` the keys a full page holds.
 */
export function splitPoints(root: string, keys: readonly string[], through: string | undefined, pageSize: number, parts: number): string[] {
  const last = keys.at(-1);
  if (last === undefined || parts < 2) return [];
  const at = placeOf(root, last);
  if (at === undefined) return [];
  // The page's keys in the last key's directory: their spread in its key space gives the density.
  let inDir = 0;
  let from = at.position;
  let positions = 0;
  let previous = -1;
  for (const key of keys) {
    const place = placeOf(root, key);
    if (place === undefined || place.dir !== at.dir) continue;
    inDir++;
    from = Math.min(from, place.position);
    if (place.position !== previous) positions++;
    previous = place.position;
  }
  if (positions < MIN_POSITIONS) return [];
  const end = through === undefined ? undefined : placeOf(root, through);
  // The part of the directory's key space left to this stream: up to `through` (a boundary, so placed) if that lies in it.
  const until = end !== undefined && end.dir === at.dir ? end.position : SPACE;
  // Keys per position over the positions the page reached, its first and last included.
  const density = inDir / (at.position - from + 1);
  const pages = (density * (until - at.position - 1)) / pageSize;
  const count = Math.min(parts, Math.floor(pages / MIN_PAGES_PER_RANGE));
  if (count < 2) return [];
  const boundaries: string[] = [];
  for (let part = 1; part < count; part++) {
    const position = at.position + 1 + Math.floor(((until - at.position - 1) * part) / count);
    const boundary = boundaryAt(root, at.dir, position);
    if (compareKeys(boundary, last) > 0 && (through === undefined || compareKeys(boundary, through) < 0) && boundary !== boundaries.at(-1)) boundaries.push(boundary);
  }
  return boundaries;
}
