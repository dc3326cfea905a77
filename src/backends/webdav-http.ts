import { Buffer } from "node:buffer";
import { Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, STATUS_CODES } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "../util/retry.ts";
import { USER_AGENT } from "../util/version.ts";
import { BackendError, type BackendErrorKind, type Timeouts } from "./backend.ts";

const MAX_SOCKETS = 32;
/**
 * Operations that gave up in a row (each after its retries) before the server counts as down:
 * then every pending and later request fails at once, so a dead server ends a command within
 * one operation budget instead of one per queued file.
 */
const GIVE_UPS_BEFORE_DOWN = 3;

const CREDENTIALS_HINT = "check SSTATE_KEEPER_WEBDAV_USER/PASSWORD or ~/.netrc";

/** A failed WebDAV request; a `transient` failure is worth another attempt. */
export class DavError extends BackendError {
  readonly transient: boolean;
  constructor(message: string, options: { kind: BackendErrorKind; transient: boolean; cause?: unknown }) {
    super(message, options);
    this.name = "DavError";
    this.transient = options.transient;
  }
}

export interface DavRequest {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The request counter (default: the method). */
  counter?: string;
}

/** A whole answer. `what` names the request in messages: "PROPFIND /dav/cache/ab/". */
export interface DavAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  what: string;
}

/** An answer whose body is read as it arrives. */
export interface DavStream {
  status: number;
  headers: IncomingHttpHeaders;
  what: string;
  /** The next chunk, undefined at the end of a complete body; failures are DavErrors. */
  next(): Promise<Buffer | undefined>;
  /** Stops reading and drops the connection (unread bodies would pin it). */
  cancel(): void;
}

/**
 * HTTP for the WebDAV backend: every request has a connect timeout and an idle timeout (no
 * headers, or no body bytes, for that long), counts, and failures as one-line DavErrors that
 * name the host and the request and never quote a server's body.
 */
export class DavTransport {
  readonly origin: string;
  private readonly agent: HttpAgent;
  private readonly https: boolean;
  private readonly counts: Record<string, number> = {};
  private readonly inFlight = new Set<ClientRequest>();
  private readonly retry: RetryPolicy;
  private readonly authorization: string | undefined;
  private readonly timeouts: Timeouts;
  private giveUpsInARow = 0;
  private down: DavError | undefined;

  constructor(root: URL, authorization: string | undefined, timeouts: Timeouts) {
    this.authorization = authorization;
    this.timeouts = timeouts;
    this.origin = root.origin;
    this.https = root.protocol === "https:";
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.agent = this.https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.retry = { ...DEFAULT_RETRY, budgetMs: timeouts.operationMs };
  }

  requestCounts(): Record<string, number> {
    return { ...this.counts };
  }

  /** Set once operations kept giving up: the server is taken to be down, and every request fails at once with this. */
  get downError(): DavError | undefined {
    return this.down;
  }

