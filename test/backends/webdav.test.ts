import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { setTimeout } from "node:timers/promises";
import { describe, expect, inject, it } from "vitest";
import { BackendError, DEFAULT_TIMEOUTS, type RemoteFile, type Timeouts } from "../../src/backends/backend.ts";
import { type Env, parseTarget, TargetError } from "../../src/backends/index.ts";
import { netrcCredentials } from "../../src/backends/webdav-credentials.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import type { WebdavBackend } from "../../src/backends/webdav.ts";
import { type FaultProxy, type FaultProxyOptions, startFaultProxy } from "../support/fault-proxy.ts";
import { startWebdav, type WebdavServerInfo } from "../support/servers.ts";
import type {} from "../support/global-servers.ts";
import { openOptions } from "../support/io.ts";
import { listAll } from "../support/list-all.ts";
import { backendConformance } from "./conformance.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const withInfinity = inject("webdav");
const withoutInfinity = inject("webdavNoInfinity");

function envFor(server: WebdavServerInfo): Env {
  return server.user === undefined ? {} : { SSTATE_KEEPER_WEBDAV_USER: server.user, SSTATE_KEEPER_WEBDAV_PASSWORD: server.password };
}

/** A new, empty collection on the server: its URL and where Apache keeps it on disk. */
async function freshCollection(server: WebdavServerInfo): Promise<{ url: string; dir: string }> {
  const name = `t-${randomBytes(6).toString("hex")}`;
  const headers: Record<string, string> = {};
  if (server.user !== undefined) headers["authorization"] = `Basic ${Buffer.from(`${server.user}:${server.password}`).toString("base64")}`;
  const response = await fetch(`${server.url}${name}/`, { method: "MKCOL", headers });
  expect(response.status).toBe(201);
  return { url: `${server.url}${name}/`, dir: join(server.dataDir, name) };
}

/** Timeouts for servers that fail on purpose: a few quick retries, not the default minute. */
const QUICK: Timeouts = { connectMs: 1000, idleMs: 1000, operationMs: 1200 };

async function open(url: string, env: Env, timeouts = DEFAULT_TIMEOUTS): Promise<WebdavBackend> {
  return (await parseTarget(url, "/").open(env, openOptions({ timeouts }))) as WebdavBackend;
}

async function freshBackend(server: WebdavServerInfo): Promise<{ backend: WebdavBackend; dir: string }> {
  const { url, dir } = await freshCollection(server);
  return { backend: await open(url, envFor(server)), dir };
}

