import { registerScheme, TargetError } from "./registry.ts";
import { displayUrlOf, type S3Location } from "./s3-location.ts";

/**
 * The s3:// scheme: URL parsing here, the backend loaded only when a target is opened, so
 * commands on local caches don't pay for loading the AWS SDK.
 */

function parseS3Url(url: URL): { location: S3Location; pathStyle: boolean | undefined } {
  const bucket = url.hostname;
  if (bucket === "" || url.port !== "") throw new TargetError("an S3 target is s3://BUCKET[/PREFIX]; the endpoint comes from AWS_ENDPOINT_URL_S3");
  let pathStyle: boolean | undefined;
  for (const [name, value] of url.searchParams) {
    if (name !== "path-style" || (value !== "true" && value !== "false")) {
      throw new TargetError(`unknown S3 target option '${name}=${value}'; the only one is ?path-style=true|false`);
    }
    pathStyle = value === "true";
  }
  const prefix = url.pathname.split("/").filter((segment) => segment !== "").map(decodedSegment).join("/");
  return { location: { bucket, prefix }, pathStyle };
}

registerScheme(["s3"], (url) => {
  const { location, pathStyle } = parseS3Url(url);
  return {
    scheme: "s3",
    url: displayUrlOf(location),
    open: async (env, options) => (await import("./s3.ts")).S3Backend.open(location, env, pathStyle, options),
  };
});

function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TargetError(`'${segment}' in the S3 prefix is not valid percent-encoding`);
  }
}
