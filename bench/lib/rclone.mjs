import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
/** The remote name the environment below configures. */
export const RCLONE_REMOTE = "rgw";

/** rclone's version line, or undefined when it is not installed (its comparisons are then not run). */
export async function rcloneVersion() {
  try {
    const { stdout } = await run("rclone", ["version"], { timeout: 10_000 });
    return stdout.split("\n")[0].trim();
  } catch {
    return undefined;
  }
}

/**
 * The environment that makes rclone's remote "rgw:" the bench's radosgw, with no config file.
 * The bench's own AWS_* and RCLONE_* variables are left out: rclone's AWS SDK would read them
 * too (AWS_CA_BUNDLE, say, makes it refuse its own HTTP transport).
 */
export function rcloneEnv(serverEnv) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_") && !name.startsWith("RCLONE_")));
  const remote = `RCLONE_CONFIG_${RCLONE_REMOTE.toUpperCase()}_`;
  return {
    ...env,
    [`${remote}TYPE`]: "s3",
    [`${remote}PROVIDER`]: "Ceph",
    [`${remote}ENDPOINT`]: serverEnv.AWS_ENDPOINT_URL_S3,
    [`${remote}REGION`]: serverEnv.AWS_REGION,
    [`${remote}ACCESS_KEY_ID`]: serverEnv.AWS_ACCESS_KEY_ID,
    [`${remote}SECRET_ACCESS_KEY`]: serverEnv.AWS_SECRET_ACCESS_KEY,
  };
}

/** rclone's arguments for a command on `bucket/path` of the bench's radosgw, with no config file read. */
export function rcloneArgs(command, path, ...flags) {
  return ["--config", "/dev/null", command, ...flags, `${RCLONE_REMOTE}:${path}`];
}
