import type { ExpectedFile, RemoteFile } from "./backend.ts";

/**
 * Why a file no longer is what the plan was made for, or undefined if it still is. Deleting a
 * file that a build used or rewrote since planning would throw away exactly what is in use.
 */
export function changeSincePlanning(expected: ExpectedFile, current: RemoteFile): string | undefined {
  if (current.special) return "it is no longer a regular file";
  if (current.size !== expected.size) {
    return `size changed from ${expected.size} to ${current.size} bytes: the file was rewritten since planning`;
  }
  // S3 HeadObject has only second-precision LastModified while listings have milliseconds; the ETag is exact.
  if (expected.etag !== undefined && current.etag !== undefined) {
    return opaqueTag(current.etag) === opaqueTag(expected.etag) ? undefined : `ETag changed from ${expected.etag} to ${current.etag}: the object was rewritten since planning`;
  }
  if (current.mtimeMs !== expected.mtimeMs) {
    return `mtime changed from ${new Date(expected.mtimeMs).toISOString()} to ${new Date(current.mtimeMs).toISOString()}: a build used it since planning`;
  }
  return undefined;
}

/**
 * RFC 9110 weak comparison: `W/"x"` and `"x"` are the same version. Apache marks an ETag weak
 * while its file is less than a second old and strong later, with the same opaque part.
 */
export function opaqueTag(etag: string): string {
  return etag.startsWith("W/") ? etag.slice(2) : etag;
}
