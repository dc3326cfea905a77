/** Where an S3 cache lives: shared by the target parser and the backend it loads. */
export interface S3Location {
  bucket: string;
  /** Key prefix of the cache root without a trailing slash; "" for the whole bucket. */
  prefix: string;
}

export function displayUrlOf(location: S3Location): string {
  return `s3://${location.bucket}${location.prefix === "" ? "" : `/${location.prefix}`}`;
}
