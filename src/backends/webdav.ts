import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { mapConcurrent } from "../util/concurrency.ts";
import { type Backend, BackendError, type DeleteOutcome, type ExpectedFile, NotFoundError, type OpenOptions, type RemoteFile } from "./backend.ts";
import { changeSincePlanning } from "./precondition.ts";
import { type Env, registerScheme, type Target, TargetError } from "./registry.ts";
import { removeEmptyCollections } from "./webdav-collections.ts";
import { type Credentials, credentialsFor } from "./webdav-credentials.ts";
import { type DavAnswer, type DavStream, DavTransport, decodePath } from "./webdav-http.ts";
import { ResumableListing } from "./webdav-listing.ts";
import { type DavEntry, MultistatusError, parseMultistatus } from "./webdav-multistatus.ts";

/** Depth: 1 requests in flight when the server refuses Depth: infinity (SPEC §8 asks for ≥ 8). */
const LIST_CONCURRENCY = 16;
const DELETE_CONCURRENCY = 16;

/** Only the four properties we use: `allprop` would make Apache send locks and creation dates too. */
const PROPFIND_BODY = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>' +
  "<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/></D:prop></D:propfind>";

type Depth = "0" | "1" | "infinity";

/** The server refused PROPFIND Depth: infinity (Apache's default, RFC 4918 §9.1): list one collection at a time. */
class DepthInfinityRefused extends Error {}

/** A conditional DELETE was refused: whether the object changed or is gone is asked separately. */
const PRECONDITION_FAILED = Symbol("precondition failed");

registerScheme(["http", "https", "webdav+http", "webdav+https"], (url): Target => {
  const root = rootUrlOf(url);
  return { scheme: "webdav", url: root.href, open: (env, options) => WebdavBackend.open(root, env, options) };
});

function rootUrlOf(url: URL): URL {
  const root = new URL(url.href.replace(/^webdav\+/i, ""));
  if (root.search || root.hash) throw new TargetError(`'${url.href}': a WebDAV target URL must not have a query or fragment`);
  if (!root.pathname.endsWith("/")) root.pathname += "/";
  return root;
}

/**
 * An sstate cache on a WebDAV server (Apache mod_dav, nginx dav, Nextcloud…).
 *
 * Speaks HTTP through node:http rather than the `webdav` client, measured on Apache with 100,000
 * files: the client's Depth: infinity listing parses the whole answer into one object tree (46 s,
 * 1.5 GB RSS, against 3–6 s and 170 MB streamed here), and its node-fetch transport costs 2–3× more
 * CPU per small request (PROPFIND Depth: 1, DELETE), which is what the fallback listing and
 * deleting are made of.
 *
 * Every request is bounded by the timeouts and retried on transient failures within the
 * operation budget (webdav-http.ts); every answer is read whole and parsed strictly, so a
 * truncated answer is a failure, never "empty" or "not found".
 */
export class WebdavBackend implements Backend {
  readonly displayUrl: string;
  readonly http: DavTransport;
  readonly authorization: string | undefined;
  private readonly root: URL;
  private readonly rootPath: string;
  /** Collections known to exist, so each is created (MKCOL) at most once per backend. */
  private readonly collections = new Map<string, Promise<void>>();
  private depthInfinityRefused = false;
  private rootChecked: Promise<void> | undefined;
  readonly options: OpenOptions;

  constructor(root: URL, credentials: Credentials | undefined, options: OpenOptions) {
    this.options = options;
    this.root = rootUrlOf(root);
    this.displayUrl = this.root.href;
    this.rootPath = decodePath(this.root.pathname);
    this.authorization = credentials && `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}`;
    options.secrets.add(credentials?.password);
    options.secrets.add(this.authorization);
    this.http = new DavTransport(this.root, this.authorization, options.timeouts);
  }

  static async open(root: URL, env: Env, options: OpenOptions): Promise<WebdavBackend> {
    const credentials = await credentialsFor(root.hostname.replace(/^\[(.*)\]$/, "$1"), env);
    return new WebdavBackend(root, credentials, options);
  }

  /**
   * Requests sent so far (each attempt), by method; PROPFIND is split by depth ("PROPFIND depth=infinity",
   * "PROPFIND depth=1", "PROPFIND depth=0") so benchmarks can check which listing strategy ran.
   */
  requestCounts(): Record<string, number> {
    return this.http.requestCounts();
  }

