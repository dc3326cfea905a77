import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { mapConcurrent } from "../util/concurrency.ts";
import { retrying, type RetryPolicy, withRetries } from "../util/retry.ts";
import { type Backend, BackendError, type DeleteOutcome, type ExpectedFile, NotFoundError, type OpenOptions, type RemoteFile, type Timeouts } from "./backend.ts";
import { changeSincePlanning } from "./precondition.ts";
import type { Env } from "./registry.ts";
import { s3ClientConfig } from "./s3-config.ts";
import { errorSummary, isCredentialFailure, isRequestFailure, isTransient, isTransientCode, isUnreachable, MalformedAnswerError, missingBucket, requestFailure } from "./s3-errors.ts";
import { commonPrefix, compareKeys, isXmlSafeKey, keyBefore } from "./s3-keys.ts";
import { type ListedObject, type ListedPage, scanListAnswer, secondsOf } from "./s3-list-answer.ts";
import { type KeyRange, splitPoints } from "./s3-ranges.ts";
import { displayUrlOf, type S3Location } from "./s3-location.ts";

/** Listing streams at once, each a key range: SPEC §8 asks for ≥ 8 requests in flight; more buys little on one endpoint. */
const LIST_CONCURRENCY = 8;
const DELETE_CONCURRENCY = 8;
/** The S3 maximum for one DeleteObjects request. */
const DELETE_BATCH = 1000;
/** Listed pages (≤ 1000 files each) buffered ahead of a slow consumer before listing pauses. */
const MAX_QUEUED_PAGES = 64;
/** HeadObject (and single DeleteObject) requests at once. */
const STAT_CONCURRENCY = 16;
/**
 * statMany lists at most one page per this many paths asked for before it HEADs the rest: a
 * batch of 1000 deletions from a million-object bucket with 85k of them spans about 12 pages.
 */
const LISTED_OBJECTS_PER_PAGE = 50;

/** A deletion's outcome, and whether trying again (after checking the object again) may still delete it. */
interface DeleteAttempt {
  outcome: DeleteOutcome;
  again: boolean;
}

/**
 * An sstate cache in an S3 bucket (AWS or an S3-compatible server such as Ceph radosgw).
 * Every request is retried on transient failures (throttling, server errors, resets, timeouts,
 * truncated answers) within the operation budget; refused credentials fail at once.
 */
export class S3Backend implements Backend {
  readonly displayUrl: string;
  private readonly client: S3Client;
  private readonly location: S3Location;
  private readonly keyPrefix: string;
  private readonly endpoint: string;
  private readonly timeouts: Timeouts;
  private readonly retry: RetryPolicy;
  private readonly counts: Record<string, number> = {};
  private inFlight = 0;
  private peakInFlight = 0;

