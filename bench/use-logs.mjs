#!/usr/bin/env node
// `npm run build && node bench/use-logs.mjs [--mib N] [--dir DIR]`: how fast `plan` streams a
// combined-format access log (issue 14: ≥ 1 GB in ≤ 30 s, bounded memory). Writes a log of
// N MiB (default 1100) for a 2,000-archive local cache to a temp file, plans with `unused-for`
// on it with the built CLI, and prints the wall time, MB/s and peak RSS. The log is deleted after.
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { measureCommand, RSS_METHOD } from "./lib/measure.mjs";
import { CLI } from "./lib/paths.mjs";

const { values } = parseArgs({ options: { mib: { type: "string", default: "1100" }, dir: { type: "string", default: tmpdir() } } });
const targetBytes = Number(values.mib) * 1024 * 1024;
const ARCHIVES = 2000;
const BOUND_MS = 30_000;

const scratch = await mkdtemp(join(values.dir, "sstate-keeper-bench-uses-"));
try {
  const old = new Date(Date.now() - 400 * 86_400_000);
  const paths = [];
  for (let i = 0; i < ARCHIVES; i++) {
    const hash = (i * 2654435761 >>> 0).toString(16).padStart(8, "0").repeat(8);
    const path = `${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:pkg${i % 300}:core2-64-poky-linux:1.0:r0:core2-64:14:${hash}_package.tar.zst`;
    paths.push(path);
    await mkdir(dirname(join(scratch, "cache", path)), { recursive: true });
    await writeFile(join(scratch, "cache", path), "x");
    await utimes(join(scratch, "cache", path), old, old);
  }
  const log = join(scratch, "access.log");
  const started = Date.now();
  const out = createWriteStream(log, { highWaterMark: 4 * 1024 * 1024 });
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  let written = 0;
  for (let n = 0; written < targetBytes; n++) {
    let chunk = "";
    for (let k = 0; k < 2000; k++, n++) {
      // A third of the cache is used at some point in the last 60 days; the rest of the traffic misses or lists.
      const day = 1 + (n % 28);
      const path = n % 7 === 0 ? `/sstate/missing/${n}.tar.zst` : `/sstate/${paths[(n * 7919) % Math.floor(ARCHIVES / 3)]}`;
      const method = n % 3 === 0 ? "HEAD" : "GET";
      const status = n % 7 === 0 ? 404 : 200;
      chunk += `10.${n % 250}.${(n >> 8) % 250}.7 - - [${String(day).padStart(2, "0")}/${months[10 + (n % 2)]}/2026:${
        String(n % 24).padStart(2, "0")
      }:13:07 +0000] "${method} ${path} HTTP/1.1" ${status} ${n % 100000} "-" "Wget/1.21.3"\n`;
    }
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  const bytes = (await stat(log)).size;
  process.stderr.write(`wrote ${(bytes / 1e6).toFixed(0)} MB of combined log in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  await writeFile(
    join(scratch, "policy.yaml"),
    `version: 1\nuses:\n  - { access-log: access.log, prefix: /sstate/ }\nguards: { allow-empty: true }\nrules:\n  - { name: unused, delete: { unused-for: 30d } }\n`,
  );
  const load = loadavg()[0];
  const { wallMs, peakRssKiB } = await measureCommand(process.execPath, [CLI, "plan", "--policy", "policy.yaml", "--target", "cache", "--now", "2026-12-10T00:00:00Z", "--format", "json"], {
    cwd: scratch,
    scratchDir: scratch,
  });
  const mbPerSecond = bytes / 1e6 / (wallMs / 1000);
  console.log(
    JSON.stringify(
      {
        logBytes: bytes,
        planSeconds: +(wallMs / 1000).toFixed(2),
        mbPerSecond: +mbPerSecond.toFixed(1),
        peakRssMiB: +(peakRssKiB / 1024).toFixed(0),
        rssMethod: RSS_METHOD,
        loadBefore: +load.toFixed(2),
        withinBound: wallMs <= (BOUND_MS * bytes) / 1e9,
      },
      null,
      2,
    ),
  );
} finally {
  await rm(scratch, { recursive: true, force: true });
}
