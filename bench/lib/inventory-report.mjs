/**
 * Writes an S3 Inventory report as AWS does (the bench's 10M-object case, and the tests'
 * fixtures): under ROOT, standing for the destination bucket,
 *   [PREFIX/]SOURCE-BUCKET/CONFIG/data/N.csv.gz             gzipped CSV, every field quoted, no header
 *   [PREFIX/]SOURCE-BUCKET/CONFIG/YYYY-MM-DDTHH-MMZ/manifest.json and manifest.checksum (MD5 hex of it)
 * with keys URL-encoded as AWS encodes them (a space as '+'). Streams: 10M objects are never
 * held, neither as rows nor as compressed bytes.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export const DEFAULT_SCHEMA = "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass";

/** A key as S3 Inventory writes it: URL-encoded, a space as '+'. */
export function inventoryKey(key) {
  return encodeURIComponent(key).replaceAll("%20", "+");
}

export async function writeInventoryReport(root, options) {
  const { sourceBucket, objects, createdAt } = options;
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const columns = schema.split(",").map((name) => name.trim());
  const perFile = options.objectsPerFile ?? 1_000_000;
  const base = [options.destinationPrefix, sourceBucket, options.configId ?? "sstate-inventory"].filter(Boolean).join("/");
  const stamp = new Date(createdAt).toISOString().slice(0, 16).replace(":", "-") + "Z";
  await mkdir(join(root, base, "data"), { recursive: true });
  await mkdir(join(root, base, stamp), { recursive: true });
  const iterator = objects[Symbol.iterator]();
  let next = iterator.next();
  const files = [];
  for (let n = 0; !next.done; n++) {
    function* lines() {
      let chunk = "";
      for (let written = 0; written < perFile && !next.done; written++, next = iterator.next()) {
        chunk += `${columns.map((column) => `"${fieldOf(column, next.value, sourceBucket)}"`).join(",")}\n`;
        if (chunk.length > 1 << 16) {
          yield chunk;
          chunk = "";
        }
      }
      if (chunk !== "") yield chunk;
    }
    const key = `${base}/data/${String(n).padStart(5, "0")}-${createHash("md5").update(`${base}${n}`).digest("hex").slice(0, 8)}.csv.gz`;
    const md5 = createHash("md5");
    let size = 0;
    await pipeline(Readable.from(lines()), createGzip(), async function* (compressed) {
      for await (const chunk of compressed) {
        md5.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }, createWriteStream(join(root, key)));
    files.push({ key, size, MD5checksum: md5.digest("hex") });
  }
  const manifest = {
    sourceBucket,
    destinationBucket: `arn:aws:s3:::${options.destinationBucket ?? "inventory"}`,
    version: "2016-11-30",
    creationTimestamp: String(createdAt),
    fileFormat: options.fileFormat ?? "CSV",
    fileSchema: schema,
    files,
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestPath = join(root, base, stamp, "manifest.json");
  await writeFile(manifestPath, manifestText);
  await writeFile(join(root, base, stamp, "manifest.checksum"), `${createHash("md5").update(manifestText).digest("hex")}\n`);
  return { manifestPath, manifest, dataPaths: files.map((file) => join(root, file.key)) };
}

function fieldOf(column, object, sourceBucket) {
  switch (column) {
    case "Bucket":
      return sourceBucket;
    case "Key":
      return inventoryKey(object.key);
    case "Size":
      return object.isDeleteMarker ? "" : String(object.size);
    case "LastModifiedDate":
      return new Date(object.mtimeMs).toISOString();
    case "ETag":
      return object.etag ?? createHash("md5").update(object.key).digest("hex");
    case "IsLatest":
      return String(object.isLatest ?? true);
    case "IsDeleteMarker":
      return String(object.isDeleteMarker ?? false);
    case "VersionId":
      return object.versionId ?? "";
    default:
      return object.extra?.[column] ?? "STANDARD";
  }
}