  private constructor(location: S3Location, config: S3ClientConfig, endpoint: string, timeouts: Timeouts, retry: RetryPolicy) {
    this.location = location;
    this.keyPrefix = location.prefix === "" ? "" : `${location.prefix}/`;
    this.displayUrl = displayUrlOf(location);
    this.endpoint = endpoint;
    this.timeouts = timeouts;
    this.retry = retry;
    this.client = new S3Client(config);
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? "unknown").replace(/Command$/, "");
        this.counts[command] = (this.counts[command] ?? 0) + 1;
        this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlight);
        try {
          return await next(args);
        } finally {
          this.inFlight--;
        }
      },
      { step: "deserialize", name: "sstateKeeperRequestCounter" },
    );
  }

  /** Connects and checks the bucket is reachable with these credentials, so mistakes surface before any work. */
  static async open(location: S3Location, env: Env, pathStyle: boolean | undefined, options: OpenOptions): Promise<S3Backend> {
    const { config, endpoint, retry } = s3ClientConfig(env, pathStyle, options);
    const backend = new S3Backend(location, config, endpoint, options.timeouts, retry);
    try {
      // Credentials from a profile or the instance are learnt here: registered so that no message prints them.
      const identity = await backend.request("credentials", backend.displayUrl, () => backend.client.config.credentials());
      options.secrets.add(identity.secretAccessKey);
      options.secrets.add(identity.sessionToken);
      await backend.request("HeadBucket", backend.displayUrl, async () => answered200(await backend.client.send(new HeadBucketCommand({ Bucket: location.bucket })), "HeadBucket"), {
        // HEAD answers carry no error code: a 404 here can only mean the bucket.
        notFound: (error) => {
          throw missingBucket(location.bucket, endpoint, error);
        },
        // At first contact a refused connection means a wrong endpoint: say so at once.
        retryUnreachable: false,
      });
    } catch (error) {
      backend.client.destroy();
      throw error;
    }
    return backend;
  }

  /** HTTP requests sent so far (retries included), by S3 operation, e.g. `{ ListObjectsV2: 12 }`. */
  requestCounts(): Record<string, number> {
    return { ...this.counts };
  }

  /** The most requests this backend has had in flight at once. */
  peakRequestsInFlight(): number {
    return this.peakInFlight;
  }

  /**
   * Lists the keys in order, 1000 a page, without delimiter: a cache of up to 1000 files takes
   * one request. After each page, while fewer than LIST_CONCURRENCY streams run, the rest of a
   * stream's key range is split where each part will probably hold several pages (s3-ranges.ts),
   * each part listed by a stream of its own from StartAfter its first boundary.
   * Requests: ≤ ⌈N/1000⌉ + one per stream (its last page runs past its range).
   */
  async *list(): AsyncIterable<RemoteFile[]> {
    const pages = new PageQueue();
    this.listAll(pages).then(
      () => pages.end(),
      (error: unknown) => pages.fail(error),
    );
    try {
      for (;;) {
        const page = await pages.take();
        if (page === undefined) return;
        yield page;
      }
    } finally {
      pages.close();
    }
  }

  async stat(path: string, deadline?: number): Promise<RemoteFile | undefined> {
    return this.request(
      "HeadObject",
      this.urlOf(path),
      async () => {
        const head = answered200(await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path) })), "HeadObject");
        const file: RemoteFile = { path, size: head.ContentLength ?? 0, mtimeMs: secondsOf(head.LastModified?.getTime() ?? 0) };
        if (head.ETag !== undefined) file.etag = head.ETag;
        return file;
      },
      { deadline, notFound: () => undefined },
    );
  }

  /**
   * Lists the key range from the first to the last path (a plan batch is sorted, so that is a
   * thin slice of the bucket) and HEADs only what the listing did not reach: a sparse batch
   * spread over a big bucket would need more pages than objects, so the listing stops after
   * one page per LISTED_OBJECTS_PER_PAGE paths asked for.
   */
  async statMany(paths: readonly string[], deadline?: number): Promise<(RemoteFile | undefined)[]> {
    const sorted = [...paths].sort(compareKeys);
    const first = sorted[0];
    const last = sorted.at(-1);
    if (first === undefined || last === undefined || paths.length < 2) return mapConcurrent(paths, STAT_CONCURRENCY, (path) => this.stat(path, deadline));
    const found = new Map<string, RemoteFile>();
    let listedThrough: string | undefined;
    let complete = false;
    let token: string | undefined;
    const maxPages = Math.ceil(paths.length / LISTED_OBJECTS_PER_PAGE);
    const prefix = this.keyPrefix + commonPrefix(first, last);
    for (let pages = 0; pages < maxPages && !complete; pages++) {
      const page = await this.listPage(prefix, token, token === undefined ? keyBefore(this.keyOf(first)) : undefined, deadline);
      for (const file of this.filesOf(page.objects)) found.set(file.path, file);
      const lastKey = page.objects.at(-1)?.key;
      if (lastKey !== undefined) listedThrough = lastKey.slice(this.keyPrefix.length);
      token = page.next;
      complete = token === undefined || (listedThrough !== undefined && compareKeys(listedThrough, last) >= 0);
    }
    const reached = (path: string) => complete || (listedThrough !== undefined && compareKeys(path, listedThrough) <= 0);
    return mapConcurrent(paths, STAT_CONCURRENCY, async (path) => (reached(path) ? found.get(path) : this.stat(path, deadline)));
  }

  /**
   * Checks the files with one listing of their key range (statMany) right before deleting the
   * unchanged ones: with DeleteObjects, each key conditional on the planned ETag where the plan
   * has one (AWS honours it; radosgw 16 ignores it), or one DeleteObject for a key that XML
   * cannot carry. Keys that fail transiently are checked again and retried, within the budget.
   */
  async deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]> {
    const deadline = this.retry.now() + this.retry.budgetMs;
    const outcomes = new Map<string, DeleteOutcome>();
    const { unsettled, error } = await retrying(
      files,
      async (pending) => {
        const current = await this.statMany(pending.map((file) => file.path), deadline);
        const unchanged: ExpectedFile[] = [];
        pending.forEach((expected, index) => {
          const found = current[index];
          const change = found === undefined ? undefined : changeSincePlanning(expected, found);
          if (found === undefined) outcomes.set(expected.path, { path: expected.path, status: "missing" });
          else if (change !== undefined) outcomes.set(expected.path, { path: expected.path, status: "changed", reason: change });
          else unchanged.push(expected);
        });
        const attempts = await this.deleteUnchanged(unchanged);
        attempts.forEach((attempt) => outcomes.set(attempt.outcome.path, attempt.outcome));
        return unchanged.filter((_, index) => attempts[index]!.again);
      },
      this.retry,
      // statMany has retried its own requests, and what deleting throws (refused credentials) is final.
      () => false,
    );
    if (error !== undefined) {
      // Nothing done yet, refused credentials, or a bug: the call as a whole failed.
      if (outcomes.size === 0 || !(error instanceof BackendError) || error.kind === "auth") throw error;
      const reason = error instanceof Error ? error.message : String(error);
      for (const file of unsettled) outcomes.set(file.path, { path: file.path, status: "failed", error: reason });
    }
    return files.map((file) => outcomes.get(file.path)!);
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    // A single PutObject is atomic: the key shows the old object or the whole new one, never a part.
    await this.request("PutObject", this.urlOf(path), () => this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path), Body: data, ContentLength: data.length })));
  }

  async get(path: string): Promise<Uint8Array> {
    return this.request(
      "GetObject",
      this.urlOf(path),
      async () => {
        const object = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path) }));
        // Read inside the attempt: a body cut short is retried like any lost answer.
        return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
      },
      {
        notFound: () => {
          throw new NotFoundError(path);
        },
      },
    );
  }

  async *read(path: string): AsyncIterable<Uint8Array> {
    const object = await this.request("GetObject", this.urlOf(path), () => this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path) })), {
      notFound: () => {
        throw new NotFoundError(path);
      },
    });
    const body = object.Body as AsyncIterable<Uint8Array> | undefined;
    if (body === undefined) return;
    try {
      for await (const chunk of body) yield chunk;
    } catch (error) {
      throw new BackendError(`S3 endpoint ${this.endpoint} broke off GetObject ${this.urlOf(path)} (connection lost?): ${errorSummary(error, this.timeouts)}`, { kind: "unavailable", cause: error });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /**
   * Sends one request with retries: transient failures are tried again with backoff, no attempt
   * starting after the operation budget (or `deadline`); the final failure becomes one line.
   * `notFound` answers a definite 404 (not a missing bucket).
   */
  private async request<T>(
    operation: string,
    subject: string,
    send: () => Promise<T>,
    options: { deadline?: number | undefined; notFound?: (error: unknown) => T; retryUnreachable?: boolean } = {},
  ): Promise<T> {
    const startedAt = this.retry.now();
    const policy = options.deadline === undefined ? this.retry : { ...this.retry, budgetMs: options.deadline - startedAt };
    let attempts = 0;
    try {
      return await withRetries(
        () => {
          attempts++;
          return send();
        },
        options.retryUnreachable === false ? (error) => isTransient(error) && !isUnreachable(error) : isTransient,
        policy,
      );
    } catch (error) {
      if (options.notFound !== undefined && isNotFound(error)) return options.notFound(error);
      if (!isRequestFailure(error)) throw error;
      throw requestFailure(error, { operation, subject, endpoint: this.endpoint, bucket: this.location.bucket, timeouts: this.timeouts, attempts, elapsedMs: this.retry.now() - startedAt });
    }
  }

  private listAll(pages: PageQueue): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let active = 0;
      const start = (range: KeyRange) => {
        active++;
        this.listRange(range, pages, () => LIST_CONCURRENCY - active, start).then(() => {
          if (--active === 0) resolve();
        }, reject);
      };
      start({ after: undefined, through: undefined });
    });
  }

  /**
   * Lists one key range in pages; after each, hands parts of the rest to `start` (at most `free()`
   * of them), keeping the first part. S3 lists keys in order: the first key past the range ends it.
   */
  private async listRange(range: KeyRange, pages: PageQueue, free: () => number, start: (range: KeyRange) => void): Promise<void> {
    let token: string | undefined;
    let through = range.through;
    do {
      if (pages.closed) return;
      const page = await this.listPage(this.keyPrefix, token, token === undefined ? range.after : undefined);
      const past = through === undefined ? -1 : page.objects.findIndex((object) => compareKeys(object.key, through!) > 0);
      const objects = past === -1 ? page.objects : page.objects.slice(0, past);
      const files = this.filesOf(objects);
      if (files.length > 0) await pages.put(files);
      if (past !== -1) return;
      token = page.next;
      if (token === undefined) return;
      const boundaries = splitPoints(this.keyPrefix, objects.map((object) => object.key), through, objects.length, free() + 1);
      boundaries.forEach((boundary, index) => start({ after: boundary, through: boundaries[index + 1] ?? through }));
      through = boundaries[0] ?? through;
    } while (!pages.closed);
  }

  /**
   * One ListObjectsV2 page, URL-encoded so that any key arrives intact, checked and decoded by
   * scanListAnswer: its body is taken from the SDK before the SDK's own (far slower) parse, which
   * then reads an empty result. Error answers are left to the SDK.
   */
  private async listPage(prefix: string, token: string | undefined, startAfter: string | undefined, deadline?: number): Promise<ListedPage> {
    return this.request(
      "ListObjectsV2",
      this.displayUrl,
      async () => {
        const command = new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          StartAfter: startAfter === "" ? undefined : startAfter,
          EncodingType: "url",
        });
        let page: ListedPage | undefined;
        command.middlewareStack.add(
          (next) => async (args) => {
            const result = await next(args);
            const response = result.response as { statusCode?: number; body?: AsyncIterable<Uint8Array> };
            if (response.statusCode === 200 && response.body !== undefined) {
              page = scanListAnswer(await textOf(response.body));
              response.body = Readable.from([EMPTY_LISTING]);
            }
            return result;
          },
          // Low priority in the deserialize step: inside the SDK's deserializer, next to the raw answer.
          { step: "deserialize", priority: "low", name: "sstateKeeperListingScanner" },
        );
        await this.client.send(command);
        if (page === undefined) throw new MalformedAnswerError("a ListObjectsV2 answer without a body");
        return page;
      },
      { deadline },
    );
  }

  private filesOf(objects: readonly ListedObject[]): RemoteFile[] {
    const files: RemoteFile[] = [];
    for (const object of objects) {
      // Keys ending in "/" are the empty "folder" markers some S3 consoles create, not files.
      if (object.key.endsWith("/")) continue;
      const file: RemoteFile = { path: object.key.slice(this.keyPrefix.length), size: object.size, mtimeMs: object.mtimeMs };
      if (object.etag !== undefined) file.etag = object.etag;
      files.push(file);
    }
    return files;
  }

  /** One attempt at deleting each file (checked just before), in the files' order. */
  private async deleteUnchanged(files: readonly ExpectedFile[]): Promise<DeleteAttempt[]> {
    const attempts = new Map<string, DeleteAttempt>();
    const batchable = files.filter((file) => isXmlSafeKey(this.keyOf(file.path)));
    const single = files.filter((file) => !isXmlSafeKey(this.keyOf(file.path)));
    const batches: ExpectedFile[][] = [];
    for (let i = 0; i < batchable.length; i += DELETE_BATCH) batches.push(batchable.slice(i, i + DELETE_BATCH));
    await Promise.all([
      mapConcurrent(batches, DELETE_CONCURRENCY, async (batch) => (await this.deleteBatch(batch)).forEach((attempt) => attempts.set(attempt.outcome.path, attempt))),
      mapConcurrent(single, STAT_CONCURRENCY, async (file) => attempts.set(file.path, await this.deleteOne(file))),
    ]);
    return files.map((file) => attempts.get(file.path)!);
  }

  /** One DeleteObjects request (a single attempt: what fails transiently is checked again before the next). */
  private async deleteBatch(files: readonly ExpectedFile[]): Promise<DeleteAttempt[]> {
    let answer;
    try {
      answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.location.bucket,
          Delete: { Quiet: false, Objects: files.map((file) => ({ Key: this.keyOf(file.path), ...(file.etag !== undefined ? { ETag: file.etag } : {}) })) },
        }),
      );
    } catch (error) {
      const failed = this.deleteFailure(error, "DeleteObjects", this.displayUrl);
      return files.map((file) => ({ outcome: { path: file.path, status: "failed", error: failed.error }, again: failed.again }));
    }
    const byKey = new Map<string, DeleteAttempt>();
    for (const deleted of answer.Deleted ?? []) {
      if (deleted.Key !== undefined) byKey.set(deleted.Key, { outcome: { path: deleted.Key.slice(this.keyPrefix.length), status: "deleted" }, again: false });
    }
    for (const failure of answer.Errors ?? []) {
      if (failure.Key !== undefined) byKey.set(failure.Key, keyFailure(failure.Key.slice(this.keyPrefix.length), failure.Code, "DeleteObjects"));
    }
    return files.map((file) => byKey.get(this.keyOf(file.path)) ?? { outcome: { path: file.path, status: "failed", error: "S3 DeleteObjects reported no outcome for it" }, again: true });
  }

  /** One DeleteObject, conditional on the planned ETag where there is one: for a key that cannot travel in XML. */
  private async deleteOne(file: ExpectedFile): Promise<DeleteAttempt> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(file.path), ...(file.etag !== undefined ? { IfMatch: file.etag } : {}) }));
      return { outcome: { path: file.path, status: "deleted" }, again: false };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || status === 412) return keyFailure(file.path, status === 404 ? "NoSuchKey" : "PreconditionFailed", "DeleteObject");
      const failed = this.deleteFailure(error, "DeleteObject", this.urlOf(file.path));
      return { outcome: { path: file.path, status: "failed", error: failed.error }, again: failed.again };
    }
  }

  /** A delete request that failed as a whole: refused credentials stop everything, anything else fails (or retries) its keys. */
  private deleteFailure(error: unknown, operation: string, subject: string): { error: string; again: boolean } {
    if (!isRequestFailure(error)) throw error;
    if (isCredentialFailure(error)) {
      throw requestFailure(error, { operation, subject, endpoint: this.endpoint, bucket: this.location.bucket, timeouts: this.timeouts, attempts: 1, elapsedMs: 0 });
    }
    return { error: `S3 ${operation} failed at ${this.endpoint}: ${errorSummary(error, this.timeouts)}`, again: isTransient(error) };
  }

  private keyOf(path: string): string {
    return this.keyPrefix + path;
  }

  private urlOf(path: string): string {
    return `s3://${this.location.bucket}/${this.keyOf(path)}`;
  }
}

