import { open, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** radosgw's beast frontend logs one access line per request at `debug rgw = 1` (scripts/servers/radosgw.sh sets it). */
const ACCESS_LINE = / beast: \S+ \S+ - \S+ \[[^\]]*\] "([A-Z]+) /;
/** Ceph writes its log from a thread of its own: counted once the file has stopped growing for this long. */
const SETTLE_MS = 300;

/**
 * Requests as the server saw them, counted in radosgw's log: the same count for every client
 * (sstate-keeper in-process or as a CLI, rclone), whatever each counts itself.
 */
export function gatewayRequests(logFile) {
  return {
    /** Where the log ends now: the start of the next count. */
    mark: async () => (await settled(logFile)).size,
    /** Requests logged since `mark`, by HTTP method, and their total. */
    since: async (mark) => {
      const { size } = await settled(logFile);
      const handle = await open(logFile, "r");
      try {
        const buffer = Buffer.alloc(size - mark);
        await handle.read(buffer, 0, buffer.length, mark);
        const byMethod = {};
        for (const line of buffer.toString("utf8").split("\n")) {
          const method = ACCESS_LINE.exec(line)?.[1];
          if (method !== undefined) byMethod[method] = (byMethod[method] ?? 0) + 1;
        }
        return { total: Object.values(byMethod).reduce((sum, n) => sum + n, 0), byMethod };
      } finally {
        await handle.close();
      }
    },
  };
}

async function settled(logFile) {
  let before = await stat(logFile);
  for (;;) {
    await sleep(SETTLE_MS);
    const now = await stat(logFile);
    if (now.size === before.size) return now;
    before = now;
  }
}
