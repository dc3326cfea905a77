import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, inject } from "vitest";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import type {} from "../support/global-servers.ts";
import { openOptions } from "../support/io.ts";
import { uploadCleansLeftovers } from "../support/upload-leftovers.ts";

const server = inject("webdav");

describe("upload to WebDAV (Apache)", () => {
  uploadCleansLeftovers(async () => {
    const name = `leftovers-${randomBytes(6).toString("hex")}`;
    const authorization = `Basic ${Buffer.from(`${server.user}:${server.password}`).toString("base64")}`;
    expect((await fetch(`${server.url}${name}/`, { method: "MKCOL", headers: { authorization } })).status).toBe(201);
    const url = `${server.url}${name}/`;
    const env: Env = { SSTATE_KEEPER_WEBDAV_USER: server.user, SSTATE_KEEPER_WEBDAV_PASSWORD: server.password };
    return {
      url,
      env,
      dir: join(server.dataDir, name),
      async write(path, data) {
        const backend = await parseTarget(url, "/").open(env, openOptions());
        await backend.put(path, data);
        await backend.close();
      },
    };
  });
});