/** Per-key codes of a delete answer that mean something other than "failed". */
function keyFailure(path: string, code: string | undefined, operation: string): DeleteAttempt {
  switch (code) {
    // AWS reports an absent key as deleted; a server that says NoSuchKey means the same.
    case "NoSuchKey":
      return { outcome: { path, status: "missing" }, again: false };
    case "PreconditionFailed":
      return { outcome: { path, status: "changed", reason: "its ETag no longer is the planned one (S3 PreconditionFailed): the object was rewritten since planning" }, again: false };
  }
  return { outcome: { path, status: "failed", error: `S3 ${operation} answered ${code ?? "an error without a code"} for it` }, again: isTransientCode(code) };
}

/** What the SDK reads in place of a listing body the backend has scanned. */
const EMPTY_LISTING = new TextEncoder().encode("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");

/** A whole answer body, as UTF-8 text. */
async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A HEAD answer has no body to check: anything but 200 (a 207 from a WebDAV server, say) is not S3 answering. */
function answered200<T extends { $metadata: { httpStatusCode?: number } }>(answer: T, operation: string): T {
  if (answer.$metadata.httpStatusCode !== 200) throw new MalformedAnswerError(`a ${operation} answer with HTTP ${answer.$metadata.httpStatusCode}`);
  return answer;
}