async function directoriesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isDirectory()).map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Requests sent by `work`, by counter name (zero counts left out). */
async function requestsDuring(backend: WebdavBackend, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = backend.requestCounts();
  await work();
  const after = backend.requestCounts();
  return Object.fromEntries(Object.entries(after).flatMap(([key, count]) => (count > (before[key] ?? 0) ? [[key, count - (before[key] ?? 0)]] : [])));
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const paths = ["universal/0c/9b/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:0c9b_populate_sysroot.tar.zst", "0c/9b/a.siginfo", "1d/2e/b.tar.zst"];

backendConformance("webdav (Depth: infinity, Basic auth)", async () => {
  const { backend, dir } = await freshBackend(withInfinity);
  return { backend, directories: () => directoriesUnder(dir) };
});

backendConformance("webdav (Depth: 1 fallback, no auth)", async () => {
  const { backend, dir } = await freshBackend(withoutInfinity);
  return { backend, directories: () => directoriesUnder(dir) };
});

describe("webdav listing strategy", () => {
  it("lists with exactly one Depth: infinity PROPFIND where the server allows it", async () => {
    const { backend } = await freshBackend(withInfinity);
    for (const path of paths) await backend.put(path, new Uint8Array(3));
    let files: RemoteFile[] = [];
    expect(await requestsDuring(backend, async () => (files = await listAll(backend)))).toEqual({ "PROPFIND depth=infinity": 1 });
    expect(files.map((f) => f.path)).toEqual([...paths].sort());
    await backend.close();
  });

  it("falls back to one Depth: 1 PROPFIND per collection when Depth: infinity is refused, and remembers that", async () => {
    const { backend } = await freshBackend(withoutInfinity);
    for (const path of paths) await backend.put(path, new Uint8Array(3));
    // root, universal, universal/0c, universal/0c/9b, 0c, 0c/9b, 1d, 1d/2e
    const collections = 8;
    let files: RemoteFile[] = [];
    expect(await requestsDuring(backend, async () => (files = await listAll(backend)))).toEqual({ "PROPFIND depth=infinity": 1, "PROPFIND depth=1": collections });
    expect(files.map((f) => f.path)).toEqual([...paths].sort());
    expect(await requestsDuring(backend, () => listAll(backend))).toEqual({ "PROPFIND depth=1": collections });
    await backend.close();
  });

  it("creates each parent collection once per backend and uploads through a temporary name", async () => {
    const { backend } = await freshBackend(withInfinity);
    const counts = await requestsDuring(backend, async () => {
      await Promise.all(["aa/bb/one", "aa/bb/two", "aa/cc/three"].map((path) => backend.put(path, new Uint8Array(1))));
    });
    expect(counts).toEqual({ MKCOL: 3, PUT: 3, MOVE: 3 });
    expect((await listAll(backend)).map((f) => f.path)).toEqual(["aa/bb/one", "aa/bb/two", "aa/cc/three"]);
    await backend.close();
  });
});

describe("webdav objects", () => {
  for (
    const [name, server] of [
      ["Depth: infinity", withInfinity],
      ["Depth: 1", withoutInfinity],
    ] as const
  ) {
    it(`reports getlastmodified of files made 400 days old on the server's disk (${name})`, async () => {
      const { backend, dir } = await freshBackend(server);
      await backend.put("ab/cd/old.tar.zst", new Uint8Array(5));
      await backend.put("ab/cd/new.tar.zst", new Uint8Array(6));
      const old = new Date(Math.floor((Date.now() - 400 * DAY_MS) / 1000) * 1000);
      await utimes(join(dir, "ab", "cd", "old.tar.zst"), old, old);
      const [fresh, stale] = await listAll(backend);
      expect(stale).toMatchObject({ path: "ab/cd/old.tar.zst", size: 5, mtimeMs: old.getTime() });
      expect(stale!.etag).toMatch(/^(W\/)?"/);
      expect(Math.abs(fresh!.mtimeMs - Date.now())).toBeLessThan(120_000);
      expect(await backend.stat("ab/cd/old.tar.zst")).toEqual(stale);
      await backend.close();
    });
  }

  it("round-trips names that need percent-encoding", async () => {
    const { backend } = await freshBackend(withInfinity);
    const odd = ["sp ace/a b&c.siginfo", "pct/100%25 done#1+2?.tar.zst", "uni/ümlaut:é.tgz"];
    for (const path of odd) await backend.put(path, new TextEncoder().encode(path));
    expect((await listAll(backend)).map((f) => f.path)).toEqual([...odd].sort());
    for (const path of odd) {
      expect(new TextDecoder().decode(await backend.get(path))).toBe(path);
      expect((await backend.stat(path))?.path).toBe(path);
    }
    const expected = await Promise.all(odd.map(async (path) => (await backend.stat(path))!));
    expect((await backend.deleteMany(expected)).map((o) => o.status)).toEqual(["deleted", "deleted", "deleted"]);
    await backend.close();
  });

  it("does not stat a collection as an object", async () => {
    const { backend } = await freshBackend(withInfinity);
    await backend.put("ab/cd/x", new Uint8Array(1));
    expect(await backend.stat("ab/cd")).toBeUndefined();
    await backend.close();
  });
});

describe("webdav errors", () => {
  it("says the credentials were refused, without printing the password", async () => {
    const { url } = await freshCollection(withInfinity);
    const backend = await open(url, { SSTATE_KEEPER_WEBDAV_USER: "keeper", SSTATE_KEEPER_WEBDAV_PASSWORD: "not-the-password" });
    const listing = listAll(backend);
    await expect(listing).rejects.toBeInstanceOf(BackendError);
    await expect(listing).rejects.toThrow(
      /^WebDAV server http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized on PROPFIND \/dav\/t-\w+\/\): check SSTATE_KEEPER_WEBDAV_USER\/PASSWORD or ~\/\.netrc$/,
    );
    await expect(listing).rejects.toMatchObject({ kind: "auth" });
    await expect(backend.put("ab/x", new Uint8Array(1))).rejects.toThrow(/refused the credentials/);
    await expect(backend.stat("ab/x")).rejects.toThrow(/refused the credentials/);
    const error = (await listing.catch((e: unknown) => e)) as Error;
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain("not-the-password");
    await backend.close();
  });

  it("says credentials are needed when none are given", async () => {
    const backend = await open(withInfinity.url, {});
    await expect(listAll(backend)).rejects.toThrow(
      /requires credentials \(401 Unauthorized on PROPFIND \/dav\/\): set SSTATE_KEEPER_WEBDAV_USER\/PASSWORD or add 'machine 127\.0\.0\.1' to ~\/\.netrc/,
    );
    await backend.close();
  });

  it("refuses half of the credentials in the environment", async () => {
    await expect(open(withInfinity.url, { SSTATE_KEEPER_WEBDAV_USER: "keeper" })).rejects.toThrow(/set both SSTATE_KEEPER_WEBDAV_USER and SSTATE_KEEPER_WEBDAV_PASSWORD/);
  });

  it("says an unreachable server cannot be reached", async () => {
    const backend = await open(`http://127.0.0.1:${await closedPort()}/dav/`, {}, QUICK);
    await expect(listAll(backend)).rejects.toThrow(/^cannot reach WebDAV server http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED on PROPFIND \/dav\/\): check the URL and that the server is running$/);
    await expect(backend.get("x")).rejects.toBeInstanceOf(BackendError);
    // Nothing answered at all: the whole call could not be made.
    await expect(backend.deleteMany(["a", "b"].map((path) => ({ path, size: 1, mtimeMs: 0 })))).rejects.toMatchObject({
      kind: "unavailable",
      message: expect.stringContaining("cannot reach WebDAV server"),
    });
    await backend.close();
  });

  it("reports a TLS failure (https to a plain HTTP port)", async () => {
    const backend = await open(withoutInfinity.url.replace(/^http:/, "https:"), {});
    await expect(listAll(backend)).rejects.toThrow(/^TLS connection to https:\/\/127\.0\.0\.1:\d+ failed \(\w+ on PROPFIND \/dav\/\): check the server certificate/);
    await backend.close();
  });

  it("reports a root collection that does not exist", async () => {
    const backend = await open(`${withoutInfinity.url}no-such-dir/`, {});
    await expect(listAll(backend)).rejects.toThrow(/no-such-dir\/: no such collection on the WebDAV server \(404\); check the path in the target URL/);
    await backend.close();
  });
});

