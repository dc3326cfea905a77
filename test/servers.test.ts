// Integration test of the real test servers started once per run by
// test/support/global-servers.ts (vitest globalSetup; values via inject()).
import { mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, inject, test } from "vitest";
import type { S3ServerInfo } from "./support/servers.ts";
import type {} from "./support/global-servers.ts"; // ProvidedContext keys

const DAY_MS = 24 * 60 * 60 * 1000;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

function propfind(url: string | URL, depth: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "PROPFIND",
    headers: { depth, "content-type": "application/xml; charset=utf-8", ...headers },
    body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
  });
}

describe("WebDAV (Apache mod_dav_fs)", () => {
  const dav = inject("webdav");
  const davNoInf = inject("webdavNoInfinity");
  const auth = basic(dav.user ?? "", dav.password ?? "");

  test("connection info", () => {
    expect(dav.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dav\/$/);
    expect(davNoInf.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dav\/$/);
    expect(dav.url).not.toBe(davNoInf.url);
    expect(dav.user).toBe("keeper");
    expect(dav.password).toBe("keeper-pass");
    expect(davNoInf.user).toBeUndefined();
    expect(davNoInf.password).toBeUndefined();
  });

  test("PUT with auth; PROPFIND Depth: infinity sees it and files put into dataDir", async () => {
    // A directory and an old file created directly on disk, as a test would.
    const subDir = join(dav.dataDir, "servers-test", "sub");
    await mkdir(subDir, { recursive: true });
    const oldFile = join(subDir, "old.siginfo");
    await writeFile(oldFile, "old");
    const oldTime = new Date(Date.now() - 400 * DAY_MS);
    await utimes(oldFile, oldTime, oldTime);

    // PUT into the directory the test (root) created: Apache (www-data) can write there.
    const put = await fetch(new URL("servers-test/sub/new.tar.zst", dav.url), {
      method: "PUT",
      headers: { authorization: auth, "content-type": "application/octet-stream" },
      body: "new content",
    });
    expect(put.status).toBe(201);
    expect(await readFile(join(subDir, "new.tar.zst"), "utf8")).toBe("new content");

    const res = await propfind(dav.url, "infinity", { authorization: auth });
    expect(res.status).toBe(207);
    const xml = await res.text();
    expect(xml).toContain("<D:href>/dav/servers-test/sub/new.tar.zst</D:href>");
    expect(xml).toContain("<D:href>/dav/servers-test/sub/old.siginfo</D:href>");
    // getlastmodified of the old file is its mtime, 400 days ago.
    const oldEntry = xml.split("<D:response").find((r) => r.includes("/dav/servers-test/sub/old.siginfo"));
    const lastModified = /<lp1:getlastmodified>([^<]+)<\/lp1:getlastmodified>/.exec(oldEntry ?? "")?.[1];
    expect(lastModified).toBeDefined();
    const ageDays = (Date.now() - new Date(lastModified ?? "").getTime()) / DAY_MS;
    expect(ageDays).toBeGreaterThan(399);
    expect(ageDays).toBeLessThan(401);

    // Deleting a directory tree (partly created by root) works.
    const del = await fetch(new URL("servers-test/", dav.url), { method: "DELETE", headers: { authorization: auth } });
    expect(del.status).toBe(204);
    await expect(stat(join(dav.dataDir, "servers-test"))).rejects.toThrow(/ENOENT/);
  });

  test("wrong or missing credentials get 401", async () => {
    const wrong = await fetch(dav.url, { method: "OPTIONS", headers: { authorization: basic("keeper", "wrong") } });
    expect(wrong.status).toBe(401);
    const none = await propfind(dav.url, "1");
    expect(none.status).toBe(401);
    const putWrong = await fetch(new URL("nope.txt", dav.url), {
      method: "PUT",
      headers: { authorization: basic("keeper", "wrong") },
      body: "x",
    });
    expect(putWrong.status).toBe(401);
  });

  test("instance without DavDepthInfinity answers Depth: infinity with 403, Depth: 1 with 207", async () => {
    const inf = await propfind(davNoInf.url, "infinity");
    expect(inf.status).toBe(403);
    await inf.arrayBuffer();
    const one = await propfind(davNoInf.url, "1");
    expect(one.status).toBe(207);
    await one.arrayBuffer();
  });
});

describe("S3 (Ceph RADOS Gateway)", () => {
  const s3 = inject("s3");
  const bucket = `servers-test-${process.pid}-${Date.now().toString(36)}`;
  const client = (info: S3ServerInfo, endpoint: string): S3Client =>
    new S3Client({
      endpoint,
      region: info.region,
      forcePathStyle: true,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    });
  const normal = client(s3, s3.endpoint);
  const faked = client(s3, s3.fakedEndpoint);
  let created = false;

  afterAll(async () => {
    if (created) {
      await normal.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "a/new.siginfo" }, { Key: "a/old.siginfo" }] } }),
      );
      await normal.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
    normal.destroy();
    faked.destroy();
  });

  test("connection info", () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.fakedEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.accessKeyId).toBe("sstatekeeper");
    expect(s3.secretAccessKey).toBe("sstatekeeper-secret");
    expect(s3.region).toBe("us-east-1");
  });

  test("objects written through the faked endpoint are 400 days old", async () => {
    await normal.send(new CreateBucketCommand({ Bucket: bucket }));
    created = true;
    await normal.send(new PutObjectCommand({ Bucket: bucket, Key: "a/new.siginfo", Body: "new" }));
    await faked.send(new PutObjectCommand({ Bucket: bucket, Key: "a/old.siginfo", Body: "old" }));

    const list = await normal.send(new ListObjectsV2Command({ Bucket: bucket }));
    const byKey = new Map((list.Contents ?? []).map((o) => [o.Key, o]));
    expect([...byKey.keys()].sort()).toEqual(["a/new.siginfo", "a/old.siginfo"]);

    const now = Date.now();
    const newAge = now - (byKey.get("a/new.siginfo")?.LastModified?.getTime() ?? 0);
    const oldAge = now - (byKey.get("a/old.siginfo")?.LastModified?.getTime() ?? now);
    expect(Math.abs(newAge)).toBeLessThan(5 * 60 * 1000);
    expect(oldAge).toBeGreaterThan(390 * DAY_MS);
    expect(oldAge).toBeLessThan(410 * DAY_MS);
    expect(byKey.get("a/old.siginfo")?.Size).toBe(3);
  });
});
