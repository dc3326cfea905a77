import type { RemoteFile } from "../backends/backend.ts";
import type { PlannedFile } from "../plan/plan-file.ts";

/**
 * Why a file no longer is what the plan was made for, or undefined if it still is. Deleting a
 * file that a build used or rewrote since planning would throw away exactly what is in use.
 */
export function changeSincePlanning(planned: PlannedFile, current: RemoteFile): string | undefined {
  if (current.size !== planned.size) {
    return `size changed from ${planned.size} to ${current.size} bytes: the file was rewritten since planning`;
  }
  // S3 HeadObject has only second-precision LastModified while listings have milliseconds; the ETag is exact.
  if (planned.etag !== undefined && current.etag !== undefined) {
    return current.etag === planned.etag ? undefined : `ETag changed from ${planned.etag} to ${current.etag}: the object was rewritten since planning`;
  }
  // The plan records whole milliseconds (ISO 8601); finer filesystem precision is not compared.
  const currentMs = Math.floor(current.mtimeMs);
  if (currentMs !== Date.parse(planned.mtime)) {
    return `mtime changed from ${planned.mtime} to ${new Date(currentMs).toISOString()}: a build used it since planning`;
  }
  return undefined;
}