describe("webdav credentials from ~/.netrc", () => {
  it("uses the machine entry for the host, with HOME taken from the environment", async () => {
    const home = await mkdtemp(join(tmpdir(), "keeper-netrc-"));
    await writeFile(join(home, ".netrc"), `machine example.org login someone password else\nmachine 127.0.0.1 login ${withInfinity.user} password ${withInfinity.password}\n`);
    const { url } = await freshCollection(withInfinity);
    const backend = await open(url, { HOME: home });
    await backend.put("ab/x", new Uint8Array(2));
    expect((await listAll(backend)).map((f) => f.path)).toEqual(["ab/x"]);
    await backend.close();
  });

  it("prefers the environment over ~/.netrc", async () => {
    const home = await mkdtemp(join(tmpdir(), "keeper-netrc-"));
    await writeFile(join(home, ".netrc"), "default login keeper password wrong\n");
    const { url } = await freshCollection(withInfinity);
    const backend = await open(url, { HOME: home, ...envFor(withInfinity) });
    expect(await listAll(backend)).toEqual([]);
    await backend.close();
  });

  it("parses machine, default, comments, macros and quoted tokens", () => {
    const netrc = [
      "# a comment with machine 127.0.0.1 login nope",
      "machine build.example login ci password 's3cret'",
      "macdef init",
      "machine 127.0.0.1 login macro password body",
      "",
      'machine dav.example.com\n  login "john doe"\n  password "p w\\"d"',
      "default login anon password anon@",
    ].join("\n");
    expect(netrcCredentials(netrc, "build.example")).toEqual({ user: "ci", password: "'s3cret'" });
    expect(netrcCredentials(netrc, "DAV.example.com")).toEqual({ user: "john doe", password: 'p w"d' });
    expect(netrcCredentials(netrc, "127.0.0.1")).toEqual({ user: "anon", password: "anon@" });
    expect(netrcCredentials("machine a login b", "a")).toEqual({ user: "b", password: "" });
    expect(netrcCredentials("machine a login b password c", "z")).toBeUndefined();
  });
});

