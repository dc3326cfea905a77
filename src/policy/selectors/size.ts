import { SIZE_HELP } from "../../util/units.ts";
import { SIZE_SCHEMA } from "../value-schemas.ts";
import { type SelectorDefinition, sizeValue } from "./selector.ts";

function sizeSelector(name: string, larger: boolean): SelectorDefinition {
  return {
    name,
    schema: SIZE_SCHEMA,
    expected: SIZE_HELP,
    unit: "size",
    description: larger ? "The file is larger than the size." : "The file is smaller than the size.",
    allowedIn: ["keep", "delete"],
    comparesField: true,
    examples: [larger ? "{ kind: archive, larger-than: 1GiB, older-than: 7d }" : "{ smaller-than: 1KB }"],
    compile({ value, report }) {
      const limit = sizeValue(value, report);
      if (limit === undefined) return undefined;
      return {
        test: larger ? (i, { listing }) => listing.sizes[i]! > limit : (i, { listing }) => listing.sizes[i]! < limit,
        // Sizes are whole bytes, never negative.
        admits: {
          property: "size",
          range: larger ? { lower: { value: limit, inclusive: false }, integer: true } : { lower: { value: 0, inclusive: true }, upper: { value: limit, inclusive: false }, integer: true },
        },
      };
    },
  };
}

export const sizeSelectors: SelectorDefinition[] = [sizeSelector("larger-than", true), sizeSelector("smaller-than", false)];