  async *list(): AsyncIterable<RemoteFile[]> {
    if (!this.depthInfinityRefused) {
      let yielded = false;
      const listing = new ResumableListing({
        open: () => this.openInfinity(),
        pathOf: this.relativePathOf,
        malformed: (what, detail) => this.http.malformed(what, detail),
        changed: (what) => new BackendError(`${this.displayUrl}: the listing changed while it was read (${what} was answered differently after a lost connection); run again`, { kind: "protocol" }),
      });
      try {
        let rootSeen = false;
        for (let entries = await this.http.retried(() => listing.next()); entries !== undefined; entries = await this.http.retried(() => listing.next())) {
          const files: RemoteFile[] = [];
          for (const entry of entries) {
            rootSeen ||= entry.path === "";
            this.addListed(entry, files, undefined);
          }
          if (files.length > 0) {
            yielded = true;
            yield files;
          }
        }
        if (!rootSeen) throw this.http.malformed(`PROPFIND ${this.rootPath}`, "the listing does not include the collection itself");
        return;
      } catch (error) {
        if (!(error instanceof DepthInfinityRefused) || yielded) throw error;
        this.depthInfinityRefused = true;
      } finally {
        listing.close();
      }
    }
    yield* this.listByCollection();
  }

  async stat(path: string): Promise<RemoteFile | undefined> {
    const entry = await this.http.retried(() => this.entryAt(path));
    return entry?.kind === "file" ? fileOf(entry) : undefined;
  }