  /**
   * Runs `attempt` until it succeeds, again after a pause while its failures are transient and
   * tries and the operation budget last. Operations that keep giving up mark the server as down.
   */
  async retried<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      const result = await withRetries(
        () => (this.down ? Promise.reject(this.down) : attempt()),
        (error) => error instanceof DavError && error.transient && this.down === undefined,
        this.retry,
      );
      this.giveUpsInARow = 0;
      return result;
    } catch (error) {
      if (error instanceof DavError && error.transient && error !== this.down && ++this.giveUpsInARow >= GIVE_UPS_BEFORE_DOWN) this.markDown(error);
      throw error;
    }
  }

  /** One request and its whole answer (an answer counts only when it arrived whole). */
  async fetch(method: string, url: string, request: DavRequest = {}): Promise<DavAnswer> {
    const stream = await this.open(method, url, request);
    const chunks: Buffer[] = [];
    for (let chunk = await stream.next(); chunk !== undefined; chunk = await stream.next()) chunks.push(chunk);
    return { status: stream.status, headers: stream.headers, body: Buffer.concat(chunks), what: stream.what };
  }

  /** One request; resolves when the status and headers have arrived. */
  open(method: string, url: string, request: DavRequest = {}): Promise<DavStream> {
    const counter = request.counter ?? method;
    this.counts[counter] = (this.counts[counter] ?? 0) + 1;
    const what = `${method} ${displayPath(url)}`;
    const headers: Record<string, string> = { ...request.headers, "User-Agent": USER_AGENT, "Content-Length": String(request.body === undefined ? 0 : Buffer.byteLength(request.body)) };
    if (this.authorization !== undefined) headers["Authorization"] = this.authorization;
    const send = this.https ? httpsRequest : httpRequest;
    const attempt = (resentAfterReset: boolean) =>
      new Promise<DavStream>((resolve, reject) => {
        if (this.down) return reject(this.down);
        let failure: DavError | undefined;
        let answered = false;
        const sent = send(url, { method, headers, agent: this.agent }, (message) => {
          answered = true;
          resolve(this.streamOf(message, what, () => failure));
        });
        const fail = (error: DavError) => {
          failure ??= error;
          sent.destroy(failure);
        };
        this.inFlight.add(sent);
        sent.on("close", () => this.inFlight.delete(sent));
        sent.setTimeout(this.timeouts.idleMs, () => fail(answered ? this.stalled(what) : this.silent(what)));
        sent.on("socket", (socket: Socket) => {
          if (!socket.connecting) return;
          const timer = setTimeout(() => fail(this.connectTimedOut(what)), this.timeouts.connectMs);
          socket.once(this.https ? "secureConnect" : "connect", () => clearTimeout(timer));
          socket.once("close", () => clearTimeout(timer));
        });
        sent.on("error", (error: NodeJS.ErrnoException) => {
          if (answered) return;
          // The server closed an idle keep-alive connection just as we reused it: the request never
          // reached it, so sending it again at once is safe (what Node's http documentation recommends).
          if (failure === undefined && sent.reusedSocket && error.code === "ECONNRESET" && !resentAfterReset) resolve(attempt(true));
          else reject(failure ?? this.transportError(error, what));
        });
        sent.end(request.body);
      });
    return attempt(false);
  }

  /** The error for an answer whose status the caller did not expect. */
  statusError(answer: { status: number; what: string }): DavError {
    const { status, what } = answer;
    const summary = `${status} ${STATUS_CODES[status] ?? "(unknown status)"}`;
    if (status === 401) {
      const message = this.authorization === undefined
        ? `WebDAV server ${this.origin} requires credentials (${summary} on ${what}): set SSTATE_KEEPER_WEBDAV_USER/PASSWORD or add 'machine ${new URL(this.origin).hostname}' to ~/.netrc`
        : `WebDAV server ${this.origin} refused the credentials (${summary} on ${what}): ${CREDENTIALS_HINT}`;
      return new DavError(message, { kind: "auth", transient: false });
    }
    if (status === 403) return new DavError(`WebDAV server ${this.origin} refused ${what} (${summary}): check the user's permissions on the server`, { kind: "auth", transient: false });
    // 207 to anything but PROPFIND: parts failed (a member locked, say), worth another try.
    if (status >= 500 || status === 207 || status === 408 || status === 423 || status === 429) {
      return new DavError(`WebDAV server ${this.origin} answered ${what} with ${summary}; check the server's error log if this persists`, { kind: "unavailable", transient: true });
    }
    return new DavError(`WebDAV server ${this.origin} answered ${what} with ${summary}; check the target URL and the server's DAV configuration`, { kind: "config", transient: false });
  }

  /** A well-formed HTTP answer whose content is not what was asked for: retried, like a cut-off one. */
  malformed(what: string, detail: string): DavError {
    return new DavError(`WebDAV server ${this.origin} sent an unusable answer to ${what}: ${detail}`, { kind: "protocol", transient: true });
  }

  close(): void {
    this.agent.destroy();
  }

  private streamOf(message: IncomingMessage, what: string, failure: () => DavError | undefined): DavStream {
    // A body that breaks off emits "error" (Node's "aborted"); the iterator below reports it,
    // and this listener keeps an unread body's error from crashing the process.
    message.on("error", () => undefined);
    const chunks = (message as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const brokenOff = (cause?: unknown) =>
      failure() ??
        (cause instanceof DavError ? cause : new DavError(`WebDAV server ${this.origin} broke off its answer to ${what} (connection lost?)`, { kind: "unavailable", transient: true, cause }));
    return {
      status: message.statusCode ?? 0,
      headers: message.headers,
      what,
      next: async () => {
        let result: IteratorResult<Buffer>;
        try {
          result = await chunks.next();
        } catch (error) {
          throw brokenOff(error);
        }
        if (!result.done) return result.value;
        if (!message.complete) throw brokenOff();
        return undefined;
      },
      cancel: () => message.destroy(),
    };
  }

  private markDown(error: DavError): void {
    this.down = error;
    for (const request of this.inFlight) request.destroy(error);
  }

  private silent(what: string): DavError {
    return new DavError(`WebDAV server ${this.origin} did not answer ${what} within ${seconds(this.timeouts.idleMs)}: check that it is running and not overloaded, or allow longer with --timeout`, {
      kind: "unavailable",
      transient: true,
    });
  }

  private stalled(what: string): DavError {
    return new DavError(
      `WebDAV server ${this.origin} stopped sending its answer to ${what} (nothing for ${seconds(this.timeouts.idleMs)}): check the server and the network, or allow longer with --timeout`,
      {
        kind: "unavailable",
        transient: true,
      },
    );
  }

  private connectTimedOut(what: string): DavError {
    return new DavError(`cannot connect to WebDAV server ${this.origin} within ${seconds(this.timeouts.connectMs)} (${what}): check the URL, the network and that the server is running`, {
      kind: "unavailable",
      transient: true,
    });
  }

  private transportError(error: unknown, what: string): DavError {
    if (error instanceof DavError) return error;
    const cause = (error as { cause?: { code?: string } }).cause;
    const code = (error as { code?: string }).code ?? cause?.code ?? "";
    if (/CERT|SSL|TLS|EPROTO/i.test(code)) {
      return new DavError(`TLS connection to ${this.origin} failed (${code} on ${what}): check the server certificate and the http/https scheme (NODE_EXTRA_CA_CERTS adds a private CA)`, {
        kind: "config",
        transient: false,
        cause: error,
      });
    }
    if (/^(ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(code)) {
      return new DavError(`cannot reach WebDAV server ${this.origin} (${code} on ${what}): check the URL and the network`, { kind: "unavailable", transient: code === "EAI_AGAIN", cause: error });
    }
    if (code === "ECONNREFUSED") {
      return new DavError(`cannot reach WebDAV server ${this.origin} (${code} on ${what}): check the URL and that the server is running`, { kind: "unavailable", transient: true, cause: error });
    }
    const reason = code || "connection failed";
    return new DavError(`WebDAV server ${this.origin} dropped the connection during ${what} (${reason})`, { kind: "unavailable", transient: true, cause: error });
  }
}

/** The request path as people read it: decoded, so sstate names show their ':'. */
export function displayPath(url: string): string {
  return decodePath(new URL(url).pathname);
}

export function decodePath(pathname: string): string {
  if (!pathname.includes("%")) return pathname;
  return pathname
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join("/");
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
