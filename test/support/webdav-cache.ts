// A generated sstate cache written straight into the data directory of a test Apache (its
// getlastmodified is the file mtime), with the list of what POLICY plans to delete: the ground
// truth for plan + apply runs against the real server.
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Env } from "../../src/backends/index.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import { hashFrom } from "./listing.ts";
import type { WebdavServerInfo } from "./servers.ts";

const DAY = 86_400_000;
const PNS = ["busybox", "zlib", "openssl", "glibc", "util-linux"];
const TASKS = ["populate_sysroot", "package", "packagedata", "deploy_source_date_epoch"];

/** Keeps pn keep-me, deletes everything older than 300 days (the old builds are 400 days old). */
export const POLICY = `version: 1
rules:
  - name: keep-me
    keep: { pn: keep-me }
  - name: expire
    delete: { older-than: 300d }
`;

export interface SeedFile {
  path: string;
  old: boolean;
}

/** An sstate archive path whose hash directory is number `directory` (real caches hold several builds per directory). */
function archivePath(pn: string, task: string, build: string, directory: number): string {
  const hash = hashFrom(`directory-${directory}`).slice(0, 4) + hashFrom(build).slice(4);
  const lsb = directory % 5 === 0 ? "universal/" : "";
  return `${lsb}${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:${pn}:core2-64-poky-linux:1.0:r0:core2-64:14:${hash}_${task}.tar.zst`;
}

/**
 * Old builds (an archive and its .siginfo, and a .sig for every fourth) spread over
 * `directories` hash directories, kept builds of pn keep-me, and a fresh build in every third
 * directory: the deletions empty two thirds of the directories and leave files beside them in the rest.
 */
export function cacheContent(options: { oldBuilds: number; keptBuilds: number; directories: number }): SeedFile[] {
  const files: SeedFile[] = [];
  for (let i = 0; i < options.oldBuilds; i++) {
    const archive = archivePath(PNS[i % PNS.length]!, TASKS[i % TASKS.length]!, `old-${i}`, i % options.directories);
    files.push({ path: archive, old: true }, { path: `${archive}.siginfo`, old: true });
    if (i % 4 === 0) files.push({ path: `${archive}.sig`, old: true });
  }
  for (let d = 0; d < options.directories; d += 3) {
    const fresh = archivePath(PNS[d % PNS.length]!, "populate_sysroot", `fresh-${d}`, d);
    files.push({ path: fresh, old: false }, { path: `${fresh}.siginfo`, old: false });
  }
  for (let i = 0; i < options.keptBuilds; i++) {
    const archive = archivePath("keep-me", "populate_sysroot", `kept-${i}`, options.directories + i);
    files.push({ path: archive, old: true }, { path: `${archive}.siginfo`, old: true });
  }
  files.push({ path: "README", old: true });
  return files;
}

export interface SeededCache {
  /** The collection's path on the server, e.g. /dav/cache-…/ */
  pathname: string;
  /** Where Apache keeps it on disk. */
  root: string;
  /** What POLICY plans to delete, sorted. */
  planned: string[];
}

let caches = 0;

export async function seedCache(server: WebdavServerInfo, content: readonly SeedFile[]): Promise<SeededCache> {
  const name = `cache-${process.pid}-${caches++}`;
  const root = join(server.dataDir, name);
  const old = (Date.now() - 400 * DAY) / 1000;
  await mapConcurrent(content, 32, async (file, i) => {
    const path = join(root, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, new Uint8Array(i % 97));
    if (file.old) await utimes(path, old, old);
  });
  const planned = content.filter((f) => f.old && !f.path.includes("sstate:keep-me:") && f.path !== "README").map((f) => f.path);
  return { pathname: `${new URL(server.url).pathname}${name}/`, root, planned: planned.sort() };
}

/** The files under a directory, relative and sorted. */
export async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/** The credentials for the server, as the CLI reads them. */
export function webdavEnv(server: WebdavServerInfo): Env {
  return server.user === undefined ? {} : { SSTATE_KEEPER_WEBDAV_USER: server.user, SSTATE_KEEPER_WEBDAV_PASSWORD: server.password };
}