  /**
   * Each file is deleted only if it is still as planned, checked by the server itself where it
   * can: a strong ETag goes in `If-Match` (a conditional DELETE, no window at all). With a weak
   * or no ETag (Apache's for files changed less than a second before it was asked, and servers
   * without ETags) a PROPFIND checks the file immediately before its DELETE, which carries the
   * ETag just read (`If-Match` if strong, else an RFC 4918 `If` header, which Apache compares
   * weakly): a round trip's window where a server honours neither. `If-Unmodified-Since` is not
   * used: Apache mod_dav compares it with the time of the request, not the file's, and refuses
   * every such DELETE.
   */
  async deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]> {
    // Were the root itself gone (moved, or the server reconfigured), every file would answer 404: "already gone".
    await (this.rootChecked ??= this.checkRoot().catch((error: unknown) => {
      this.rootChecked = undefined;
      throw error;
    }));
    let answered = false;
    let stop: unknown;
    const outcomes = await mapConcurrent(files, DELETE_CONCURRENCY, async (expected): Promise<DeleteOutcome> => {
      const { path } = expected;
      if (stop !== undefined) return { path, status: "failed", error: `not attempted: ${messageOf(stop)}` };
      try {
        const outcome = await this.deleteOne(expected);
        answered = true;
        return outcome;
      } catch (error) {
        // Refused credentials fail every file alike: the caller stops the run.
        if (error instanceof BackendError && error.kind === "auth") stop ??= error;
        return { path, status: "failed", error: messageOf(error) };
      }
    });
    // Credentials refused, or a server that went down before answering anything: the whole call could not be made.
    if (!answered) stop ??= this.http.downError;
    if (stop !== undefined) throw stop;
    return outcomes;
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // Uploaded beside the target and moved: an interrupted upload never leaves a partial object
    // under the final name (MOVE within one collection is a rename on every server we know).
    // The `.keeper-` + 8 hex digits form is how later runs recognise a leftover temporary.
    const temporary = `${path}.keeper-${randomBytes(4).toString("hex")}`;
    const parent = parentOf(path);
    await this.ensureCollection(parent);
    await this.http.retried(async () => {
      let uploaded = await this.http.fetch("PUT", this.urlOf(temporary), { body });
      if (uploaded.status === 409) {
        // The parent collection vanished since we created it (someone removed it): create it again.
        this.forgetCollections(parent);
        await this.ensureCollection(parent);
        uploaded = await this.http.fetch("PUT", this.urlOf(temporary), { body });
      }
      if (!isDone(uploaded)) throw this.http.statusError(uploaded);
    });
    try {
      await this.moveInPlace(temporary, path, data.byteLength);
    } catch (error) {
      await this.http.retried(() => this.http.fetch("DELETE", this.urlOf(temporary))).catch(() => undefined);
      throw error;
    }
  }

  async get(path: string): Promise<Uint8Array> {
    return this.http.retried(async () => {
      const answer = await this.http.fetch("GET", this.urlOf(path));
      if (answer.status === 404) throw new NotFoundError(path);
      if (!isDone(answer)) throw this.http.statusError(answer);
      return answer.body;
    });
  }

  async *read(path: string): AsyncIterable<Uint8Array> {
    // Retried until the answer starts; a body that then breaks off fails the read (a log is never read in part).
    const stream = await this.http.retried(async () => {
      const opened = await this.http.open("GET", this.urlOf(path));
      if (opened.status === 404 || !isDone(opened)) {
        opened.cancel();
        throw opened.status === 404 ? new NotFoundError(path) : this.http.statusError(opened);
      }
      return opened;
    });
    let complete = false;
    try {
      for (let chunk = await stream.next(); chunk !== undefined; chunk = await stream.next()) yield chunk;
      complete = true;
    } finally {
      if (!complete) stream.cancel();
    }
  }

  /** Returns a note when some collections were deliberately left in place (see webdav-collections.ts). */
  async removeEmptyDirs(dirs: readonly string[]): Promise<string | void> {
    return removeEmptyCollections(
      {
        http: this.http,
        displayUrl: this.displayUrl,
        collectionUrlOf: (dir) => this.collectionUrlOf(dir),
        readCollection: (dir) => this.readCollection(dir),
        forgot: (dir) => this.forgetCollections(dir),
      },
      dirs,
    );
  }

  async close(): Promise<void> {
    this.http.close();
  }

  private async openInfinity(): Promise<DavStream> {
    const stream = await this.http.open("PROPFIND", this.root.href, propfindRequest("infinity"));
    if (stream.status === 207) return stream;
    stream.cancel();
    if (stream.status === 403) throw new DepthInfinityRefused();
    throw this.listingError(stream);
  }

  /** Depth: 1 per collection, LIST_CONCURRENCY at a time, each retried on its own. */
  private async *listByCollection(): AsyncIterable<RemoteFile[]> {
    const results: (RemoteFile[] | Error)[] = [];
    const pending = [""];
    let active = 0;
    let stopped = false;
    let wake: (() => void) | undefined;
    const report = (item: RemoteFile[] | Error) => {
      results.push(item);
      wake?.();
    };
    const pump = () => {
      while (active < LIST_CONCURRENCY && pending.length > 0 && !stopped) {
        const dir = pending.pop()!;
        active++;
        this.http
          .retried(() => this.readCollection(dir))
          .then((collection) => {
            const files: RemoteFile[] = [];
            // A collection removed while we were listing (a concurrent cleanup) holds nothing.
            for (const entry of collection?.members ?? []) this.addListed(entry, files, pending);
            report(files);
          })
          .catch(report)
          .finally(() => {
            active--;
            pump();
            wake?.();
          });
      }
    };
    pump();
    try {
      for (;;) {
        if (results.length === 0 && active === 0 && pending.length === 0) return;
        if (results.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        // Leaf collections hold a handful of files each: yield whatever has arrived as one batch.
        const arrived = results.splice(0);
        const failure = arrived.find((item) => item instanceof Error);
        if (failure) throw failure;
        const batch = (arrived as RemoteFile[][]).flat();
        if (batch.length > 0) yield batch;
      }
    } finally {
      // A consumer that stops early (or a failure) must not leave the crawl running.
      stopped = true;
    }
  }

  /** One PROPFIND Depth: 1 attempt, from a complete answer that names the collection itself; undefined for a definite 404. */
  private async readCollection(dir: string): Promise<{ etag: string | undefined; members: DavEntry[] } | undefined> {
    const answer = await this.http.fetch("PROPFIND", this.collectionUrlOf(dir), propfindRequest("1"));
    if (answer.status === 404 && dir !== "") return undefined;
    if (answer.status !== 207) throw this.listingError(answer);
    const entries = this.entriesOf(answer);
    const self = entries.find((entry) => entry.path === dir);
    if (self?.kind !== "collection") throw this.http.malformed(answer.what, "the answer does not include the collection itself");
    return { etag: self.etag, members: entries.filter((entry) => entry !== self) };
  }

  private async checkRoot(): Promise<void> {
    const root = await this.http.retried(async () => {
      const answer = await this.http.fetch("PROPFIND", this.root.href, propfindRequest("0"));
      if (answer.status !== 207) throw this.listingError(answer);
      return this.entriesOf(answer).find((entry) => entry.path === "");
    });
    if (root?.kind !== "collection") throw new BackendError(`${this.displayUrl} is not a collection on the WebDAV server; check the path in the target URL`, { kind: "config" });
  }

  /** One PROPFIND Depth: 0 attempt: undefined only for a definite 404. */
  private async entryAt(path: string): Promise<DavEntry | undefined> {
    // PROPFIND rather than HEAD: the ETag and date then come from the same properties the listing
    // (and so the plan) recorded, where HEAD's headers may differ in form (weak/strong ETags).
    const answer = await this.http.fetch("PROPFIND", this.urlOf(path), propfindRequest("0"));
    if (answer.status === 404) return undefined;
    if (answer.status !== 207) throw this.http.statusError(answer);
    const entry = this.entriesOf(answer).find((e) => e.path === path);
    if (entry === undefined) throw this.http.malformed(answer.what, "the answer does not name the resource asked for");
    if (entry.status !== 200) throw this.http.malformed(answer.what, `the server could not read its properties (status ${entry.status})`);
    return entry;
  }

  private async deleteOne(expected: ExpectedFile): Promise<DeleteOutcome> {
    const { path } = expected;
    const answer = await this.http.retried(async (): Promise<DeleteOutcome | typeof PRECONDITION_FAILED> => {
      if (isStrong(expected.etag)) return this.conditionalDelete(path, expected.etag);
      const current = await this.entryAt(path);
      const change = changeOf(expected, current);
      if (current === undefined || change !== undefined) return change === undefined ? { path, status: "missing" } : { path, status: "changed", reason: change };
      return this.conditionalDelete(path, current.etag);
    });
    if (answer !== PRECONDITION_FAILED) return answer;
    // Refused: changed, or gone (our own earlier attempt may have deleted it and lost the answer).
    const current = await this.http.retried(() => this.entryAt(path));
    if (current === undefined) return { path, status: "missing" };
    return { path, status: "changed", reason: changeOf(expected, current) ?? "the server refused the conditional DELETE: it is no longer as planned" };
  }

  /** One DELETE attempt, conditional on `etag` where there is one. */
  private async conditionalDelete(path: string, etag: string | undefined): Promise<DeleteOutcome | typeof PRECONDITION_FAILED> {
    const url = this.urlOf(path);
    const headers: Record<string, string> = {};
    if (isStrong(etag)) headers["If-Match"] = etag;
    else if (etag !== undefined) headers["If"] = `<${url}> ([${etag}])`;
    const answer = await this.http.fetch("DELETE", url, { headers });
    if (isDone(answer)) return { path, status: "deleted" };
    if (answer.status === 404) return { path, status: "missing" };
    if (answer.status === 412) return PRECONDITION_FAILED;
    throw this.http.statusError(answer);
  }

  private async moveInPlace(temporary: string, path: string, size: number): Promise<void> {
    let attempts = 0;
    await this.http.retried(async () => {
      attempts++;
      const moved = await this.http.fetch("MOVE", this.urlOf(temporary), { headers: { Destination: this.urlOf(path), Overwrite: "T" } });
      if (isDone(moved)) return;
      // An earlier attempt moved it and its answer was lost: the temporary is gone, the object in place.
      if (moved.status === 404 && attempts > 1) {
        const placed = await this.entryAt(path);
        if (placed?.kind === "file" && placed.size === size) return;
      }
      throw this.http.statusError(moved);
    });
  }

  /** Files go to `files`; sub-collections to `collections` (when listing one level at a time). */
  private addListed(entry: DavEntry, files: RemoteFile[], collections: string[] | undefined): void {
    if (entry.status !== 200) {
      // An incomplete listing could make "keep the newest N" policies delete what they should keep.
      throw new BackendError(`WebDAV server could not list ${this.urlOf(entry.path)} (status ${entry.status}); check its permissions`, { kind: "config" });
    }
    if (entry.kind === "file") {
      if (entry.path === "") throw new BackendError(`${this.displayUrl} is a file, not a collection; the target must be the sstate cache directory`, { kind: "config" });
      files.push(fileOf(entry));
    } else if (entry.kind === "collection" && entry.path !== "") {
      collections?.push(entry.path);
    }
  }

  private ensureCollection(dir: string): Promise<void> {
    if (dir === "") return Promise.resolve();
    let ready = this.collections.get(dir);
    if (!ready) {
      ready = this.ensureCollection(parentOf(dir)).then(() => this.makeCollection(dir));
      ready.catch(() => this.collections.delete(dir));
      this.collections.set(dir, ready);
    }
    return ready;
  }

  private async makeCollection(dir: string): Promise<void> {
    await this.http.retried(async () => {
      const answer = await this.http.fetch("MKCOL", this.collectionUrlOf(dir));
      // 405: it exists already (RFC 4918 §9.3.1), perhaps made by an attempt whose answer was lost.
      if (!isDone(answer) && answer.status !== 405) throw this.http.statusError(answer);
    });
  }

  private forgetCollections(dir: string): void {
    for (const known of this.collections.keys()) if (known === dir || known.startsWith(`${dir}/`)) this.collections.delete(known);
    for (let d = dir; d !== ""; d = parentOf(d)) this.collections.delete(d);
  }

  private listingError(answer: { status: number; what: string }): BackendError {
    if (answer.status === 404) return new BackendError(`${this.displayUrl}: no such collection on the WebDAV server (404); check the path in the target URL`, { kind: "config" });
    return this.http.statusError(answer);
  }

  private entriesOf(answer: DavAnswer): DavEntry[] {
    try {
      return parseMultistatus(answer.body.toString("utf8"), this.relativePathOf);
    } catch (error) {
      if (error instanceof MultistatusError) throw this.http.malformed(answer.what, error.message);
      throw error;
    }
  }

  /** Undefined for hrefs outside the root (servers do not send those, but a proxy might rewrite them). */
  private readonly relativePathOf = (href: string): string | undefined => {
    const pathname = href.startsWith("/") ? href : new URL(href, this.root).pathname;
    // Servers differ in what they percent-encode (':' in sstate names, spaces): compare decoded paths.
    const decoded = decodePath(pathname);
    if (!decoded.startsWith(this.rootPath)) return decoded === this.rootPath.slice(0, -1) ? "" : undefined;
    return decoded.endsWith("/") ? decoded.slice(this.rootPath.length, -1) : decoded.slice(this.rootPath.length);
  };

  private urlOf(path: string): string {
    const segments = path.split("/");
    // Plans are checked to lie inside the root; this keeps any other path from leaving it too.
    if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) throw new BackendError(`'${path}' is not a path inside ${this.displayUrl}`, { kind: "config" });
    return this.root.href + segments.map(encodeURIComponent).join("/");
  }

  private collectionUrlOf(dir: string): string {
    return dir === "" ? this.root.href : `${this.urlOf(dir)}/`;
  }
}

function propfindRequest(depth: Depth) {
  return { headers: { Depth: depth, "Content-Type": 'application/xml; charset="utf-8"' }, body: PROPFIND_BODY, counter: `PROPFIND depth=${depth}` };
}

/** Why a file is no longer the one planned (undefined: it is, or it is gone). */
function changeOf(expected: ExpectedFile, current: DavEntry | undefined): string | undefined {
  if (current === undefined) return undefined;
  if (current.kind !== "file") return `it is now a ${current.kind === "collection" ? "collection" : "placeholder without content"}, not the planned file`;
  return changeSincePlanning(expected, fileOf(current));
}

function isStrong(etag: string | undefined): etag is string {
  return etag !== undefined && !etag.startsWith("W/");
}

function fileOf(entry: DavEntry): RemoteFile {
  const file: RemoteFile = { path: entry.path, size: entry.size, mtimeMs: entry.mtimeMs };
  if (entry.etag !== undefined) file.etag = entry.etag;
  return file;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** 2xx but 207: a multistatus answer to a write means parts of it failed. */
function isDone(answer: { status: number }): boolean {
  return answer.status >= 200 && answer.status < 300 && answer.status !== 207;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
