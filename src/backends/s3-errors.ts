import { BackendError, type Timeouts } from "./backend.ts";

/**
 * What an S3 request's failure means: whether trying again can help, and the one line a person
 * reads. Messages name the endpoint, the operation and what to check; they hold an S3 error
 * code and HTTP status, never the server's <Message> (servers reflect request headers in it)
 * nor an SDK class name alone.
 */

/** The fields of SDK and Node errors this module reads. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean };
}

/** An answer that parsed but cannot be complete (no IsTruncated, a truncated page without a token…): never read as empty. */
export class MalformedAnswerError extends Error {
  constructor(what: string) {
    super(what);
    this.name = "MalformedAnswerError";
  }
}

/** The request being made, for the message of its failure. */
export interface RequestContext {
  /** The S3 operation, e.g. "ListObjectsV2". */
  operation: string;
  /** What it was about, e.g. "s3://bucket/prefix". */
  subject: string;
  /** "S3 endpoint http://host:port" or "the AWS S3 endpoint of REGION". */
  endpoint: string;
  bucket: string;
  timeouts: Timeouts;
  attempts: number;
  elapsedMs: number;
}

const CREDENTIAL_CODES = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "InvalidSecurity"]);
/** Server codes worth another try; RequestTimeTooSkewed too, because the SDK corrects its clock offset from that answer. */
const TRANSIENT_CODES = new Set([
  "SlowDown",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
  "RequestTimeTooSkewed",
  "OperationAborted",
  "ConditionalRequestConflict",
]);
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);
/**
 * Connection-level failures worth another try (ENOTFOUND is not: a name that does not resolve
 * stays so). A stream closed early and Node's HTTP parser errors (HPE_…) are answers cut short.
 */
