// plan --listing s3://…/manifest.json against radosgw: the report is read through the S3
// backend from its destination bucket, the plan equals the plan of listing the bucket (apart
// from its recorded source), and apply skips the objects rewritten or deleted since the
// inventory instead of deleting them (exit 4).
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { type InventoryObject, writeInventoryReport } from "../../bench/lib/inventory-report.mjs";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import type {} from "../support/global-servers.ts";
import { openOptions, testIo } from "../support/io.ts";
import { sstatePath } from "../support/listing.ts";

const s3 = inject("s3");
const s3Env = (endpoint = s3.endpoint): Env => ({ AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region });
const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
/** Unmanaged, listed all the same: a key with a space, '+', '%' and beyond-ASCII characters. */
const ODD = "notes/a b+c%d é中😀.txt";
const POLICY = `version: 1
guards: { max-delete-percent: 100, allow-empty: true }
rules:
  - name: expire
    delete: { older-than: 300d }
`;

async function cli(argv: string[], cwd: string) {
  const io = testIo({ cwd, env: s3Env() });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** Every object of the bucket as S3 Inventory reports it: the key, size, LastModified and the ETag without its quotes. */
async function inventoryOf(bucket: string): Promise<InventoryObject[]> {
  const objects: InventoryObject[] = [];
  let token: string | undefined;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) objects.push({ key: o.Key!, size: o.Size!, mtimeMs: o.LastModified!.getTime(), etag: o.ETag!.replaceAll('"', "") });
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

describe("plan --listing with an S3 Inventory report in a radosgw bucket", () => {
  it("plans as listing the bucket would, and apply skips what changed since the inventory (exit 4)", async () => {
    const stamp = Date.now().toString(36);
    const [source, destination] = [`keeper-inv-src-${stamp}`, `keeper-inv-dest-${stamp}`];
    for (const bucket of [source, destination]) await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    const target = `s3://${source}/sstate`;
    // 400 days old (the faked-clock gateway), with keys AWS must URL-encode.
    const paths = Array.from(
      { length: 300 },
      (_, i) => sstatePath({ pn: ["busybox", "zlib", "gcc-cross-x86_64"][i % 3]!, pv: i % 2 ? "1.0+gitAUTOINC+5d83" : "1.0", arch: "core2-64", task: "populate_sysroot", seed: `inv-${i}` }),
    );
    const past = await parseTarget(target, "/").open(s3Env(s3.fakedEndpoint), openOptions());
    await mapConcurrent([...paths, ODD], 16, (path) => past.put(path, new Uint8Array(path.length % 50)));
    await past.close();
    await admin.send(new PutObjectCommand({ Bucket: source, Key: "elsewhere/not-the-cache", Body: "x" }));

    const work = await mkdtemp(join(tmpdir(), "keeper-inventory-"));
    const report = await writeInventoryReport(join(work, "dest"), {
      sourceBucket: source,
      destinationBucket: destination,
      destinationPrefix: "inventory",
      createdAt: Date.now(),
      objects: await inventoryOf(source),
      objectsPerFile: 120,
    });
    const uploads = (await readdir(join(work, "dest"), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
    await mapConcurrent(uploads, 8, async (file) => admin.send(new PutObjectCommand({ Bucket: destination, Key: relative(join(work, "dest"), file), Body: await readFile(file) })));
    const manifestUrl = `s3://${destination}/${relative(join(work, "dest"), report.manifestPath)}`;
    await writeFile(join(work, "policy.yaml"), POLICY);

    const live = await cli(["plan", "--policy", "policy.yaml", "--target", target, "--out", "live.json", "--format", "json"], work);
    expect(live.code).toBe(0);
    const planned = await cli(["plan", "--policy", "policy.yaml", "--target", target, "--listing", manifestUrl, "--out", "plan.json", "--format", "json"], work);
    expect(planned.stderr).toBe("");
    expect(planned.code).toBe(0);
    const [fromLive, fromInventory] = [parsePlan(await readFile(join(work, "live.json"), "utf8"), "live.json"), parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json")];
    expect(fromInventory.listing.source).toMatchObject({ kind: "s3-inventory", location: manifestUrl });
    expect(fromInventory.delete).toEqual(fromLive.delete);
    expect({ ...fromInventory.listing, source: undefined }).toEqual({ ...fromLive.listing, source: undefined });
    expect(fromInventory.delete).toHaveLength(paths.length);

    const wrongBucket = await cli(["plan", "--policy", "policy.yaml", "--target", `s3://${destination}/sstate`, "--listing", manifestUrl], work);
    expect(wrongBucket.code).toBe(2);
    expect(wrongBucket.stderr).toMatch(/an inventory of bucket 'keeper-inv-src-\w+', not of the target's bucket/);

    // Since the inventory: a build uploads one object again, another is deleted.
    const [rewritten, gone] = [fromInventory.delete[0]!.path, fromInventory.delete[1]!.path];
    const writer = await parseTarget(target, "/").open(s3Env(), openOptions());
    await writer.put(rewritten, new TextEncoder().encode("rebuilt"));
    await writer.close();
    await admin.send(new DeleteObjectCommand({ Bucket: source, Key: `sstate/${gone}` }));
    const applied = await cli(["apply", "plan.json"], work);
    expect(applied.code).toBe(4);
    const left = (await inventoryOf(source)).map((object) => object.key);
    expect(left.sort()).toEqual(["elsewhere/not-the-cache", `sstate/${ODD}`, `sstate/${rewritten}`].sort());
  });
});
