import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type _Object as S3Object,
} from "@aws-sdk/client-s3";
import { compareCodeUnits } from "../util/compare.ts";
import { mapConcurrent } from "../util/concurrency.ts";
import { BackendError, NotFoundError, type Backend, type DeleteOutcome, type ExpectedFile, type OpenOptions, type RemoteFile } from "./backend.ts";
import { changeSincePlanning } from "./precondition.ts";
import { DEFAULT_RETRY, retrying } from "../util/retry.ts";
import type { Env } from "./registry.ts";
import { displayUrlOf, type S3Location } from "./s3-target.ts";

/** Prefixes listed at once: SPEC §8 asks for ≥ 8 requests in flight; more buys little on one endpoint. */
const LIST_CONCURRENCY = 16;
const DELETE_CONCURRENCY = 8;
/** The S3 maximum for one DeleteObjects request. */
const DELETE_BATCH = 1000;
/** Listed pages (≤ 1000 files each) buffered ahead of a slow consumer before listing pauses. */
const MAX_QUEUED_PAGES = 64;
/** HeadObject requests at once when a batch is not answered by one listing. */
const STAT_CONCURRENCY = 16;
/**
 * statMany lists at most one page per this many paths asked for before it HEADs the rest: a
 * batch of 1000 deletions from a million-object bucket with 85k of them spans about 12 pages.
 */
const LISTED_OBJECTS_PER_PAGE = 50;
const ASCII = /^[\x00-\x7f]*$/;
/** Attempts per request (the SDK backs off exponentially with jitter); AWS_MAX_ATTEMPTS overrides. */
const DEFAULT_MAX_ATTEMPTS = 5;

const HASH_DIR = /^[0-9a-f]{2}\/$/;
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
const TLS_CODES = new Set([
  "EPROTO",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);
const CREDENTIAL_CODES = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "TokenRefreshRequired"]);
const TRANSIENT_CODES = new Set(["SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling", "TimeoutError", "ECONNRESET", "ETIMEDOUT", "EPIPE"]);

/** One unit of listing work: a key prefix and how to list it. */
interface ListTask {
  prefix: string;
  /**
   * "root" and "nativelsb" are listed with Delimiter "/" to discover the directories below them
   * (hash directories, or `universal/`-style ones whose hash directories lie one level deeper);
   * a "tree" is listed whole, without delimiter.
   */
  kind: "root" | "nativelsb" | "tree";
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** An sstate cache in an S3 bucket (AWS or an S3-compatible server such as Ceph radosgw). */
export class S3Backend implements Backend {
  readonly displayUrl: string;
  private readonly client: S3Client;
  private readonly location: S3Location;
  private readonly keyPrefix: string;
  private readonly endpointLabel: string;
  private readonly counts: Record<string, number> = {};
  private inFlight = 0;
  private peakInFlight = 0;

