import { DURATION_HELP } from "../../util/units.ts";
import { DURATION_SCHEMA } from "../value-schemas.ts";
import { durationValue, type SelectorDefinition } from "./selector.ts";

function ageSelector(name: string, older: boolean): SelectorDefinition {
  return {
    name,
    schema: DURATION_SCHEMA,
    expected: DURATION_HELP,
    unit: "duration",
    description: older ? "The file's age (now minus mtime, or S3 LastModified) is at least the duration." : "The file's age (now minus mtime, or S3 LastModified) is less than the duration.",
    allowedIn: ["keep", "delete"],
    comparesField: true,
    examples: [older ? "{ kind: archive, older-than: 30d }" : "{ newer-than: 1w }"],
    compile({ value, report }) {
      const limit = durationValue(value, report);
      if (limit === undefined) return undefined;
      return {
        test: older ? (i, { now, listing }) => now - listing.mtimes[i]! >= limit : (i, { now, listing }) => now - listing.mtimes[i]! < limit,
        admits: { property: "age", range: older ? { lower: { value: limit, inclusive: true } } : { upper: { value: limit, inclusive: false } } },
      };
    },
  };
}

export const ageSelectors: SelectorDefinition[] = [ageSelector("older-than", true), ageSelector("newer-than", false)];
