// Real test servers: Ceph RADOS Gateway (S3) and Apache mod_dav_fs (WebDAV) on
// loopback, started through scripts/servers/*.sh. Install the packages first
// with scripts/servers/install-debian-packages.sh (Debian 12, root or sudo).
//
// A server that cannot be started is an error, never a skipped test.

import { execFile, execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPTS_DIR = fileURLToPath(new URL("../../scripts/servers/", import.meta.url));
const RADOSGW_SCRIPT = join(SCRIPTS_DIR, "radosgw.sh");
const WEBDAV_SCRIPT = join(SCRIPTS_DIR, "webdav.sh");
const INSTALL_HINT = "install the packages with scripts/servers/install-debian-packages.sh";

/** Set to 1 to keep the servers' temp directories (logs, config) after stop(). */
const KEEP_DIRS = process.env["SSTATE_KEEPER_KEEP_SERVER_DIRS"] === "1";

export interface S3Server {
  /** e.g. http://127.0.0.1:40123 (use forcePathStyle: true) */
  endpoint: string;
  /** Gateway on the same cluster whose clock runs 400 days behind: objects written here are old. */
  fakedEndpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  stop(): Promise<void>;
}

export interface WebdavServer {
  /** e.g. http://127.0.0.1:40124/dav/ (always ends with a slash) */
  url: string;
  /** Directory served at `url`; files put here appear on the server (mtime = getlastmodified). */
  dataDir: string;
  user?: string;
  password?: string;
  /** With `accessLog: true`: Apache's access log of every request, in the combined format. */
  accessLog?: string;
  stop(): Promise<void>;
}

/** Connection info without stop(), JSON-serializable (for vitest provide/inject). */
export type S3ServerInfo = Omit<S3Server, "stop">;
export type WebdavServerInfo = Omit<WebdavServer, "stop">;

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("could not determine a free port"));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}

/** Distinct free ports (a port is not handed out twice within one call). */
async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}

interface ScriptResult {
  stdout: string;
  stderr: string;
}

class ScriptError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  constructor(message: string, stdout: string, stderr: string) {
    super(message);
    this.name = "ScriptError";
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

function runScript(script: string, args: string[], timeoutMs: number): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [script, ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) {
          const how = error.killed ? `was killed after ${timeoutMs} ms` : `exited with code ${String(error.code)}`;
          reject(new ScriptError(`${script} ${args.join(" ")} ${how}`, stdout, stderr));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

async function tailFile(path: string, lines: number): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n");
  } catch {
    return "";
  }
}

/** The tails of the given log files (that exist and are not empty) under dir/log. */
async function logTails(dir: string, names: string[] | "all", lines = 25): Promise<string> {
  const logDir = join(dir, "log");
  let files: string[];
  try {
    files = names === "all" ? (await readdir(logDir)).sort() : names;
  } catch {
    return "";
  }
  const parts: string[] = [];
  for (const f of files) {
    const tail = (await tailFile(join(logDir, f), lines)).trim();
    if (tail !== "") parts.push(`--- ${join(logDir, f)} (last ${lines} lines) ---\n${tail}`);
  }
  return parts.join("\n");
}

function describeFailure(what: string, err: unknown, logs: string): Error {
  const lines = [`${what} failed to start (${INSTALL_HINT} if it is missing)`];
  if (err instanceof ScriptError) {
    lines.push(err.message);
    if (err.stdout.trim() !== "") lines.push(`--- stdout ---\n${err.stdout.trim()}`);
    if (err.stderr.trim() !== "") lines.push(`--- stderr ---\n${err.stderr.trim()}`);
  } else if (err instanceof Error) {
    lines.push(err.message);
  } else {
    lines.push(String(err));
  }
  if (logs !== "") lines.push(logs);
  return new Error(lines.join("\n"), { cause: err });
}

interface HttpAnswer {
  status: number;
}

