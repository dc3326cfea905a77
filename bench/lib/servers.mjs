import { execFile, execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { onExit } from "./cleanup.mjs";

const SCRIPTS = fileURLToPath(new URL("../../scripts/servers/", import.meta.url));
const RADOSGW_SCRIPT = join(SCRIPTS, "radosgw.sh");
const WEBDAV_SCRIPT = join(SCRIPTS, "webdav.sh");
/** The credentials scripts/servers/radosgw.sh creates. */
const S3_ACCESS_KEY = "sstatekeeper";
const S3_SECRET_KEY = "sstatekeeper-secret";
const run = promisify(execFile);

/** A throwaway Ceph radosgw (scripts/servers/radosgw.sh) on loopback. */
export async function startRadosgw(scratchRoot) {
  const [port, fakedPort, monPort] = await freePorts(3);
  const server = await startScript("radosgw", RADOSGW_SCRIPT, scratchRoot, [String(port), String(fakedPort), String(monPort)], 180_000);
  const env = {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
    AWS_REGION: "us-east-1",
  };
  return {
    ...server,
    env,
    /** The gateway whose clock runs 400 days behind: what it writes is old. */
    fakedEnv: { ...env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${fakedPort}` },
    /** The normal gateway's log, with an access line per request. */
    logFile: join(server.dir, "log", "client.rgw.main.log"),
  };
}

/** A throwaway Apache mod_dav_fs (scripts/servers/webdav.sh); files written into `dataDir` are served at `url`. */
export async function startWebdav(scratchRoot, { depthInfinity }) {
  const [port] = await freePorts(1);
  const server = await startScript("webdav", WEBDAV_SCRIPT, scratchRoot, [String(port), ...(depthInfinity ? [] : ["--no-depth-infinity"])], 60_000);
  return { ...server, url: `http://127.0.0.1:${port}/dav/`, dataDir: join(server.dir, "data") };
}

/**
 * Starts a server script in a fresh directory; its stop (by the PIDs the script recorded) is
 * registered to run on any exit, and returned for the section's `finally`.
 */
async function startScript(name, script, scratchRoot, args, timeoutMs) {
  const dir = await mkdtemp(join(scratchRoot, `sstate-keeper-bench-${name}-`));
  const stopNow = onExit(`${name} server in ${dir}`, () => {
    execFileSync("bash", [script, "stop", dir], { stdio: "ignore", timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    // The timeout signals only bash: the daemons it detached (setsid) are stopped by their PID files.
    await run("bash", [script, "start", dir, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
  } catch (error) {
    stopNow();
    throw new Error(`${name} server did not start (scripts/servers/install-debian-packages.sh installs what it needs): ${error.stderr?.trim() || error.message}`);
  }
  return {
    dir,
    /** Synchronous: the same code path as an interrupted run's cleanup. */
    stop: stopNow,
  };
}

async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) {
    ports.add(
      await new Promise((resolve, reject) => {
        const probe = createServer();
        probe.once("error", reject);
        probe.listen(0, "127.0.0.1", () => {
          const { port } = probe.address();
          probe.close(() => resolve(port));
        });
      }),
    );
  }
  return [...ports];
}