const TRANSIENT_NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ECONNABORTED", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "ERR_STREAM_PREMATURE_CLOSE"]);
const TLS_CODES = new Set([
  "EPROTO",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

type Failure =
  | { kind: "timeout"; connecting: boolean }
  | { kind: "network"; code: string }
  | { kind: "tls"; code: string }
  | { kind: "malformed"; status: number | undefined }
  | { kind: "no-credentials" }
  | { kind: "credentials"; code: string | undefined; status: number | undefined }
  | { kind: "no-bucket" }
  | { kind: "region" }
  | { kind: "server"; code: string | undefined; status: number | undefined }
  /** The request's time was too far from the server's; the SDK corrected its clock offset from this answer. */
  | { kind: "clock-skew"; status: number | undefined }
  /** Anything else: a bug, not a network or server condition. */
  | { kind: "unknown" };

function statusOf(error: SdkError): number | undefined {
  return error.$metadata?.httpStatusCode;
}

/** The S3 error code, when the answer had one (HEAD answers have no body: the SDK names them "Unknown" or by status). */
function s3CodeOf(error: SdkError): string | undefined {
  const name = error.name;
  if (name === undefined || name === "Unknown" || name === "UnknownError" || /^\d+$/.test(name) || name === "Error") return undefined;
  return name;
}

function classify(error: unknown): Failure {
  if (error instanceof MalformedAnswerError) return { kind: "malformed", status: undefined };
  if (typeof error !== "object" || error === null) return { kind: "unknown" };
  const sdk = error as SdkError;
  const status = statusOf(sdk);
  if (sdk.name === "CredentialsProviderError") return { kind: "no-credentials" };
  // HEAD answers carry no code, so a skewed clock would look like refused credentials: the SDK's flag tells.
  if (sdk.$metadata?.clockSkewCorrected === true) return { kind: "clock-skew", status };
  if (sdk.$fault !== undefined && status !== undefined) return serviceFailure(s3CodeOf(sdk), status);
  const code = typeof sdk.code === "string" ? sdk.code : undefined;
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_"))) return { kind: "tls", code };
  if (code === "ETIMEDOUT" || (sdk.name === "TimeoutError" && code === undefined)) return { kind: "timeout", connecting: /establish a connection/.test(sdk.message ?? "") };
  // The SDK names a reset connection "TimeoutError" too: the code tells.
  if (code !== undefined) return { kind: "network", code };
  // An error with a successful status: the SDK could not parse the answer (a truncated body).
  if (status !== undefined && status < 300) return { kind: "malformed", status };
  return { kind: "unknown" };
}

function serviceFailure(code: string | undefined, status: number): Failure {
  if (code !== undefined && TRANSIENT_CODES.has(code)) return { kind: "server", code, status };
  if ((code !== undefined && CREDENTIAL_CODES.has(code)) || status === 401 || status === 403) return { kind: "credentials", code, status };
  if (code === "NoSuchBucket") return { kind: "no-bucket" };
  if (code === "PermanentRedirect" || code === "AuthorizationHeaderMalformed" || status === 301) return { kind: "region" };
  return { kind: "server", code, status };
}

/** Whether another attempt can help: throttling, server errors, lost or cut-short answers, timeouts. */
export function isTransient(error: unknown): boolean {
  const failure = classify(error);
  switch (failure.kind) {
    case "timeout":
    case "malformed":
    case "clock-skew":
      return true;
    case "network":
      return TRANSIENT_NETWORK_CODES.has(failure.code) || failure.code.startsWith("HPE_");
    case "server":
      return isTransientCode(failure.code) || failure.status === 429 || (failure.status ?? 0) >= 500;
    default:
      return false;
  }
}

/** Whether an S3 error code (e.g. one key's in a DeleteObjects answer) is worth another try. */
export function isTransientCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** Whether the endpoint refused the connection or did not resolve: at first contact, a wrong endpoint rather than a busy one. */
export function isUnreachable(error: unknown): boolean {
  const failure = classify(error);
  return failure.kind === "network" && UNREACHABLE_CODES.has(failure.code);
}

/** Whether the error says the credentials were refused: nothing else will work either. */
export function isCredentialFailure(error: unknown): boolean {
  return classify(error).kind === "credentials";
}

/** Whether it is a failure of the network or the server at all (anything else is a bug and is not dressed up as one). */
export function isRequestFailure(error: unknown): boolean {
  return classify(error).kind !== "unknown";
}

function codeAndStatus(code: string | undefined, status: number | undefined): string {
  if (code === undefined) return status === undefined ? "no error code" : `HTTP ${status}`;
  return status === undefined ? code : `${code}, HTTP ${status}`;
}

/** A few words for what went wrong, e.g. "SlowDown, HTTP 503" or "connection reset (ECONNRESET)". */
export function errorSummary(error: unknown, timeouts: Timeouts): string {
  const failure = classify(error);
  switch (failure.kind) {
    case "timeout":
      return failure.connecting ? `no connection within ${seconds(timeouts.connectMs)}` : `no answer within ${seconds(timeouts.idleMs)}`;
    case "network":
      return failure.code === "ECONNRESET" ? "connection reset (ECONNRESET)" : `connection failed (${failure.code})`;
    case "tls":
      return `TLS failure (${failure.code})`;
    case "malformed":
      return `truncated or malformed answer${failure.status === undefined ? "" : ` (HTTP ${failure.status})`}`;
    case "no-credentials":
      return "no credentials";
    case "credentials":
      return `credentials refused (${codeAndStatus(failure.code, failure.status)})`;
    case "no-bucket":
      return "no such bucket";
    case "region":
      return "the bucket is in another region";
    case "server":
      return codeAndStatus(failure.code, failure.status);
    case "clock-skew":
      return `the clock differs too much from the server's (${codeAndStatus("RequestTimeTooSkewed", failure.status)})`;
    case "unknown":
      return (error as Error | undefined)?.name ?? "unexpected error";
  }
}

/** The one-line BackendError for a request that failed for good (after its retries, if any helped). */
export function requestFailure(error: unknown, context: RequestContext): BackendError {
  const { operation, subject, endpoint } = context;
  const request = `${operation} ${subject}`;
  const tries = context.attempts > 1 ? ` (${context.attempts} attempts in ${seconds(context.elapsedMs)})` : "";
  const failure = classify(error);
  const options = { cause: error };
  switch (failure.kind) {
    case "timeout":
      return new BackendError(
        failure.connecting
          ? `${endpoint} did not accept a connection for ${request} within ${seconds(context.timeouts.connectMs)}${tries}: check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and the network`
          : `${endpoint} did not answer ${request} within ${seconds(context.timeouts.idleMs)}${tries}: check the endpoint and the network, or allow more with --timeout`,
        { ...options, kind: "unavailable" },
      );
    case "network":
      if (UNREACHABLE_CODES.has(failure.code)) {
        return new BackendError(`cannot reach ${endpoint} (${failure.code}) for ${request}${tries}: check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and the network`, { ...options, kind: "unavailable" });
      }
      break;
    case "tls":
      return new BackendError(`TLS connection to ${endpoint} failed (${failure.code}) for ${request}: check the endpoint's http/https scheme and its certificate (NODE_EXTRA_CA_CERTS)`, {
        ...options,
        kind: "config",
      });
    case "no-credentials":
      return new BackendError("no S3 credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE", { ...options, kind: "config" });
    case "credentials":
      return new BackendError(
        `S3 refused the credentials for ${request} at ${endpoint} (${codeAndStatus(failure.code, failure.status)}): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_PROFILE and the bucket policy`,
        { ...options, kind: "auth" },
      );
    case "no-bucket":
      return missingBucket(context.bucket, endpoint, error);
    case "region":
      return new BackendError(`bucket '${context.bucket}' is in another region (${request} at ${endpoint}): set AWS_REGION to the bucket's region`, { ...options, kind: "config" });
    case "malformed":
      return new BackendError(`${endpoint} sent a ${errorSummary(error, context.timeouts)} to ${request}${tries}: try again; if it persists, check the endpoint or a proxy in between`, {
        ...options,
        kind: "protocol",
      });
  }
  return new BackendError(`S3 ${request} failed at ${endpoint}: ${errorSummary(error, context.timeouts)}${tries}`, { ...options, kind: "unavailable" });
}

export function missingBucket(bucket: string, endpoint: string, cause: unknown): BackendError {
  return new BackendError(`bucket '${bucket}' does not exist at ${endpoint}: check the target URL`, { cause, kind: "config" });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
