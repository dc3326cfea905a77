// vitest globalSetup: starts ONE radosgw (S3) and TWO Apache WebDAV servers for
// the whole test run and hands their connection info to the tests:
//
//   import { inject } from "vitest";
//   const s3 = inject("s3");                    // S3ServerInfo
//   const dav = inject("webdav");               // DavDepthInfinity On, Basic auth keeper / keeper-pass
//   const davNoInf = inject("webdavNoInfinity"); // DavDepthInfinity Off (Depth: infinity -> 403), no auth
//
// vitest runs a project's globalSetup only when that project has test files to
// run, so put it on a project that includes only the integration tests (see
// vitest.servers.config.ts): unit-test-only runs then start no servers.

import type { TestProject } from "vitest/node";
import { type S3Server, type S3ServerInfo, startRadosgw, startWebdav, type WebdavServer, type WebdavServerInfo } from "./servers.ts";

declare module "vitest" {
  export interface ProvidedContext {
    s3: S3ServerInfo;
    webdav: WebdavServerInfo;
    webdavNoInfinity: WebdavServerInfo;
  }
}

export const WEBDAV_USER = "keeper";
export const WEBDAV_PASSWORD = "keeper-pass";

function s3Info(s: S3Server): S3ServerInfo {
  return {
    endpoint: s.endpoint,
    fakedEndpoint: s.fakedEndpoint,
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    region: s.region,
  };
}

function webdavInfo(s: WebdavServer): WebdavServerInfo {
  const info: WebdavServerInfo = { url: s.url, dataDir: s.dataDir };
  if (s.user !== undefined) info.user = s.user;
  if (s.password !== undefined) info.password = s.password;
  return info;
}

async function stopAll(servers: Array<{ stop(): Promise<void> }>): Promise<void> {
  const results = await Promise.allSettled(servers.map((s) => s.stop()));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (errors.length > 0) throw new AggregateError(errors, "stopping the test servers failed");
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const started = await Promise.allSettled([
    startRadosgw(),
    startWebdav({ depthInfinity: true, basicAuth: { user: WEBDAV_USER, password: WEBDAV_PASSWORD } }),
    startWebdav({ depthInfinity: false }),
  ]);
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failures = started.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll(servers).catch(() => undefined);
    const message = failures.map((f) => (f instanceof Error ? f.message : String(f))).join("\n\n");
    throw new Error(`test servers failed to start:\n${message}`, { cause: failures[0] });
  }
  const [s3, webdav, webdavNoInfinity] = servers as [S3Server, WebdavServer, WebdavServer];
  project.provide("s3", s3Info(s3));
  project.provide("webdav", webdavInfo(webdav));
  project.provide("webdavNoInfinity", webdavInfo(webdavNoInfinity));
  if (process.env["SSTATE_KEEPER_SERVER_TIMINGS"] === "1") {
    console.log(`[global-servers] started radosgw + 2 × Apache in ${Date.now() - t0} ms`);
  }

  return async () => {
    const t1 = Date.now();
    await stopAll([s3, webdav, webdavNoInfinity]);
    if (process.env["SSTATE_KEEPER_SERVER_TIMINGS"] === "1") {
      console.log(`[global-servers] stopped in ${Date.now() - t1} ms`);
    }
  };
}
