/**
 * The walk of a local cache, shared by the listing threads and the thread that plans their
 * work. Every directory is read in the order its paths sort, so the files of a unit come out
 * already in path order and the whole listing needs no real sort.
 */
import { type Dirent, lstatSync, readdirSync, type Stats } from "node:fs";
import type { RemoteFile } from "../sstate/files.ts";
import type { ListingPart } from "../sstate/listing-part.ts";
import { compareCodeUnits } from "../util/compare.ts";

export interface WalkEntry {
  name: string;
  directory: boolean;
}

/** A slice of the tree for one listing thread: some entries of one directory (relative to the root; "" is the root). */
export interface WalkUnit {
  index: number;
  dir: string;
  entries: WalkEntry[];
}

/** The files under one unit in path order, packed so that passing them between threads copies a few buffers. */
export type WalkedUnit =
  | {
    index: number;
    /** Relative paths joined by NUL, the one character no file name contains. */
    paths: string;
    sizes: Float64Array;
    mtimesMs: Float64Array;
    /** Positions of symlinks among the paths. */
    symlinks: number[];
    /** Positions of FIFOs, sockets and devices among the paths. */
    specials: number[];
  }
  | { index: number; error: string };

/** A unit parsed by the listing thread (see ListingPartWriter), or why it could not be listed. */
export type ParsedUnit = { index: number; thread: number; part: ListingPart } | { index: number; error: string };

/** What a listing thread is asked: a unit, and whether to send its files parsed or as they are. */
export interface WalkRequest {
  unit: WalkUnit;
  parsed: boolean;
}

/**
 * Entries sorted as their paths sort (code units): below a directory every path continues with
 * '/', so a directory sorts by its name plus '/' (`a-b/` before `a/`, `a.x` before `a/`).
 */
export function inPathOrder(entries: readonly Dirent[]): WalkEntry[] {
  return entries
    .map((entry) => ({ name: entry.name, directory: entry.isDirectory(), key: entry.isDirectory() ? `${entry.name}/` : entry.name }))
    .sort((a, b) => compareCodeUnits(a.key, b.key))
    .map(({ name, directory }) => ({ name, directory }));
}

/**
 * Lists a unit with synchronous calls: on a listing thread of its own, one blocking lstat per
 * file costs less than a callback per file, and the threads keep every core's kernel side busy.
 * Symlinks are listed with their own lstat and never followed; FIFOs, sockets and devices are
 * listed as special (the lstat says so) and never opened. Each file goes to `found` in path
 * order; a failure ends the walk with its message.
 */
export function walkUnit(root: string, unit: WalkUnit, found: (file: RemoteFile) => void): string | undefined {
  const visit = (path: string, entry: WalkEntry) => {
    const absolute = `${root}/${path}`;
    if (entry.directory) {
      for (const child of readDirectory(absolute)) visit(`${path}/${child.name}`, child);
      return;
    }
    let stats;
    try {
      // Deleted between readdir and lstat (a running build): simply not listed.
      stats = lstatSync(absolute, { throwIfNoEntry: false });
    } catch (error) {
      throw new Error(`cannot stat ${absolute}: ${(error as Error).message}`);
    }
    if (!stats) return;
    // A filesystem that reports no entry types: the lstat says what it is.
    if (stats.isDirectory()) return visit(path, { name: entry.name, directory: true });
    found(fileOf(path, stats));
  };
  try {
    for (const entry of unit.entries) visit(unit.dir === "" ? entry.name : `${unit.dir}/${entry.name}`, entry);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** A unit's files as they are, packed. */
export function packedUnit(root: string, unit: WalkUnit): WalkedUnit {
  const paths: string[] = [];
  const sizes: number[] = [];
  const mtimes: number[] = [];
  const symlinks: number[] = [];
  const specials: number[] = [];
  const error = walkUnit(root, unit, (file) => {
    if (file.symlink) symlinks.push(paths.length);
    if (file.special) specials.push(paths.length);
    paths.push(file.path);
    sizes.push(file.size);
    mtimes.push(file.mtimeMs);
  });
  if (error !== undefined) return { index: unit.index, error };
  return { index: unit.index, paths: paths.join("\u0000"), sizes: Float64Array.from(sizes), mtimesMs: Float64Array.from(mtimes), symlinks, specials };
}

/** What an lstat says of a file, as the listing reports it (stat and the check before a deletion alike). */
export function fileOf(path: string, stats: Stats): RemoteFile {
  const file: RemoteFile = { path, size: stats.size, mtimeMs: listedMtimeMs(stats) };
  if (stats.isSymbolicLink()) file.symlink = true;
  // A FIFO, socket or device, or a directory where a file was planned.
  else if (!stats.isFile()) file.special = true;
  return file;
}

/** Whole milliseconds: what plans record, and the same on Node and Deno (whose sub-ms parts differ). */
export function listedMtimeMs(stats: { mtimeMs: number }): number {
  return Math.floor(stats.mtimeMs);
}

function readDirectory(absolute: string): WalkEntry[] {
  try {
    return inPathOrder(readdirSync(absolute, { withFileTypes: true }));
  } catch (error) {
    throw new Error(`cannot read ${absolute}: ${(error as Error).message}`);
  }
}
