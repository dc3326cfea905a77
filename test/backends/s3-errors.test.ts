import { S3ServiceException } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { DEFAULT_TIMEOUTS } from "../../src/backends/backend.ts";
import { errorSummary, isTransient, isTransientCode, MalformedAnswerError, type RequestContext, requestFailure } from "../../src/backends/s3-errors.ts";

/** Errors shaped as @aws-sdk/client-s3 3.1169 and Node 20 throw them (seen through the fault proxy in front of radosgw). */
const service = (name: string, status: number, message = "injected fault", extra: Record<string, unknown> = {}) =>
  Object.assign(new S3ServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, message }), extra);
const node = (code: string, message: string, name = "Error") => Object.assign(new Error(message), { code, name });
const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const unparsable = () =>
  Object.assign(new Error("@aws-sdk XML parse error: missing closing tag </Key>.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object."), {
    $metadata: { httpStatusCode: 200 },
  });

const REFLECTED = "bad request; headers were:\nauthorization: AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/s3/aws4_request, Signature=abc123\nx-amz-security-token: the-session-token";

const context: RequestContext = {
  operation: "ListObjectsV2",
  subject: "s3://sstate-bucket/cache",
  endpoint: "S3 endpoint http://127.0.0.1:7480",
  bucket: "sstate-bucket",
  timeouts: DEFAULT_TIMEOUTS,
  attempts: 5,
  elapsedMs: 74_200,
};

