/** Types of inventory-report.mjs, for the tests that write their fixtures with it. */
export interface InventoryObject {
  key: string;
  size: number;
  mtimeMs: number;
  /** Bare, as the inventory writes it; an MD5 of the key by default. */
  etag?: string;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
  versionId?: string;
  /** Values of other columns by name (StorageClass is STANDARD by default). */
  extra?: Record<string, string>;
}

export interface InventoryReportOptions {
  sourceBucket: string;
  destinationBucket?: string;
  destinationPrefix?: string;
  configId?: string;
  /** Epoch ms. */
  createdAt: number;
  schema?: string;
  fileFormat?: string;
  objectsPerFile?: number;
  objects: Iterable<InventoryObject>;
}

export interface InventoryReport {
  manifestPath: string;
  manifest: { sourceBucket: string; destinationBucket: string; files: { key: string; size: number; MD5checksum: string }[] } & Record<string, unknown>;
  dataPaths: string[];
}

export const DEFAULT_SCHEMA: string;
export function inventoryKey(key: string): string;
export function writeInventoryReport(root: string, options: InventoryReportOptions): Promise<InventoryReport>;