  private constructor(location: S3Location, config: S3ClientConfig, endpointLabel: string) {
    this.location = location;
    this.keyPrefix = location.prefix === "" ? "" : `${location.prefix}/`;
    this.displayUrl = displayUrlOf(location);
    this.endpointLabel = endpointLabel;
    this.client = new S3Client(config);
    // In the deserialize step, inside the SDK's retry loop: every HTTP attempt is counted.
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
    const { config, endpointLabel } = s3ClientConfig(env, pathStyle, options);
    // The SDK warns on stderr that Node 20 support ends in 2027 (process.emitWarning, once per
    // process, when a client is built); this documented switch keeps it out of our output.
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
    const backend = new S3Backend(location, config, endpointLabel);
    try {
      await backend.client.send(new HeadBucketCommand({ Bucket: location.bucket }));
    } catch (error) {
      backend.client.destroy();
      // HEAD answers carry no error code: a 404 here can only mean the bucket.
      if ((error as SdkError).$metadata?.httpStatusCode === 404) throw backend.missingBucket(error);
      throw backend.backendError(error, "HeadBucket");
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
   * Lists the root's first page; a cache of up to 1000 files is then complete. A bigger one is
   * listed by directory: Delimiter "/" at the root discovers the hash directories (and, one level
   * below `universal/`-style directories, theirs), then each hash directory is listed whole,
   * paginated, LIST_CONCURRENCY at once, skipping the keys the first page had.
   * Requests: ≤ ⌈N/1000⌉ + one per hash directory + the discovery listings.
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

  async stat(path: string): Promise<RemoteFile | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path) }));
      const file: RemoteFile = { path, size: head.ContentLength ?? 0, mtimeMs: secondsOf(head.LastModified) };
      if (head.ETag !== undefined) file.etag = head.ETag;
      return file;
    } catch (error) {
      if ((error as SdkError).$metadata?.httpStatusCode === 404) return undefined;
      throw this.backendError(error, `HeadObject ${this.urlOf(path)}`);
    }
  }

  /**
   * Lists the key range from the first to the last path (a plan batch is sorted, so that is a
   * thin slice of the bucket) and HEADs only what the listing did not reach: a sparse batch
   * spread over a big bucket would need more pages than objects, so the listing stops after
   * one page per LISTED_OBJECTS_PER_PAGE paths asked for.
   */
  async statMany(paths: readonly string[]): Promise<(RemoteFile | undefined)[]> {
    const sorted = [...paths].sort(compareCodeUnits);
    const first = sorted[0];
    const last = sorted.at(-1);
    // S3 orders keys by UTF-8 bytes, JavaScript by UTF-16 units: the same for ASCII, which sstate names are.
    if (first === undefined || last === undefined || paths.length < 2 || !sorted.every((path) => ASCII.test(path))) return mapConcurrent(paths, STAT_CONCURRENCY, (path) => this.stat(path));
    const found = new Map<string, RemoteFile>();
    let listedThrough = "";
    let complete = false;
    let token: string | undefined;
    const maxPages = Math.ceil(paths.length / LISTED_OBJECTS_PER_PAGE);
    // A key just before the first path: its own prefix sorts before it.
    const startAfter = this.keyOf(first).slice(0, -1);
    for (let pages = 0; pages < maxPages && !complete; pages++) {
      const page = await this.listPage({ prefix: this.keyPrefix + commonPrefix(first, last), kind: "tree" }, token, token === undefined ? startAfter : undefined);
      for (const file of this.filesOf(page.Contents, undefined)) {
        found.set(file.path, file);
        listedThrough = file.path;
      }
      token = page.NextContinuationToken;
      complete = !page.IsTruncated || token === undefined || listedThrough >= last;
    }
    return mapConcurrent(paths, STAT_CONCURRENCY, async (path) => (complete || path <= listedThrough ? found.get(path) : this.stat(path)));
  }

  /**
   * Checks the files with one listing of their key range (statMany), then deletes the unchanged
   * ones with DeleteObjects, retrying the keys S3 reports as failing transiently.
   */
  async deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]> {
    const current = await this.statMany(files.map((file) => file.path));
    const outcomes = new Map<string, DeleteOutcome>();
    const unchanged: string[] = [];
    files.forEach((expected, index) => {
      const found = current[index];
      const change = found === undefined ? undefined : changeSincePlanning(expected, found);
      if (found === undefined) outcomes.set(expected.path, { path: expected.path, status: "missing" });
      else if (change !== undefined) outcomes.set(expected.path, { path: expected.path, status: "changed", reason: change });
      else unchanged.push(expected.path);
    });
    const batches: string[][] = [];
    for (let i = 0; i < unchanged.length; i += DELETE_BATCH) batches.push(unchanged.slice(i, i + DELETE_BATCH));
    await mapConcurrent(batches, DELETE_CONCURRENCY, async (batch) => {
      await retrying(
        batch,
        async (paths) => {
          const transient: string[] = [];
          for (const outcome of await this.deleteBatch(paths)) {
            outcomes.set(outcome.outcome.path, outcome.outcome);
            if (outcome.transient) transient.push(outcome.outcome.path);
          }
          return transient;
        },
        DEFAULT_RETRY,
      );
    });
    return files.map((file) => outcomes.get(file.path)!);
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    // A single PutObject is atomic: the key shows the old object or the whole new one, never a part.
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path), Body: data, ContentLength: data.length }));
    } catch (error) {
      throw this.backendError(error, `PutObject ${this.urlOf(path)}`);
    }
  }

  async get(path: string): Promise<Uint8Array> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(path) }));
      return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (error) {
      if ((error as SdkError).name === "NoSuchKey" || (error as SdkError).$metadata?.httpStatusCode === 404) throw new NotFoundError(path);
      throw this.backendError(error, `GetObject ${this.urlOf(path)}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async listAll(pages: PageQueue): Promise<void> {
    // Small caches fit in one page: take it first and fan out only when there is more.
    const first = await this.listPage({ prefix: this.keyPrefix, kind: "tree" }, undefined, undefined);
    const firstFiles = this.filesOf(first.Contents, undefined);
    if (firstFiles.length > 0) await pages.put(firstFiles);
    if (!first.IsTruncated) return;
    const seenThrough = first.Contents?.at(-1)?.Key;
    const tasks: ListTask[] = [{ prefix: this.keyPrefix, kind: "root" }];
    let active = 0;
    await new Promise<void>((resolve, reject) => {
      const pump = () => {
        while (active < LIST_CONCURRENCY && tasks.length > 0 && !pages.closed) {
          const task = tasks.shift()!;
          active++;
          this.listPrefix(task, seenThrough, pages, (found) => tasks.push(found)).then(() => {
            active--;
            pump();
          }, reject);
        }
        if (active === 0 && (tasks.length === 0 || pages.closed)) resolve();
      };
      pump();
    });
  }

  /** Lists what `task` covers after `seenThrough`, the last key of the first page (S3 lists keys in order). */
  private async listPrefix(task: ListTask, seenThrough: string | undefined, pages: PageQueue, found: (task: ListTask) => void): Promise<void> {
    const startAfter = task.kind === "tree" && seenThrough?.startsWith(task.prefix) ? seenThrough : undefined;
    let token: string | undefined;
    do {
      if (pages.closed) return;
      const answer = await this.listPage(task, token, startAfter);
      for (const common of answer.CommonPrefixes ?? []) {
        const prefix = common.Prefix;
        if (prefix === undefined || (seenThrough !== undefined && prefix < seenThrough && !seenThrough.startsWith(prefix))) continue;
        const name = prefix.slice(task.prefix.length);
        found({ prefix, kind: task.kind === "root" && !HASH_DIR.test(name) ? "nativelsb" : "tree" });
      }
      const files = this.filesOf(answer.Contents, seenThrough);
      if (files.length > 0) await pages.put(files);
      token = answer.IsTruncated ? answer.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private async listPage(task: ListTask, token: string | undefined, startAfter: string | undefined) {
    try {
      return await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: task.prefix,
          Delimiter: task.kind === "tree" ? undefined : "/",
          ContinuationToken: token,
          StartAfter: startAfter,
        }),
      );
    } catch (error) {
      throw this.backendError(error, `ListObjectsV2 ${this.displayUrl}`);
    }
  }

  private filesOf(objects: readonly S3Object[] | undefined, seenThrough: string | undefined): RemoteFile[] {
    const files: RemoteFile[] = [];
    for (const object of objects ?? []) {
      const key = object.Key;
      // Keys ending in "/" are the empty "folder" markers some S3 consoles create, not files.
      if (key === undefined || key.endsWith("/") || (seenThrough !== undefined && key <= seenThrough)) continue;
      const file: RemoteFile = { path: key.slice(this.keyPrefix.length), size: object.Size ?? 0, mtimeMs: secondsOf(object.LastModified) };
      if (object.ETag !== undefined) file.etag = object.ETag;
      files.push(file);
    }
    return files;
  }

  private async deleteBatch(paths: readonly string[]): Promise<{ outcome: DeleteOutcome; transient: boolean }[]> {
    let answer;
    try {
      answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.location.bucket,
          Delete: { Quiet: false, Objects: paths.map((path) => ({ Key: this.keyOf(path) })) },
        }),
      );
    } catch (error) {
      const fixable = this.userFixableError(error);
      if (fixable) throw fixable;
      const message = errorSummary(error);
      return paths.map((path) => ({ outcome: { path, status: "failed", error: message }, transient: isTransient(error) }));
    }
    const byKey = new Map<string, { outcome: DeleteOutcome; transient: boolean }>();
    for (const deleted of answer.Deleted ?? []) {
      if (deleted.Key !== undefined) byKey.set(deleted.Key, { outcome: { path: deleted.Key.slice(this.keyPrefix.length), status: "deleted" }, transient: false });
    }
    for (const failure of answer.Errors ?? []) {
      if (failure.Key === undefined) continue;
      byKey.set(failure.Key, {
        outcome: { path: failure.Key.slice(this.keyPrefix.length), status: "failed", error: `${failure.Code ?? "error"}: ${failure.Message ?? "S3 did not delete it"}` },
        transient: TRANSIENT_CODES.has(failure.Code ?? ""),
      });
    }
    return paths.map((path) => byKey.get(this.keyOf(path)) ?? { outcome: { path, status: "failed", error: "S3 reported no outcome for this key" }, transient: true });
  }

  private keyOf(path: string): string {
    return this.keyPrefix + path;
  }

  private urlOf(path: string): string {
    return `s3://${this.location.bucket}/${this.keyOf(path)}`;
  }

  private missingBucket(cause: unknown): BackendError {
    return new BackendError(`bucket '${this.location.bucket}' does not exist at ${this.endpointLabel}: check the target URL`, { cause });
  }

  /** The one-line explanation of a problem the user can fix, or undefined for anything else. */
  private userFixableError(error: unknown): BackendError | undefined {
    const { name = "", code = "", $metadata } = error as SdkError;
    const status = $metadata?.httpStatusCode;
    if (UNREACHABLE_CODES.has(code)) {
      return new BackendError(`cannot reach S3 endpoint ${this.endpointLabel} (${code}): check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and the network`, { cause: error });
    }
    if (TLS_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) {
      return new BackendError(`TLS connection to S3 endpoint ${this.endpointLabel} failed (${code}): check the endpoint's http/https scheme and its certificate (NODE_EXTRA_CA_CERTS)`, { cause: error });
    }
    if (name === "CredentialsProviderError") {
      return new BackendError(`no S3 credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE`, { cause: error });
    }
    if (CREDENTIAL_CODES.has(name) || status === 403) {
      const reason = CREDENTIAL_CODES.has(name) ? name : "HTTP 403";
      return new BackendError(`S3 refused the credentials for ${this.displayUrl} (${reason}): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_PROFILE and the bucket policy`, { cause: error });
    }
    if (name === "NoSuchBucket") return this.missingBucket(error);
    if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed" || status === 301) {
      return new BackendError(`bucket '${this.location.bucket}' is in another region: set AWS_REGION to the bucket's region`, { cause: error });
    }
    return undefined;
  }

  private backendError(error: unknown, request: string): unknown {
    if ((error as SdkError).name === "AbortError") return error;
    return this.userFixableError(error) ?? new BackendError(`S3 ${request} failed: ${errorSummary(error)}`, { cause: error });
  }
}

