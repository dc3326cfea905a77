import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { maskCredentialText, Redactor } from "../src/util/secrets.ts";

describe("redaction", () => {
  it.each([
    ["cannot reach S3 endpoint http://u:pw@127.0.0.1:7480 (ECONNREFUSED)", "cannot reach S3 endpoint http://***@127.0.0.1:7480 (ECONNREFUSED)"],
    ["target 's3://AKIA:s3cr3t@bucket/x' refused", "target 's3://***@bucket/x' refused"],
    ["webdav+https://keeper@dav.example/sstate/", "webdav+https://***@dav.example/sstate/"],
    ["<Message>authorization: Basic a2VlcGVyOnB3</Message>", "<Message>authorization: Basic ***</Message>"],
    ["x-amz-security-token: FQoGZXIvYXdzEJr//////////", "x-amz-security-token: ***"],
    [
      '"Authorization":"AWS4-HMAC-SHA256 Credential=AKIA/20261201/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0badf00d"',
      '"Authorization":"AWS4-HMAC-SHA256 ***, SignedHeaders=host, Signature=***"',
    ],
    ["GET /b?X-Amz-Security-Token=abc&X-Amz-Signature=def", "GET /b?X-Amz-Security-Token=***&X-Amz-Signature=***"],
    ["plain message about 12 files", "plain message about 12 files"],
  ])("masks credentials in %j", (text, masked) => {
    expect(maskCredentialText(text)).toBe(masked);
  });

  it("masks secrets from the environment in every form they travel in", () => {
    const secrets = Redactor.fromEnv({ AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG", SSTATE_KEEPER_WEBDAV_PASSWORD: "p@ss w0rd", AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", HOME: "/root" });
    const text = `key wJalrXUtnFEMI/K7MDENG, url-encoded ${encodeURIComponent("p@ss w0rd")}, base64 ${Buffer.from("p@ss w0rd").toString("base64")}, id AKIAEXAMPLE, home /root`;
    expect(secrets.redact(text)).toBe("key ***, url-encoded ***, base64 ***, id AKIAEXAMPLE, home /root");
  });

  it("masks what a component registers, and leaves too short values alone", () => {
    const secrets = new Redactor();
    secrets.add("Basic a2VlcGVyOmtlZXBlci1wYXNz");
    secrets.add("pw");
    expect(secrets.redactKnown("sent Basic a2VlcGVyOmtlZXBlci1wYXNz to pw host")).toBe("sent *** to pw host");
  });
});
