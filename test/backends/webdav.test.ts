import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { BackendError, type Backend, type RemoteFile } from "../../src/backends/backend.ts";
import { parseTarget, TargetError, type Env } from "../../src/backends/index.ts";
import { netrcCredentials } from "../../src/backends/webdav-credentials.ts";
import type { WebdavBackend } from "../../src/backends/webdav.ts";
import type { WebdavServerInfo } from "../support/servers.ts";
import type {} from "../support/global-servers.ts";
import { openOptions } from "../support/io.ts";
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

async function open(url: string, env: Env): Promise<WebdavBackend> {
  return (await parseTarget(url, "/").open(env, openOptions())) as WebdavBackend;
}

async function freshBackend(server: WebdavServerInfo): Promise<{ backend: WebdavBackend; dir: string }> {
  const { url, dir } = await freshCollection(server);
  return { backend: await open(url, envFor(server)), dir };
}

async function listAll(backend: Backend): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  for await (const batch of backend.list()) files.push(...batch);
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
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
  for (const [name, server] of [
    ["Depth: infinity", withInfinity],
    ["Depth: 1", withoutInfinity],
  ] as const) {
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
    await expect(listing).rejects.toThrow(/^WebDAV server http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized on PROPFIND \/dav\/t-\w+\/\): check SSTATE_KEEPER_WEBDAV_USER\/PASSWORD or ~\/\.netrc$/);
    await expect(listing).rejects.toMatchObject({ kind: "auth" });
    await expect(backend.put("ab/x", new Uint8Array(1))).rejects.toThrow(/refused the credentials/);
    await expect(backend.stat("ab/x")).rejects.toThrow(/refused the credentials/);
    const error = (await listing.catch((e: unknown) => e)) as Error;
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain("not-the-password");
    await backend.close();
  });

  it("says credentials are needed when none are given", async () => {
    const backend = await open(withInfinity.url, {});
    await expect(listAll(backend)).rejects.toThrow(/requires credentials \(401 Unauthorized on PROPFIND \/dav\/\): set SSTATE_KEEPER_WEBDAV_USER\/PASSWORD or add 'machine 127\.0\.0\.1' to ~\/\.netrc/);
    await backend.close();
  });

  it("refuses half of the credentials in the environment", async () => {
    await expect(open(withInfinity.url, { SSTATE_KEEPER_WEBDAV_USER: "keeper" })).rejects.toThrow(/set both SSTATE_KEEPER_WEBDAV_USER and SSTATE_KEEPER_WEBDAV_PASSWORD/);
  });

  it("says an unreachable server cannot be reached", async () => {
    const backend = await open(`http://127.0.0.1:${await closedPort()}/dav/`, {});
    await expect(listAll(backend)).rejects.toThrow(/^cannot reach WebDAV server http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED on PROPFIND \/dav\/\): check the URL and that the server is running$/);
    await expect(backend.get("x")).rejects.toBeInstanceOf(BackendError);
    // Nothing answered at all: the whole call could not be made.
    await expect(backend.deleteMany(["a", "b"].map((path) => ({ path, size: 1, mtimeMs: 0 })))).rejects.toMatchObject({ kind: "unavailable", message: expect.stringContaining("cannot reach WebDAV server") });
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

const SABRE_STYLE = (origin: string) => `<?xml version="1.0"?>
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
      SABRE_STYLE(origin).replace("</d:multistatus>", "<d:response><d:href>/files/u/cache/private/</d:href><d:status>HTTP/1.1 403 Forbidden</d:status></d:response></d:multistatus>"),
    );
    const first = await open(truncated.url, {});
    await expect(listAll(first)).rejects.toThrow(/^WebDAV server http:\/\/127\.0\.0\.1:\d+ sent an unusable answer to PROPFIND \/files\/u\/cache\/: the closing <\/multistatus> tag is missing \(the answer was cut short\)$/);
    const second = await open(forbidden.url, {});
    await expect(listAll(second)).rejects.toThrow(/could not list .*\/private \(status 403\)/);
    await Promise.all([first.close(), second.close()]);
    truncated.server.close();
    forbidden.server.close();
  });
});

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
