import { mapConcurrent } from "../util/concurrency.ts";
import { type DavAnswer, DavError, type DavTransport } from "./webdav-http.ts";
import type { DavEntry } from "./webdav-multistatus.ts";

const REMOVE_CONCURRENCY = 8;
/**
 * How long a lock we could not release (its UNLOCK lost) keeps others from writing into the
 * collection. Our LOCK–PROPFIND–DELETE takes milliseconds; if it takes longer than this, the
 * DELETE carries an expired token and is refused: the collection stays, nothing is lost.
 */
const LOCK_TIMEOUT = "Second-30";
const LOCK_BODY = '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>' +
  "<D:locktype><D:write/></D:locktype><D:owner>sstate-keeper: removing an empty collection</D:owner></D:lockinfo>";

export interface CollectionServer {
  readonly http: DavTransport;
  readonly displayUrl: string;
  collectionUrlOf(dir: string): string;
  /** One strictly parsed PROPFIND Depth: 1 attempt; undefined if the collection does not exist. */
  readCollection(dir: string): Promise<{ etag: string | undefined; members: DavEntry[] } | undefined>;
  /** The collection is gone: forget that it existed (uploads create it again). */
  forgot(dir: string): void;
}

type Removal = "removed" | "kept" | "unsupported";
/** Tries of the lock–check–delete sequence for one collection. */
const LOCK_ROUNDS = 4;
type Lock = { token: string } | "gone" | "locked" | "unsupported";

/**
 * Removes the collections among `dirs` and their parents (never the root) that hold nothing,
 * deepest first. DELETE of a collection is recursive, so one that looks empty is locked first
 * (exclusive, Depth: infinity: uploads into it are refused with 423 meanwhile), found empty by
 * a complete PROPFIND Depth: 1 and deleted with the lock token and its ETag; otherwise
 * unlocked. A server without locks keeps its collections. Never fails: what stays in place is
 * described by the returned note.
 */
export async function removeEmptyCollections(server: CollectionServer, dirs: readonly string[]): Promise<string | undefined> {
  const byDepth = new Map<number, Set<string>>();
  for (const dir of dirs) {
    for (let d = dir; d !== "" && d !== "."; d = parentOf(d)) {
      const depth = d.split("/").length;
      if (!byDepth.has(depth)) byDepth.set(depth, new Set());
      byDepth.get(depth)!.add(d);
    }
  }
  let unsupported = false;
  let lastError: unknown;
  let stopped = false;
  let left = 0;
  for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
    await mapConcurrent([...byDepth.get(depth)!], REMOVE_CONCURRENCY, async (dir) => {
      if (unsupported || stopped) return void left++;
      try {
        if ((await removeIfEmpty(server, dir)) !== "unsupported") return;
        unsupported = true;
      } catch (error) {
        lastError = error;
        // Refused credentials or a wrong URL: the rest would fail the same way (a server that
        // stopped answering fails the rest at once by itself).
        stopped = !(error instanceof DavError && error.transient);
      }
      left++;
    });
  }
  const collections = left === 1 ? "1 collection that the deletions may have emptied stays" : `${left} collections that the deletions may have emptied stay`;
  if (unsupported) return `note: ${server.displayUrl} does not support WebDAV locks, so ${collections} in place (removing a collection unlocked could delete what is uploaded into it meanwhile)`;
  if (left > 0) return `note: ${collections} in place (${messageOf(lastError)}); applying the same plan again retries them`;
  return undefined;
}

async function removeIfEmpty(server: CollectionServer, dir: string): Promise<Removal> {
  // Most parents still hold other hash directories: one unlocked look spares them a LOCK and UNLOCK.
  const collection = await server.http.retried(() => server.readCollection(dir));
  if (collection === undefined) {
    server.forgot(dir);
    return "removed";
  }
  if (collection.members.length > 0) return "kept";
  for (let round = 1;; round++) {
    const removal = await lockCheckDelete(server, dir);
    // Refused with our token: the collection changed, or the lock was lost (Apache's lock
    // database drops some under concurrent LOCKs): look again, from the LOCK on.
    if (removal !== "refused") return removal;
    if (round >= LOCK_ROUNDS) return "kept";
  }
}

async function lockCheckDelete(server: CollectionServer, dir: string): Promise<Removal | "refused"> {
  const { http } = server;
  const url = server.collectionUrlOf(dir);
  const lock = await http.retried(() => lockCollection(http, url));
  if (lock === "unsupported") return "unsupported";
  if (lock === "gone") {
    server.forgot(dir);
    return "removed";
  }
  if (lock === "locked") return "kept";
  let removed = false;
  try {
    const collection = await http.retried(() => server.readCollection(dir));
    if (collection === undefined) {
      server.forgot(dir);
      return "removed";
    }
    if (collection.members.length > 0) return "kept";
    // The ETag too: Apache's changes with the directory's mtime, so even a file written on the
    // server's disk (no lock sees that) since the PROPFIND makes the DELETE fail.
    removed = await http.retried(() => deleteLocked(http, url, `<${lock.token}>${collection.etag === undefined ? "" : ` [${collection.etag}]`}`));
    if (!removed) return "refused";
    server.forgot(dir);
    return "removed";
  } finally {
    // A lock we cannot release expires by its timeout.
    if (!removed) await http.retried(() => unlock(http, url, lock.token)).catch(() => undefined);
  }
}

/** One LOCK attempt. `If-Match: *` keeps a LOCK of a collection removed meanwhile from creating a (lock-null) resource there. */
async function lockCollection(http: DavTransport, url: string): Promise<Lock> {
  const answer = await http.fetch("LOCK", url, {
    headers: { Depth: "infinity", Timeout: LOCK_TIMEOUT, "If-Match": "*", "Content-Type": 'application/xml; charset="utf-8"' },
    body: LOCK_BODY,
  });
  switch (answer.status) {
    case 200:
    case 201: {
      const token = lockTokenOf(answer);
      if (token === undefined) return "unsupported";
      // 201: the server ignored If-Match and made a locked empty resource where the collection was: undo that.
      if (answer.status === 201) return (await deleteLocked(http, url, `<${token}>`)) ? "gone" : "locked";
      return { token };
    }
    case 404:
    case 412:
      return "gone";
    // Someone else holds a lock on it or on something in it (or our own LOCK's answer was lost).
    case 207:
    case 423:
      return "locked";
    case 405:
    case 501:
      return "unsupported";
    default:
      throw http.statusError(answer);
  }
}

/** One DELETE attempt under the conditions (`<token> [etag]`): true once the collection is gone, false if the server refused. */
async function deleteLocked(http: DavTransport, url: string, conditions: string): Promise<boolean> {
  const answer = await http.fetch("DELETE", url, { headers: { If: `<${url}> (${conditions})` } });
  if (answer.status === 200 || answer.status === 204 || answer.status === 404) return true;
  if (answer.status === 412 || answer.status === 423) return false;
  throw http.statusError(answer);
}

async function unlock(http: DavTransport, url: string, token: string): Promise<void> {
  const answer = await http.fetch("UNLOCK", url, { headers: { "Lock-Token": `<${token}>` } });
  // 409/412: the lock is gone already (expired, or released by an attempt whose answer was lost).
  if (answer.status !== 204 && answer.status !== 200 && answer.status !== 409 && answer.status !== 412) throw http.statusError(answer);
}

function lockTokenOf(answer: DavAnswer): string | undefined {
  const header = answer.headers["lock-token"];
  const token = /^\s*<([^>]+)>\s*$/.exec(typeof header === "string" ? header : "")?.[1];
  return token;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
