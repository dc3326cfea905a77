// Tests by what they need, fastest first (README "Development"):
// - core: no disk beyond reading checked-in fixtures, no child processes, no servers; the inner
//   loop (`npx vitest run --project core`, well under 30 s), also run under Deno by .ci/run.
// - fs: real files and directories, child processes; every test file that is in neither list.
// - servers: real Ceph radosgw (S3) and Apache (WebDAV) servers, which this project's
//   globalSetup starts once per run. vitest runs a project's globalSetup only when that project
//   has queued test files, so a run that selects no server test starts no servers.
// Servers need the Debian packages from scripts/servers/install-debian-packages.sh.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const CORE_TESTS = [
  "test/apply-memory.test.ts",
  "test/apply-report.test.ts",
  "test/apply-verify.test.ts",
  "test/budget.test.ts",
  "test/build-manifest-format.test.ts",
  "test/cli-commands.test.ts",
  "test/concurrency.test.ts",
  "test/demo-generate.test.ts",
  "test/info.test.ts",
  "test/json-text.test.ts",
  "test/output-pieces.test.ts",
  "test/listing.test.ts",
  "test/listing-sources.test.ts",
  "test/markdown.test.ts",
  "test/plan-diff.test.ts",
  "test/plan-file.test.ts",
  "test/plan-golden.test.ts",
  "test/planner.test.ts",
  "test/preset-parity.test.ts",
  "test/policy-errors.test.ts",
  "test/progress.test.ts",
  "test/schema.test.ts",
  "test/secrets.test.ts",
  "test/siginfo.test.ts",
  "test/sstate-name.test.ts",
  "test/warnings.test.ts",
  "test/why.test.ts",
  "test/use-logs.test.ts",
  "test/backends/memory.test.ts",
  "test/backends/registry.test.ts",
  "test/backends/s3-errors.test.ts",
  "test/backends/s3-keys.test.ts",
  "test/backends/s3-listing.test.ts",
  "test/backends/webdav-multistatus.test.ts",
];
const SERVER_TESTS = ["test/servers.test.ts", "test/remote/**/*.test.ts", "test/backends/s3.test.ts", "test/backends/webdav.test.ts", "test/**/*.integration.test.ts"];
/** Threads started by the code under test (the fs listing) load its .ts modules through this. */
const TYPESCRIPT_THREADS = ["--import", fileURLToPath(new URL("./test/support/typescript-loader.mjs", import.meta.url))];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: { name: "core", include: CORE_TESTS, setupFiles: ["test/support/runtime-check.ts"] },
      },
      {
        extends: true,
        test: {
          name: "fs",
          include: ["test/**/*.test.ts"],
          exclude: [...CORE_TESTS, ...SERVER_TESTS, "**/node_modules/**"],
          execArgv: TYPESCRIPT_THREADS,
        },
      },
      {
        extends: true,
        test: {
          name: "servers",
          include: SERVER_TESTS,
          globalSetup: ["test/support/global-servers.ts"],
          execArgv: TYPESCRIPT_THREADS,
        },
      },
    ],
  },
});