describe("S3 error summaries", () => {
  it.each([
    { title: "503 SlowDown", error: service("SlowDown", 503), transient: true, summary: "SlowDown, HTTP 503", kind: "unavailable" },
    { title: "500 InternalError", error: service("InternalError", 500), transient: true, summary: "InternalError, HTTP 500", kind: "unavailable" },
    { title: "429 without a body", error: service("Unknown", 429, "UnknownError"), transient: true, summary: "HTTP 429", kind: "unavailable" },
    { title: "HEAD 500 (no body, no code)", error: service("Unknown", 500, "UnknownError"), transient: true, summary: "HTTP 500", kind: "unavailable" },
    { title: "reset before the answer", error: node("ECONNRESET", "socket hang up", "TimeoutError"), transient: true, summary: "connection reset (ECONNRESET)", kind: "unavailable" },
    { title: "reset within the body", error: node("ECONNRESET", "aborted"), transient: true, summary: "connection reset (ECONNRESET)", kind: "unavailable" },
    { title: "a body cut short and parsed", error: unparsable(), transient: true, summary: "truncated or malformed answer (HTTP 200)", kind: "protocol" },
    {
      title: "a page that cannot be whole",
      error: new MalformedAnswerError("a ListObjectsV2 answer without IsTruncated"),
      transient: true,
      summary: "truncated or malformed answer",
      kind: "protocol",
    },
    {
      title: "silence",
      error: named("TimeoutError", "@smithy/node-http-handler - the request socket timed out after 15000 ms of inactivity (configured by client requestHandler)."),
      transient: true,
      summary: "no answer within 15 s",
      kind: "unavailable",
    },
    {
      title: "no connection",
      error: named("TimeoutError", "@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 10000 ms."),
      transient: true,
      summary: "no connection within 10 s",
      kind: "unavailable",
    },
    { title: "connection refused", error: node("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"), transient: true, summary: "connection failed (ECONNREFUSED)", kind: "unavailable" },
    { title: "a name that does not resolve", error: node("ENOTFOUND", "getaddrinfo ENOTFOUND s3.invalid"), transient: false, summary: "connection failed (ENOTFOUND)", kind: "unavailable" },
    { title: "HTTP parser error", error: node("HPE_INVALID_CONSTANT", "Parse Error: Expected HTTP/"), transient: true, summary: "connection failed (HPE_INVALID_CONSTANT)", kind: "unavailable" },
    { title: "TLS to plain HTTP", error: node("EPROTO", "wrong version number"), transient: false, summary: "TLS failure (EPROTO)", kind: "config" },
    { title: "403 SignatureDoesNotMatch", error: service("SignatureDoesNotMatch", 403, REFLECTED), transient: false, summary: "credentials refused (SignatureDoesNotMatch, HTTP 403)", kind: "auth" },
    { title: "403 AccessDenied", error: service("AccessDenied", 403), transient: false, summary: "credentials refused (AccessDenied, HTTP 403)", kind: "auth" },
    { title: "HEAD 403 (no code)", error: service("Unknown", 403, "UnknownError"), transient: false, summary: "credentials refused (HTTP 403)", kind: "auth" },
    { title: "401", error: service("Unauthorized", 401), transient: false, summary: "credentials refused (Unauthorized, HTTP 401)", kind: "auth" },
    {
      title: "HEAD 403 from a skewed clock (the SDK corrected it)",
      error: service("Unknown", 403, "UnknownError", { $metadata: { httpStatusCode: 403, clockSkewCorrected: true } }),
      transient: true,
      summary: "the clock differs too much from the server's (RequestTimeTooSkewed, HTTP 403)",
      kind: "unavailable",
    },
    { title: "400 with headers reflected in <Message>", error: service("InvalidArgument", 400, REFLECTED), transient: false, summary: "InvalidArgument, HTTP 400", kind: "unavailable" },
    { title: "NoSuchBucket", error: service("NoSuchBucket", 404), transient: false, summary: "no such bucket", kind: "config" },
    { title: "PermanentRedirect", error: service("PermanentRedirect", 301), transient: false, summary: "the bucket is in another region", kind: "config" },
    { title: "no credentials", error: named("CredentialsProviderError", "Could not load credentials from any providers"), transient: false, summary: "no credentials", kind: "config" },
  ])("$title", ({ error, transient, summary, kind }) => {
    expect(isTransient(error)).toBe(transient);
    expect(errorSummary(error, DEFAULT_TIMEOUTS)).toBe(summary);
    const failure = requestFailure(error, context);
    expect(failure.kind).toBe(kind);
    expect(failure.message).not.toContain("\n");
    // Never the server's text, nor an SDK class name standing alone.
    expect(failure.message).not.toMatch(/injected fault|headers were|the-session-token|abc123|UnknownError|Deserialization|@smithy|@aws-sdk/);
    if (!["no credentials", "no such bucket"].includes(summary)) expect(failure.message).toMatch(/ListObjectsV2 s3:\/\/sstate-bucket\/cache/);
    if (summary !== "no credentials") expect(failure.message).toContain("http://127.0.0.1:7480");
  });

  it.each([
    {
      error: named("TimeoutError", "the request socket timed out after 15000 ms of inactivity"),
      message:
        "S3 endpoint http://127.0.0.1:7480 did not answer ListObjectsV2 s3://sstate-bucket/cache within 15 s (5 attempts in 74.2 s): check the endpoint and the network, or allow more with --timeout",
    },
    { error: service("SlowDown", 503), message: "S3 ListObjectsV2 s3://sstate-bucket/cache failed at S3 endpoint http://127.0.0.1:7480: SlowDown, HTTP 503 (5 attempts in 74.2 s)" },
    {
      error: node("ECONNREFUSED", "connect ECONNREFUSED"),
      message:
        "cannot reach S3 endpoint http://127.0.0.1:7480 (ECONNREFUSED) for ListObjectsV2 s3://sstate-bucket/cache (5 attempts in 74.2 s): check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and the network",
    },
  ])("reads as one line naming endpoint, operation and attempts: $message", ({ error, message }) => {
    expect(requestFailure(error, context).message).toBe(message);
  });

  it("leaves a bug as it is: not a request failure, not retried", () => {
    const bug = new TypeError("Cannot read properties of undefined");
    expect(isTransient(bug)).toBe(false);
    expect(errorSummary(bug, DEFAULT_TIMEOUTS)).toBe("TypeError");
  });

  it.each([
    ["SlowDown", true],
    ["InternalError", true],
    ["ServiceUnavailable", true],
    ["AccessDenied", false],
    ["NoSuchKey", false],
    [undefined, false],
  ])("a DeleteObjects key failing with %s is retried: %s", (code, transient) => {
    expect(isTransientCode(code)).toBe(transient);
  });
});
