import { shown } from "../diagnostics.ts";
import { parseSize, SIZE_HELP } from "../../util/units.ts";
import type { SelectorDefinition } from "./selector.ts";

function sizeSelector(name: string, larger: boolean): SelectorDefinition {
  return {
    name,
    schema: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)? ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$" },
    expected: SIZE_HELP,
    description: larger ? "The file is larger than the size." : "The file is smaller than the size.",
    allowedIn: ["keep", "delete"],
    role: "filter",
    comparesField: true,
    examples: [larger ? "{ kind: archive, larger-than: 1GiB, older-than: 7d }" : "{ smaller-than: 1KB }"],
    compile({ value, report }) {
      const limit = typeof value === "string" ? parseSize(value) : undefined;
      if (limit === undefined) {
        report(`${shown(value)} is not ${SIZE_HELP}`);
        return undefined;
      }
      return larger ? (file) => file.size > limit : (file) => file.size < limit;
    },
  };
}

export const sizeSelectors: SelectorDefinition[] = [sizeSelector("larger-than", true), sizeSelector("smaller-than", false)];
