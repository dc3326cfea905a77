// Unit tests need nothing; integration tests run against real servers (Ceph radosgw S3,
// Apache WebDAV) that the "integration" project's globalSetup starts once per run. vitest
// runs a project's globalSetup only when that project has queued test files, so a run
// that selects only unit tests starts no servers.
// Servers need the Debian packages from scripts/servers/install-debian-packages.sh.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const INTEGRATION_TESTS = ["test/servers.test.ts", "test/remote/**/*.test.ts", "test/backends/s3.test.ts", "test/backends/webdav.test.ts", "test/**/*.integration.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Threads started by the code under test (the fs listing) load its .ts modules through this.
    execArgv: ["--import", fileURLToPath(new URL("./test/support/typescript-loader.mjs", import.meta.url))],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: [...INTEGRATION_TESTS, "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: INTEGRATION_TESTS,
          globalSetup: ["test/support/global-servers.ts"],
        },
      },
    ],
  },
});