/**
 * Client settings from the environment given to Target.open (the CLI passes the process's):
 * endpoint, region, path-style addressing (explicit setting, else on for custom endpoints,
 * which rarely serve BUCKET.host names) and credentials (else the SDK's default chain).
 */
export function s3ClientConfig(env: Env, pathStyle: boolean | undefined, { timeouts }: OpenOptions): { config: S3ClientConfig; endpointLabel: string } {
  const endpoint = env["AWS_ENDPOINT_URL_S3"] || env["AWS_ENDPOINT_URL"] || undefined;
  const region = env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || "us-east-1";
  const config: S3ClientConfig = {
    region,
    forcePathStyle: pathStyle ?? pathStyleFromEnv(env["SSTATE_KEEPER_S3_PATH_STYLE"]) ?? endpoint !== undefined,
    maxAttempts: Number(env["AWS_MAX_ATTEMPTS"]) || DEFAULT_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env["AWS_SESSION_TOKEN"];
    config.credentials = sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  } else if (env["AWS_PROFILE"]) {
    config.profile = env["AWS_PROFILE"];
  }
  return { config, endpointLabel: endpoint ?? `the AWS S3 endpoint of ${region}` };
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

/** Listings report milliseconds on some servers (radosgw), HeadObject only seconds: truncate both so they agree. */
function secondsOf(date: Date | undefined): number {
  return date === undefined ? 0 : Math.floor(date.getTime() / 1000) * 1000;
}

function isTransient(error: unknown): boolean {
  const { name = "", code = "", $metadata } = error as SdkError;
  const status = $metadata?.httpStatusCode ?? 0;
  return TRANSIENT_CODES.has(name) || TRANSIENT_CODES.has(code) || status === 429 || status >= 500;
}

function errorSummary(error: unknown): string {
  const { name = "Error", code, message = "", $metadata } = error as SdkError;
  const status = $metadata?.httpStatusCode;
  return `${code ?? name}${status !== undefined ? ` (HTTP ${status})` : ""}${message && message !== "UnknownError" ? `: ${message}` : ""}`;
}

function pathStyleFromEnv(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  return value === "1" || value.toLowerCase() === "true";
}

function commonPrefix(a: string, b: string): string {
  let length = 0;
  while (length < a.length && a.charCodeAt(length) === b.charCodeAt(length)) length++;
  return a.slice(0, length);
}
