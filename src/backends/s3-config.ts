import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { TOOL } from "../util/version.ts";
import { maskCredentialText } from "../util/secrets.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "../util/retry.ts";
import { BackendError, type OpenOptions } from "./backend.ts";
import type { Env } from "./registry.ts";

export interface S3Settings {
  config: S3ClientConfig;
  /** The endpoint as messages name it: "S3 endpoint http://host:port", or "the AWS S3 endpoint of REGION". */
  endpoint: string;
  /** How each request is retried. */
  retry: RetryPolicy;
}

/**
 * The operation budget (timeouts.operationMs) is what bounds a request's retries; the count is
 * a backstop. Pauses grow from 250 ms to at most 1 s, so that a short budget still holds many
 * attempts: with `--timeout 2s` (8 s) about ten fast failures in a row, or four silences, are
 * ridden out before a listing page is given up.
 */
const RETRY_ATTEMPTS = 20;
const MAX_RETRY_PAUSE_MS = 1_000;

/**
 * Client settings from the environment given to Target.open (the CLI passes the process's):
 * endpoint, region, path-style addressing (explicit setting, else on for custom endpoints,
 * which rarely serve BUCKET.host names), credentials (else the SDK's default chain) and the
 * network limits. The SDK makes one attempt per request: the backend retries, so that attempts
 * do not multiply and the operation budget holds.
 */
export function s3ClientConfig(env: Env, pathStyle: boolean | undefined, { timeouts, secrets }: OpenOptions): S3Settings {
  const endpointVariable = env["AWS_ENDPOINT_URL_S3"] ? "AWS_ENDPOINT_URL_S3" : env["AWS_ENDPOINT_URL"] ? "AWS_ENDPOINT_URL" : undefined;
  const endpoint = endpointVariable === undefined ? undefined : checkedEndpoint(endpointVariable, env[endpointVariable]!, secrets);
  const region = env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || "us-east-1";
  const config: S3ClientConfig = {
    region,
    forcePathStyle: pathStyle ?? pathStyleFromEnv(env["SSTATE_KEEPER_S3_PATH_STYLE"]) ?? endpoint !== undefined,
    maxAttempts: 1,
    // Appended to the SDK's own User-Agent: S3 server access logs then show the tool's requests as its own.
    customUserAgent: [[TOOL.name, TOOL.version]],
    requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env["AWS_SESSION_TOKEN"];
    config.credentials = sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  } else if (env["AWS_PROFILE"]) {
    config.profile = env["AWS_PROFILE"];
  }
  return {
    config,
    endpoint: endpoint === undefined ? `the AWS S3 endpoint of ${region}` : `S3 endpoint ${endpoint}`,
    retry: { ...DEFAULT_RETRY, attempts: Number(env["AWS_MAX_ATTEMPTS"]) || RETRY_ATTEMPTS, maxDelayMs: MAX_RETRY_PAUSE_MS, budgetMs: timeouts.operationMs },
  };
}

/**
 * The endpoint URL without a trailing slash. One with `user:password@` is refused rather than
 * cleaned: S3 takes no credentials in the URL (the SDK would send them as Basic auth), so the
 * user meant something else; the password is registered as a secret and never printed.
 */
function checkedEndpoint(variable: string, value: string, secrets: OpenOptions["secrets"]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BackendError(`${variable} is not a URL: expected http(s)://HOST[:PORT]`, { kind: "config" });
  }
  if (url.username !== "" || url.password !== "") {
    secrets.add(url.password);
    secrets.add(percentDecoded(url.password));
    throw new BackendError(
      `${variable} holds credentials (${
        maskCredentialText(`${url.protocol}//${url.username}@${url.host}`)
      }): an S3 endpoint takes none; remove 'user:password@' and give the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
      { kind: "config" },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new BackendError(`${variable} must be an http:// or https:// URL, not ${url.protocol}//…`, { kind: "config" });
  return maskCredentialText(value).replace(/\/+$/, "");
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function pathStyleFromEnv(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  return value === "1" || value.toLowerCase() === "true";
}