function isNotFound(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return $metadata?.httpStatusCode === 404 && name !== "NoSuchBucket";
}

/**
 * Hands listed pages from the listing workers to the consumer. Workers wait while the
 * consumer is MAX_QUEUED_PAGES behind, and stop once it has gone (closed).
 */
class PageQueue {
  closed = false;
  private readonly pages: RemoteFile[][] = [];
  private finished = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducers: (() => void)[] = [];

  async put(page: RemoteFile[]): Promise<void> {
    while (this.pages.length >= MAX_QUEUED_PAGES && !this.closed) await new Promise<void>((wake) => this.wakeProducers.push(wake));
    this.pages.push(page);
    this.wakeConsumer?.();
  }

  async take(): Promise<RemoteFile[] | undefined> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      const page = this.pages.shift();
      if (page !== undefined) {
        this.wakeProducers.splice(0).forEach((wake) => wake());
        return page;
      }
      if (this.finished) return undefined;
      await new Promise<void>((wake) => (this.wakeConsumer = wake));
    }
  }

  end(): void {
    this.finished = true;
    this.wakeConsumer?.();
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.close();
    this.wakeConsumer?.();
  }

  close(): void {
    this.closed = true;
    this.wakeProducers.splice(0).forEach((wake) => wake());
  }
}
