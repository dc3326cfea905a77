// Reading the logs a policy's uses: names, from disk, through the CLI: what is reported, and when.
import { mkdir, mkdtemp, readFile, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { parsePlan } from "../src/plan/read-plan.ts";
import { testIo } from "./support/io.ts";
import { sstatePath } from "./support/listing.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const OLD = new Date("2025-01-01T00:00:00Z");
const ARCHIVES = ["zlib", "m4", "bash"].map((pn) => sstatePath({ pn, arch: "core2-64", task: "package", seed: `read-${pn}` }));
/** The logs' first line, older than the 30-day window: they cover it. */
const START = `192.0.2.10 - - [01/Oct/2026:00:00:00 +0000] "GET /robots.txt HTTP/1.1" 404 0 "-" "curl/8.5.0"`;
const line = (path: string, when = "20/Nov/2026:14:03:07 +0000") => `192.0.2.10 - - [${when}] "GET /sstate/${path} HTTP/1.1" 200 42 "-" "Wget/1.21.3"`;

/** A local cache of old archives and a policy with the given uses: entry; `logs` are written under logs/. */
async function setUp(uses: string, logs: Record<string, string | Uint8Array>) {
  const work = await mkdtemp(join(tmpdir(), "sstate-keeper-uses-read-"));
  for (const archive of ARCHIVES) {
    const path = join(work, "cache", archive);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, "x");
    await utimes(path, OLD, OLD);
  }
  await mkdir(join(work, "conf", "logs"), { recursive: true });
  for (const [name, content] of Object.entries(logs)) await writeFile(join(work, "conf", "logs", name), content);
  await writeFile(join(work, "conf", "policy.yaml"), `version: 1\nuses:\n  - ${uses}\nrules:\n  - { name: unused, delete: { unused-for: 30d } }\n`);
  const io = testIo({ cwd: work, clock: () => NOW });
  const code = await run(["plan", "--policy", "conf/policy.yaml", "--target", "cache", "--now", NOW.toISOString(), "--out", "plan.json", "--format", "json"], io);
  const deleted = async () => parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json").delete.map((file) => file.path);
  return { work, code, stderr: io.stderrText, deleted };
}

describe("reading the uses: logs", () => {
  it("reads plain and gzipped logs matched by a glob relative to the policy file", async () => {
    const result = await setUp(`{ access-log: "logs/access.log*", prefix: /sstate/ }`, {
      "access.log": `${line(ARCHIVES[0]!)}\n`,
      "access.log.1.gz": gzipSync(`${START}\n${line(ARCHIVES[1]!)}\n`),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(await result.deleted()).toEqual([ARCHIVES[2]]);
  });

  it("warns once per log about lines not in its format, with their count and the first, and plans", async () => {
    const result = await setUp(`{ access-log: logs/access.log, prefix: /sstate/ }`, {
      "access.log": [START, line(ARCHIVES[0]!), "garbage", line(ARCHIVES[1]!, "not a time"), "", `127.0.0.1 - - [20/Nov/2026:14:03:07 +0000] "GET /sstate/x HTTP/1.1" 200 5`].join("\n"),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("conf/policy.yaml:3:19: warning: logs/access.log: 3 of 6 lines are not in the combined format (the first is line 3); they were skipped\n");
    expect((await result.deleted()).sort()).toEqual([ARCHIVES[1], ARCHIVES[2]].sort());
  });

  it("warns when a log has no use under the prefix (a wrong prefix: would make every file look unused)", async () => {
    const result = await setUp(`{ access-log: logs/access.log, prefix: /cache/ }`, { "access.log": `${START}\n${line(ARCHIVES[0]!)}\n` });
    // Every archive then looks unused: the plan would delete them all, which the allow-empty guard refuses.
    expect(result.code).toBe(3);
    expect(result.stderr.split("\n")[0]).toBe("conf/policy.yaml:3:19: warning: access log 'logs/access.log': no request in it is a use of a file under '/cache/' (check its prefix: setting)");
  });

  it("warns when the logs begin after the unused-for window does, and plans", async () => {
    const result = await setUp(`{ access-log: "logs/access.log*", prefix: /sstate/ }`, { "access.log": `${line(ARCHIVES[0]!)}\n${line(ARCHIVES[1]!)}\n` });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "conf/policy.yaml:3:19: warning: access log 'logs/access.log*' begins 2026-11-20 14:03 UTC, 10d21h before now, and unused-for looks back 30d: a file used only before the logs begin counts as unused (keep the logs longer)\n",
    );
  });

  it("validate reports a local log that does not exist, as plan does", async () => {
    const { work } = await setUp(`{ access-log: logs/missing.log }`, {});
    const io = testIo({ cwd: work });
    expect(await run(["validate", "conf/policy.yaml"], io)).toBe(2);
    expect(io.stderrText).toBe("conf/policy.yaml:3:19: access log 'logs/missing.log': no log file matches (paths are relative to the policy file)\n");
  });

  it.each([
    ["a log that does not exist", `{ access-log: logs/missing.log }`, {}, "conf/policy.yaml:3:19: access log 'logs/missing.log': no log file matches (paths are relative to the policy file)"],
    ["a glob that matches nothing", `{ access-log: "logs/*.log" }`, { "other.txt": "" }, "conf/policy.yaml:3:19: access log 'logs/*.log': no log file matches (paths are relative to the policy file)"],
    [
      "a gzip file cut short",
      `{ access-log: logs/access.log.gz }`,
      { "access.log.gz": gzipSync(line(ARCHIVES[0]!)).subarray(0, 20) },
      "conf/policy.yaml:3:19: access log 'logs/access.log.gz': cannot read logs/access.log.gz: ",
    ],
    ["a location no backend reads", `{ access-log: "ftp://host/access.log" }`, {}, "conf/policy.yaml:3:19: access log 'ftp://host/access.log': unsupported target scheme"],
  ])("stops with exit 2 before listing on %s", async (_, uses, logs, message) => {
    const result = await setUp(uses, logs);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });
});