/** Serves one canned PROPFIND answer in 7-byte writes, so elements arrive split at every possible place. */
async function cannedServer(xml: (origin: string) => string): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((request, response) => {
    request.resume();
    response.writeHead(207, { "content-type": "application/xml; charset=utf-8" });
    const body = Buffer.from(xml(`http://${request.headers.host}`));
    for (let i = 0; i < body.length; i += 7) response.write(body.subarray(i, i + 7));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/files/u/cache/`, server };
}

const SABRE_STYLE = (origin: string) =>
  `<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
 <d:response><d:href>/files/u/cache/</d:href>
  <d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><d:getlastmodified>Mon, 01 Jan 2024 10:00:00 GMT</d:getlastmodified></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  <d:propstat><d:prop><d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>
 <d:response><d:href>${origin}/files/u/cache/ab/sstate%3Azlib%3A%3A1.3%3Ar0%3A%3A14%3Aab12_fetch.tar.zst.siginfo</d:href>
  <d:propstat><d:prop><d:resourcetype/><d:getcontentlength>42</d:getcontentlength><d:getlastmodified>Tue, 02 Jan 2024 11:12:13 GMT</d:getlastmodified><d:getetag>&quot;5f1&amp;x&quot;</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <response xmlns="DAV:"><href>/files/u/cache/ab/</href><propstat><prop><resourcetype><collection /></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
</d:multistatus>`;

describe("webdav multistatus from other servers (canned answers)", () => {
  it("reads lower-case and default namespaces, absolute and percent-encoded hrefs, entities and 404 propstats", async () => {
    const { url, server } = await cannedServer(SABRE_STYLE);
    const backend = await open(url, {});
    expect(await listAll(backend)).toEqual([
      { path: "ab/sstate:zlib::1.3:r0::14:ab12_fetch.tar.zst.siginfo", size: 42, mtimeMs: Date.parse("2024-01-02T11:12:13Z"), etag: '"5f1&x"' },
    ]);
    await backend.close();
    server.close();
  });

  it("refuses a listing that ends early or that the server could not complete", async () => {
    const truncated = await cannedServer((origin) => SABRE_STYLE(origin).replace("</d:multistatus>", ""));
    const forbidden = await cannedServer((origin) =>
      SABRE_STYLE(origin).replace("</d:multistatus>", "<d:response><d:href>/files/u/cache/private/</d:href><d:status>HTTP/1.1 403 Forbidden</d:status></d:response></d:multistatus>")
    );
    const first = await open(truncated.url, {}, QUICK);
    await expect(listAll(first)).rejects.toThrow(
      /^WebDAV server http:\/\/127\.0\.0\.1:\d+ sent an unusable answer to PROPFIND \/files\/u\/cache\/: the closing <\/multistatus> tag is missing \(the answer was cut short\)$/,
    );
    const second = await open(forbidden.url, {});
    await expect(listAll(second)).rejects.toThrow(/could not list .*\/private \(status 403\)/);
    await Promise.all([first.close(), second.close()]);
    truncated.server.close();
    forbidden.server.close();
  });
});

/** A fault proxy in front of the server, and the collection's URL through it. */
async function proxied(collectionUrl: string, options: Omit<FaultProxyOptions, "upstream">): Promise<{ proxy: FaultProxy; url: string }> {
  const target = new URL(collectionUrl);
  const proxy = await startFaultProxy({ upstream: target.origin, ...options });
  return { proxy, url: `${proxy.url}${target.pathname}` };
}

/** Puts `path` and makes it `ageMs` old on the server's disk; Apache's ETag of a file older than a second is strong. */
async function putAged(backend: WebdavBackend, dir: string, path: string, ageMs = 10 * DAY_MS): Promise<void> {
  await backend.put(path, new TextEncoder().encode(path));
  const when = new Date(Date.now() - ageMs);
  await utimes(join(dir, path), when, when);
}

const ARCHIVE_IN = (hash: string, task = "populate_sysroot") => `${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${hash}_${task}.tar.zst`;
const A = ARCHIVE_IN("0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db");
const B = ARCHIVE_IN("1d2e4c9a0b7f3e51d0c8a6f4e2b1d9c7a5f3e1d0c8b6a4f2e0d8c6b4a2f0e1d3");

describe("webdav deletes only what is still as planned, checked by the server", () => {
  it("refuses the DELETE of a file touched after planning (If-Match on its strong ETag): changed, still there", async () => {
    const { backend, dir } = await freshBackend(withInfinity);
    await putAged(backend, dir, A);
    await putAged(backend, dir, B);
    const planned = [(await backend.stat(A))!, (await backend.stat(B))!];
    expect(planned.map((f) => f.etag)).toEqual([expect.stringMatching(/^"/), expect.stringMatching(/^"/)]);
    // A build uses A after planning: its mtime (and so its ETag) changes.
    const used = new Date(Date.now() - DAY_MS);
    await utimes(join(dir, A), used, used);
    let outcomes: unknown;
    const requests = await requestsDuring(backend, async () => (outcomes = await backend.deleteMany(planned)));
    expect(outcomes).toEqual([
      { path: A, status: "changed", reason: expect.stringMatching(/^ETag changed from "/) },
      { path: B, status: "deleted" },
    ]);
    // One conditional DELETE each; the refused one is looked at afterwards to tell "changed" from "gone" (the other PROPFIND checks the root).
    expect(requests).toEqual({ DELETE: 2, "PROPFIND depth=0": 2 });
    expect(existsSync(join(dir, A))).toBe(true);
    expect(existsSync(join(dir, B))).toBe(false);
    await backend.close();
  });

  it("checks a file with a weak ETag right before its DELETE, and compares ETags weakly", async () => {
    const { backend, dir } = await freshBackend(withInfinity);
    await backend.put(A, new Uint8Array(1));
    await backend.put(B, new Uint8Array(2));
    const planned = [(await backend.stat(A))!, (await backend.stat(B))!];
    // Apache marks the ETag of a file changed less than a second ago weak…
    expect(planned.map((f) => f.etag)).toEqual([expect.stringMatching(/^W\/"/), expect.stringMatching(/^W\/"/)]);
    await utimes(join(dir, A), new Date(Date.now() - DAY_MS), new Date(Date.now() - DAY_MS));
    // …and strong, with the same opaque part, once it is older.
    await setTimeout(1100);
    let outcomes: unknown;
    const requests = await requestsDuring(backend, async () => (outcomes = await backend.deleteMany(planned)));
    expect(outcomes).toEqual([
      { path: A, status: "changed", reason: expect.stringMatching(/^ETag changed/) },
      { path: B, status: "deleted" },
    ]);
    expect(requests).toEqual({ "PROPFIND depth=0": 3, DELETE: 1 });
    expect(existsSync(join(dir, A))).toBe(true);
    await backend.close();
  });

  it("counts a file whose DELETE answer was lost, and that is gone when asked again, as missing", async () => {
    const { url, dir } = await freshCollection(withInfinity);
    const writer = await open(url, envFor(withInfinity));
    await putAged(writer, dir, A);
    await writer.put(B, new Uint8Array(1));
    const planned = [(await writer.stat(A))!, (await writer.stat(B))!];
    let deletes = 0;
    // The first DELETE of each file reaches the server, which deletes it; its answer is replaced by a 500.
    const { proxy, url: through } = await proxied(url, { rate: 1, seed: 1, kinds: ["error-after"], applies: (method) => method === "DELETE" && ++deletes <= 2 });
    const backend = await open(through, envFor(withInfinity));
    expect(await backend.deleteMany(planned)).toEqual([
      { path: A, status: "missing" },
      { path: B, status: "missing" },
    ]);
    expect(proxy.counts["error-after"]).toBe(2);
    expect(existsSync(join(dir, A)) || existsSync(join(dir, B))).toBe(false);
    await Promise.all([backend.close(), writer.close(), proxy.stop()]);
  });

  it("stops at the first refusal of the credentials (kind auth), without trying every file", async () => {
    const { url } = await freshCollection(withInfinity);
    const backend = await open(url, { SSTATE_KEEPER_WEBDAV_USER: "keeper", SSTATE_KEEPER_WEBDAV_PASSWORD: "not-the-password" });
    const planned = Array.from({ length: 200 }, (_, i) => ({ path: `0c/9b/f${i}.siginfo`, size: 1, mtimeMs: 0, etag: `"1-${i}"` }));
    let failure: unknown;
    const requests = await requestsDuring(backend, () => backend.deleteMany(planned).catch((error: unknown) => (failure = error)));
    expect(failure).toMatchObject({ kind: "auth", message: expect.stringMatching(/^WebDAV server http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized on PROPFIND \/dav\//) });
    expect(requests).toEqual({ "PROPFIND depth=0": 1 });
  });

  it("gives up on a server that stops answering after the first requests that time out, not after every file's retries", async () => {
    const { url } = await freshCollection(withInfinity);
    const { proxy, url: through } = await proxied(url, { rate: 1, seed: 8, kinds: ["stall"], applies: (method) => method === "DELETE" });
    // A budget no retry fits in: every file gives up after its first DELETE.
    const timeouts = { connectMs: 1000, idleMs: 1000, operationMs: 1000 };
    const backend = await open(through, envFor(withInfinity), timeouts);
    const planned = Array.from({ length: 100 }, (_, i) => ({ path: `0c/9b/f${i}.siginfo`, size: 1, mtimeMs: 0, etag: `"1-${i}"` }));
    const started = Date.now();
    let failure: unknown;
    const requests = await requestsDuring(backend, () => backend.deleteMany(planned).catch((error: unknown) => (failure = error)));
    expect(failure).toMatchObject({
      kind: "unavailable",
      message: expect.stringMatching(/^WebDAV server http:\/\/127\.0\.0\.1:\d+ did not answer DELETE \/dav\/t-\w+\/0c\/9b\/f\d+\.siginfo within 1 s: /),
    });
    // The 16 DELETEs in flight, and the few started while the first two gave up; none after the third.
    expect(requests["DELETE"]).toBeLessThanOrEqual(16 + 2);
    expect(Date.now() - started).toBeLessThan(timeouts.operationMs + 2 * timeouts.idleMs);
    // And the rest of the run fails at once too.
    await expect(backend.stat("0c/9b/f0.siginfo")).rejects.toBe(failure);
    await Promise.all([backend.close(), proxy.stop()]);
  });

  it("refuses to delete anything under a root collection that does not exist (rather than count every file as gone)", async () => {
    const backend = await open(`${withoutInfinity.url}no-such-dir/`, {});
    const planned = [{ path: "0c/9b/f.siginfo", size: 1, mtimeMs: 0, etag: '"1-a"' }];
    await expect(backend.deleteMany(planned)).rejects.toMatchObject({ kind: "config", message: expect.stringMatching(/no-such-dir\/: no such collection on the WebDAV server \(404\)/) });
    await backend.close();
    await backend.close();
  });
});

const ROOT_ANSWER = '<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype>' +
  "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>";

/** A WebDAV root collection at /dav/, and `answer(method, depth)` for every other request (default 404). */
async function scriptedServer(answer: (method: string, depth: string | undefined) => { status: number; body?: string } | undefined): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((request, response) => {
    request.resume();
    const root = request.url === "/dav/" && request.method === "PROPFIND" ? { status: 207, body: ROOT_ANSWER } : undefined;
    const scripted = root ?? answer(request.method ?? "GET", request.headers["depth"] as string | undefined) ?? { status: 404, body: "" };
    response.writeHead(scripted.status, { "content-type": "application/xml; charset=utf-8", "content-length": Buffer.byteLength(scripted.body ?? "") });
    response.end(scripted.body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/dav/`, server };
}

const FILE_ANSWER = (href: string) =>
  `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>${href}</D:href><D:propstat><D:prop><D:resourcetype/>` +
  `<D:getcontentlength>3</D:getcontentlength><D:getlastmodified>Mon, 27 Oct 2025 21:31:36 GMT</D:getlastmodified><D:getetag>"3-a"</D:getetag></D:prop>` +
  `<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`;

describe("webdav answers count only when whole (scripted servers)", () => {
  it.each([
    ["a 207 that does not name the file", FILE_ANSWER("/dav/0c/9b/another-file"), /sent an unusable answer to PROPFIND \/dav\/0c\/9b\/f\.siginfo: the answer does not name the resource asked for$/],
    ["a 207 cut short", FILE_ANSWER("/dav/0c/9b/f.siginfo").slice(0, 200), /the closing <\/multistatus> tag is missing/],
    ["an empty 207", "", /the closing <\/multistatus> tag is missing/],
    ["a 207 that is an HTML page", "<html>oops</html>", /the closing <\/multistatus> tag is missing/],
  ])("a stat answered with %s fails (after retries), never 'not found'", async (_name, body, message) => {
    let asked = 0;
    const { url, server } = await scriptedServer(() => (asked++, { status: 207, body }));
    const backend = await open(url, {}, QUICK);
    const stat = backend.stat("0c/9b/f.siginfo");
    await expect(stat).rejects.toMatchObject({ kind: "protocol", message: expect.stringMatching(message) });
    expect(asked).toBeGreaterThan(1);
    // Nor does a conditional delete take it as gone.
    const outcomes = await backend.deleteMany([{ path: "0c/9b/f.siginfo", size: 3, mtimeMs: Date.parse("2025-10-27T21:31:36Z"), etag: 'W/"3-a"' }]);
    expect(outcomes).toEqual([{ path: "0c/9b/f.siginfo", status: "failed", error: expect.stringMatching(message) }]);
    await backend.close();
    server.close();
  });

  it("takes only a 404 as 'not found', and a 207 naming the file as the file", async () => {
    const { url, server } = await scriptedServer((method, depth) => (method === "PROPFIND" && depth === "0" ? { status: 207, body: FILE_ANSWER("/dav/0c/9b/f.siginfo") } : undefined));
    const backend = await open(url, {}, QUICK);
    expect(await backend.stat("0c/9b/f.siginfo")).toEqual({ path: "0c/9b/f.siginfo", size: 3, mtimeMs: Date.parse("2025-10-27T21:31:36Z"), etag: '"3-a"' });
    const gone = await scriptedServer(() => undefined);
    const other = await open(gone.url, {}, QUICK);
    expect(await other.stat("0c/9b/f.siginfo")).toBeUndefined();
    await Promise.all([backend.close(), other.close()]);
    server.close();
    gone.server.close();
  });
});

describe("webdav listing resumes after a lost connection", () => {
  // More than one batch (4096 entries) before the first half of the answer ends, where the proxy cuts it.
  const FILES = 9000;
  let cache: { url: string; dir: string; paths: string[] } | undefined;
  const seeded = async () => {
    if (cache) return cache;
    const { url, dir } = await freshCollection(withInfinity);
    const paths = Array.from({ length: FILES }, (_, i) => `${(i % 90).toString(16).padStart(2, "0")}/${(i % 7).toString(16).padStart(2, "0")}/f${i}.siginfo`);
    await mapConcurrent(paths, 32, async (path) => {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), "x");
    });
    return (cache = { url, dir, paths: paths.sort() });
  };

  it("sends the Depth: infinity PROPFIND again and skips what it had handed out: nothing twice, nothing lost", async () => {
    const { url, paths } = await seeded();
    let propfinds = 0;
    const { proxy, url: through } = await proxied(url, { rate: 1, seed: 2, kinds: ["truncate-reset"], applies: (method) => method === "PROPFIND" && ++propfinds === 1 });
    const backend = await open(through, envFor(withInfinity));
    const batches: number[] = [];
    const listed: string[] = [];
    for await (const batch of backend.list()) {
      batches.push(batch.length);
      listed.push(...batch.map((f) => f.path));
    }
    expect(proxy.counts["truncate-reset"]).toBe(1);
    expect(backend.requestCounts()).toEqual({ "PROPFIND depth=infinity": 2 });
    expect(batches.length).toBeGreaterThan(1);
    expect(listed.sort()).toEqual(paths);
    await Promise.all([backend.close(), proxy.stop()]);
  });

  it("fails, rather than lists, when the answer sent again no longer starts with what was handed out", async () => {
    const { url, dir } = await seeded();
    let propfinds = 0;
    let handedOut: string | undefined;
    const { proxy, url: through } = await proxied(url, {
      rate: 1,
      seed: 3,
      kinds: ["truncate-reset"],
      applies: (method) => {
        if (method !== "PROPFIND") return false;
        // The cache changes between the broken answer and the next request: a file already listed is deleted.
        if (++propfinds === 2 && handedOut !== undefined) unlinkSync(join(dir, handedOut));
        return propfinds === 1;
      },
    });
    const backend = await open(through, envFor(withInfinity));
    const listing = (async () => {
      for await (const batch of backend.list()) handedOut ??= batch[0]!.path;
    })();
    await expect(listing).rejects.toMatchObject({
      kind: "protocol",
      message: expect.stringMatching(/: the listing changed while it was read \(PROPFIND \/dav\/t-\w+\/ was answered differently after a lost connection\); run again$/),
    });
    expect(handedOut).toBeDefined();
    await Promise.all([backend.close(), proxy.stop()]);
  });
});

