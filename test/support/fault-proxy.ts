// A fault-injecting HTTP proxy on loopback, put between the CLI and a real server (radosgw,
// Apache) to behave as a hostile network and an overloaded server would. Each request is
// forwarded unchanged (Host header included, so S3 signatures still verify) unless the seeded
// random draw picks a fault for it.
//
//   error-before     answer 503/500/429 without forwarding (S3-style XML error body)
//   error-after      forward, drop the real answer, answer 500/503: the operation happened, its answer was lost
//   reset-before     close the connection without forwarding
//   reset-after      forward, send the real status and headers, then close before the body
//   truncate-reset   forward, send headers and part of the body, then close
//   truncate-clean   forward, send part of the body as a complete response (Content-Length fitted):
//                    only a strict parser notices
//   stall            forward nothing and never answer (the client must time out)
//   stall-after-headers  forward, send the real status and headers and half the body, then
//                    nothing more (the client's idle timeout must cover the body too)
//   echo-headers     answer 400 with a body that reflects every request header, credentials included
//
// The counts of what was injected are kept per kind, for the tests to assert and report.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { seededRandom } from "./random.ts";

export const FAULT_KINDS = ["error-before", "error-after", "reset-before", "reset-after", "truncate-reset", "truncate-clean", "stall", "stall-after-headers", "echo-headers"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The kinds a "hostile network" run injects (echo-headers is a test of its own). */
export const NETWORK_FAULTS: readonly FaultKind[] = ["error-before", "error-after", "reset-before", "reset-after", "truncate-reset", "truncate-clean", "stall"];

export interface FaultProxyOptions {
  /** e.g. http://127.0.0.1:40123 */
  upstream: string;
  /** Probability that a request gets a fault, 0–1. */
  rate: number;
  seed: number;
  kinds?: readonly FaultKind[];
  /** Requests for which this is false are always forwarded (e.g. to spare the setup's own requests). */
  applies?: (method: string, url: string) => boolean;
  /**
   * Awaited for each request the upstream answered, before that answer (or its fault) goes
   * back: a test acts here between two steps of the client (e.g. writes into a collection
   * the client has just found empty).
   */
  onAnswer?: (request: { method: string; url: string; headers: IncomingHttpHeaders }, status: number) => void | Promise<void>;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Requests seen, forwarded intact, and faults injected per kind. */
  readonly counts: { requests: number; forwarded: number } & Record<FaultKind, number>;
  setRate(rate: number): void;
  stop(): Promise<void>;
}

interface UpstreamAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function forward(upstream: URL, req: IncomingMessage, body: Buffer): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    const sent = request({ hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent: false }, (res) => {
      readAll(res).then((data) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }), reject);
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

function errorBody(status: number): string {
  const code = status === 503 ? "SlowDown" : status === 429 ? "TooManyRequests" : "InternalError";
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected fault</Message></Error>`;
}

function sendError(res: ServerResponse, status: number): void {
  const body = errorBody(status);
  res.writeHead(status, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Upstream headers fit to be sent again: hop-by-hop headers dropped, the length re-stated. */
function replayHeaders(headers: IncomingHttpHeaders, length: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ["connection", "keep-alive", "transfer-encoding", "content-length"].includes(name)) continue;
    out[name] = value;
  }
  out["content-length"] = String(length);
  return out;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? NETWORK_FAULTS;
  let rate = options.rate;
  const counts = { requests: 0, forwarded: 0, ...Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) } as FaultProxy["counts"];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    counts.requests++;
    const eligible = options.applies?.(req.method ?? "GET", req.url ?? "/") ?? true;
    const kind = eligible && random() < rate ? kinds[Math.floor(random() * kinds.length)]! : undefined;
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    if (kind !== undefined) counts[kind]++;
    switch (kind) {
      case "error-before":
        return sendError(res, pick([503, 500, 429]));
      case "reset-before":
        return void req.socket.destroy();
      case "stall":
        return; // never answered; the socket is destroyed when the proxy stops
      case "echo-headers": {
        const reflected = Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}`).join("\n");
        const echo = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>bad request; headers were:\n${reflected}</Message></Error>`;
        res.writeHead(400, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(echo) });
        return void res.end(echo);
      }
    }
    let answer: UpstreamAnswer;
    try {
      answer = await forward(upstream, req, body);
    } catch {
      return void req.socket.destroy();
    }
    await options.onAnswer?.({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers }, answer.status);
    switch (kind) {
      case "error-after":
        return sendError(res, pick([500, 503]));
      case "reset-after":
        res.writeHead(answer.status, replayHeaders(answer.headers, answer.body.length));
        res.flushHeaders();
        return void setImmediate(() => req.socket.destroy());
      case "truncate-reset": {
        res.writeHead(answer.status, replayHeaders(answer.headers, answer.body.length));
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        return void setImmediate(() => req.socket.destroy());
      }
      case "stall-after-headers":
        res.writeHead(answer.status, replayHeaders(answer.headers, answer.body.length));
        res.flushHeaders();
        return void res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
      case "truncate-clean": {
        const cut = answer.body.subarray(0, Math.floor(answer.body.length * random()));
        res.writeHead(answer.status, replayHeaders(answer.headers, cut.length));
        return void res.end(cut);
      }
    }
    counts.forwarded++;
    res.writeHead(answer.status, replayHeaders(answer.headers, answer.body.length));
    res.end(answer.body);
  };

  const server = await listening((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  return {
    ...server,
    counts,
    setRate(value) {
      rate = value;
    },
  };
}

/** An HTTP server on a free loopback port whose stop() also ends the connections it holds open. */
async function listening(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(handler);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that accepts connections and never answers: the client's timeouts must end the command. */
export async function startSilentServer(): Promise<{ url: string; stop(): Promise<void> }> {
  return startFaultProxy({ upstream: "http://127.0.0.1:9", rate: 1, seed: 1, kinds: ["stall"] });
}

/** A server that answers 200 with headers and the first bytes of a body, then stalls forever. */
export async function startStallingServer(): Promise<{ url: string; stop(): Promise<void> }> {
  return listening((_req, res) => {
    res.writeHead(207, { "Content-Type": "application/xml", "Content-Length": "100000" });
    res.write('<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">');
  });
}