function httpRequest(url: string, method: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** Poll until `accept` says yes to an answer, or throw after timeoutMs. */
async function waitForHttp(
  url: string,
  method: string,
  headers: Record<string, string>,
  accept: (a: HttpAnswer) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    try {
      const a = await httpRequest(url, method, headers, 2000);
      if (accept(a)) return;
      last = `HTTP ${a.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= deadline) throw new Error(`${method} ${url} not ready after ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Stop functions of servers that are still running; run synchronously if the
 * process exits without stop() having been called (e.g. an aborted run).
 */
const running = new Map<string, () => void>();
let exitHookInstalled = false;
function registerRunning(dir: string, script: string): void {
  running.set(dir, () => {
    try {
      execFileSync("bash", [script, "stop", dir], { stdio: "ignore", timeout: 30_000 });
      if (!KEEP_DIRS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const stop of running.values()) stop();
      running.clear();
    });
  }
}

function makeStop(what: string, script: string, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      try {
        await runScript(script, ["stop", dir], 60_000);
      } catch (e) {
        const detail = e instanceof ScriptError ? `\n${e.stdout}\n${e.stderr}` : "";
        throw new Error(`stopping ${what} in ${dir} failed${detail}`, { cause: e });
      }
      running.delete(dir);
      if (!KEEP_DIRS) await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}

/** Stop whatever a failed start left running; keep the directory (logs) for inspection. */
async function stopAfterFailedStart(script: string, dir: string): Promise<void> {
  try {
    await runScript(script, ["stop", dir], 60_000);
    running.delete(dir);
  } catch {
    // the exit hook tries again
  }
}

const S3_ACCESS_KEY = "sstatekeeper";
const S3_SECRET_KEY = "sstatekeeper-secret";

/** Start a throwaway single-node Ceph + two RADOS Gateways (normal and 400 days in the past). */
export async function startRadosgw(): Promise<S3Server> {
  const [port, fakedPort, monPort] = (await freePorts(3)) as [number, number, number];
  const dir = await mkdtemp(join(tmpdir(), "sstate-keeper-rgw-"));
  const endpoint = `http://127.0.0.1:${port}`;
  const fakedEndpoint = `http://127.0.0.1:${fakedPort}`;
  registerRunning(dir, RADOSGW_SCRIPT);
  try {
    await runScript(RADOSGW_SCRIPT, ["start", dir, String(port), String(fakedPort), String(monPort)], 180_000);
    // Any HTTP answer means the gateway serves requests.
    await waitForHttp(endpoint, "GET", {}, () => true, 30_000);
    await waitForHttp(fakedEndpoint, "GET", {}, () => true, 30_000);
  } catch (e) {
    const logs = await logTails(dir, ["client.rgw.main.log", "client.rgw.faked.log", "osd.0.log", "mon.a.log"]);
    await stopAfterFailedStart(RADOSGW_SCRIPT, dir);
    throw describeFailure(`radosgw (dir ${dir}, kept for inspection)`, e, logs);
  }
  return {
    endpoint,
    fakedEndpoint,
    accessKeyId: S3_ACCESS_KEY,
    secretAccessKey: S3_SECRET_KEY,
    region: "us-east-1",
    stop: makeStop("radosgw", RADOSGW_SCRIPT, dir),
  };
}

/** Start a throwaway Apache mod_dav_fs serving a fresh temp directory. */
export async function startWebdav(opts?: {
  depthInfinity?: boolean;
  /** false: LOCK and UNLOCK are answered 405, as by a server without WebDAV locking. */
  locks?: boolean;
  basicAuth?: { user: string; password: string };
  /** Apache writes a combined-format access log (WebdavServer.accessLog). */
  accessLog?: boolean;
}): Promise<WebdavServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "sstate-keeper-dav-"));
  const url = `http://127.0.0.1:${port}/dav/`;
  const args = ["start", dir, String(port)];
  if (opts?.depthInfinity === false) args.push("--no-depth-infinity");
  if (opts?.locks === false) args.push("--no-locks");
  if (opts?.accessLog) args.push("--access-log");
  const headers: Record<string, string> = {};
  if (opts?.basicAuth) {
    const { user, password } = opts.basicAuth;
    if (user.includes(":")) throw new Error("WebDAV basic auth user must not contain ':'");
    args.push("--basic-auth", `${user}:${password}`);
    headers["authorization"] = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  }
  registerRunning(dir, WEBDAV_SCRIPT);
  try {
    await runScript(WEBDAV_SCRIPT, args, 60_000);
    await waitForHttp(url, "OPTIONS", headers, (a) => a.status === 200, 20_000);
  } catch (e) {
    const logs = await logTails(dir, "all");
    await stopAfterFailedStart(WEBDAV_SCRIPT, dir);
    throw describeFailure(`webdav (dir ${dir}, kept for inspection)`, e, logs);
  }
  const server: WebdavServer = { url, dataDir: join(dir, "data"), stop: makeStop("webdav", WEBDAV_SCRIPT, dir), ...(opts?.accessLog ? { accessLog: join(dir, "log", "access.log") } : {}) };
  if (opts?.basicAuth) {
    server.user = opts.basicAuth.user;
    server.password = opts.basicAuth.password;
  }
  return server;
}