function basicAuth(server: WebdavServerInfo): Record<string, string> {
  return server.user === undefined ? {} : { authorization: `Basic ${Buffer.from(`${server.user}:${server.password}`).toString("base64")}` };
}

/**
 * A proxy hook that runs `act` once, when the PROPFIND Depth: 1 of `pathname` made under our lock
 * (the second one: the first is the unlocked look) has been answered, before the client gets it.
 */
function lockedCheckOf(pathname: string, act: () => unknown): NonNullable<FaultProxyOptions["onAnswer"]> {
  let checks = 0;
  return async (request, status) => {
    if (request.method === "PROPFIND" && request.headers["depth"] === "1" && status === 207 && request.url === pathname && ++checks === 2) await act();
  };
}

describe("webdav removes a collection only while it is locked and found empty", () => {
  it("an upload into the collection between our check and our DELETE is refused while we hold the lock (423), or survives", async () => {
    const { url, dir } = await freshCollection(withInfinity);
    const collection = `${url}0c/9b/`;
    const upload = `${collection}uploaded-meanwhile.siginfo`;
    const statuses: number[] = [];
    const { proxy, url: through } = await proxied(url, {
      rate: 0,
      seed: 4,
      onAnswer: lockedCheckOf(new URL(collection).pathname, async () => {
        // The locked collection has just been found empty: a build uploads into it, straight to the server.
        statuses.push((await fetch(upload, { method: "PUT", headers: basicAuth(withInfinity), body: "new" })).status);
      }),
    });
    const backend = await open(through, envFor(withInfinity));
    await backend.put(A, new Uint8Array(1));
    await backend.deleteMany([(await backend.stat(A))!]);
    let note: unknown;
    const requests = await requestsDuring(backend, async () => (note = await backend.removeEmptyDirs([parentOfPath(A)])));
    expect(note).toBeUndefined();
    expect(requests["LOCK"]).toBeGreaterThanOrEqual(2);
    expect(statuses).toHaveLength(1);
    if (statuses[0]! >= 200 && statuses[0]! < 300 && statuses[0] !== 207) {
      // Accepted (the server lost our lock): then it must have survived.
      expect(existsSync(join(dir, "0c/9b/uploaded-meanwhile.siginfo"))).toBe(true);
    } else {
      // Apache refuses it with a 207 whose member is 423 Locked, and the empty collection goes.
      expect([207, 423]).toContain(statuses[0]);
      expect(await directoriesUnder(dir)).toEqual([]);
    }
    // The upload works again once the lock is gone.
    await backend.put("0c/9b/uploaded-meanwhile.siginfo", new Uint8Array(2));
    expect((await listAll(backend)).map((f) => f.path)).toEqual(["0c/9b/uploaded-meanwhile.siginfo"]);
    await Promise.all([backend.close(), proxy.stop()]);
  });

  it("a file written on the server's disk between our check and our DELETE (no lock sees that) keeps the collection: its ETag changed", async () => {
    const { url, dir } = await freshCollection(withInfinity);
    const collection = new URL(`${url}0c/9b/`).pathname;
    let written = false;
    const { proxy, url: through } = await proxied(url, {
      rate: 0,
      seed: 5,
      onAnswer: lockedCheckOf(collection, () => {
        written = true;
        writeFileSync(join(dir, "0c/9b/written-on-disk.siginfo"), "new");
      }),
    });
    const backend = await open(through, envFor(withInfinity));
    await backend.put(A, new Uint8Array(1));
    await backend.deleteMany([(await backend.stat(A))!]);
    expect(await backend.removeEmptyDirs([parentOfPath(A)])).toBeUndefined();
    expect(written).toBe(true);
    expect(readFileSync(join(dir, "0c/9b/written-on-disk.siginfo"), "utf8")).toBe("new");
    expect((await directoriesUnder(dir)).sort()).toEqual(["0c", "0c/9b"]);
    await Promise.all([backend.close(), proxy.stop()]);
  });

  it("a server without locks keeps its collections and says so once", async () => {
    const server = await startWebdav({ depthInfinity: true, locks: false });
    try {
      const { backend, dir } = await freshBackend(server);
      for (const path of [A, B]) await backend.put(path, new Uint8Array(1));
      await backend.deleteMany(await Promise.all([A, B].map(async (path) => (await backend.stat(path))!)));
      const note = await backend.removeEmptyDirs([parentOfPath(A), parentOfPath(B)]);
      expect(note).toMatch(
        /^note: http:\/\/127\.0\.0\.1:\d+\/dav\/t-\w+\/ does not support WebDAV locks, so 4 collections that the deletions may have emptied stay in place \(removing a collection unlocked could delete what is uploaded into it meanwhile\)$/,
      );
      expect((await directoriesUnder(dir)).sort()).toEqual(["0c", "0c/9b", "1d", "1d/2e"]);
      await backend.close();
    } finally {
      await server.stop();
    }
  });

  it("under network faults, never removes a collection that holds a file", async () => {
    const { url, dir } = await freshCollection(withInfinity);
    const hashes = Array.from({ length: 90 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, "0").repeat(8));
    const kept = hashes.filter((_, i) => i % 3 === 0).map((hash) => ARCHIVE_IN(hash));
    const emptied = hashes.filter((_, i) => i % 3 !== 0).map((hash) => ARCHIVE_IN(hash, "package"));
    for (const path of kept) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), "kept");
    }
    for (const path of emptied) await mkdir(dirname(join(dir, path)), { recursive: true });
    const { proxy, url: through } = await proxied(url, { rate: 0.3, seed: 6 });
    const backend = await open(through, envFor(withInfinity), { connectMs: 500, idleMs: 500, operationMs: 3000 });
    const note = await backend.removeEmptyDirs([...kept, ...emptied].map(parentOfPath));
    console.log(`removeEmptyDirs through ${proxy.counts.requests} requests, faults: ${JSON.stringify(proxy.counts)}; ${note ?? "no note"}`);
    for (const path of kept) expect(readFileSync(join(dir, path), "utf8")).toBe("kept");
    const left = new Set(await directoriesUnder(dir));
    expect(left.size).toBeLessThan(new Set([...kept, ...emptied].flatMap((p) => [parentOfPath(p), p.slice(0, 2)])).size);
    await Promise.all([backend.close(), proxy.stop()]);
  });
});

function parentOfPath(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

describe("webdav target URLs", () => {
  it("accepts http(s) and webdav+http(s), normalised to the plain scheme with a trailing slash", () => {
    expect(parseTarget("webdav+http://dav.example.com/sstate", "/")).toMatchObject({ scheme: "webdav", url: "http://dav.example.com/sstate/" });
    expect(parseTarget("https://dav.example.com:443/a/b/", "/")).toMatchObject({ scheme: "webdav", url: "https://dav.example.com/a/b/" });
    expect(parseTarget("WEBDAV+HTTPS://Dav.Example.com", "/")).toMatchObject({ scheme: "webdav", url: "https://dav.example.com/" });
  });

  it("rejects credentials, queries and fragments in the URL", () => {
    expect(() => parseTarget("https://u:p@dav.example.com/x", "/")).toThrow(TargetError);
    expect(() => parseTarget("https://dav.example.com/x?y=1", "/")).toThrow(/must not have a query or fragment/);
  });
});
