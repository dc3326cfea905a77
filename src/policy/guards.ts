/** The plan-level guards a policy may set (SPEC §2), for the schema, the loader and its hints. */
import { DURATION_SCHEMA, SIZE_SCHEMA } from "./value-schemas.ts";

export interface Guards {
  minAgeMs: number;
  maxDeletePercent?: number;
  maxDeleteBytes?: number;
  allowEmpty: boolean;
  /** Refuse a plan whose `over-budget` rules cannot bring the cache within their budget. */
  budgetMustFit: boolean;
}

export const DEFAULT_MIN_AGE_MS = 3_600_000;

export interface GuardDefinition {
  name: string;
  schema: Record<string, unknown>;
  description: string;
  /** Values the schema offers as examples. */
  examples: readonly unknown[];
  /** Values in these units get a hint when written as a bare number. */
  unit?: "duration" | "size";
}

export const GUARD_DEFINITIONS: readonly GuardDefinition[] = [
  { name: "min-age", schema: DURATION_SCHEMA, unit: "duration", description: "Never delete files younger than this (default 1h).", examples: ["1h", "2d"] },
  {
    name: "max-delete-percent",
    schema: { type: "number", minimum: 0, maximum: 100, errorMessage: "Expected a percentage from 0 to 100, e.g. 60." },
    description: "Refuse a plan that deletes more than this percentage of the managed files.",
    examples: [60],
  },
  { name: "max-delete-bytes", schema: SIZE_SCHEMA, unit: "size", description: "Refuse a plan that deletes more bytes than this, e.g. 2TiB.", examples: ["2TiB", "500GB"] },
  { name: "allow-empty", schema: { type: "boolean" }, description: "Allow a plan that deletes every archive (default false).", examples: [false] },
  {
    name: "budget-must-fit",
    schema: { type: "boolean" },
    description: "Refuse a plan whose over-budget rules cannot bring the managed files within their budget (keep rules and min-age hold too much); default false: the plan only reports the shortfall.",
    examples: [true],
  },
];
