import { shown } from "../diagnostics.ts";
import { DURATION_HELP, parseDuration } from "../../util/units.ts";
import type { SelectorDefinition } from "./selector.ts";

function ageSelector(name: string, older: boolean): SelectorDefinition {
  return {
    name,
    schema: { type: "string", pattern: "^([0-9]+[smhdw])+$" },
    expected: DURATION_HELP,
    description: older
      ? "The file's age (now minus mtime, or S3 LastModified) is at least the duration."
      : "The file's age (now minus mtime, or S3 LastModified) is less than the duration.",
    allowedIn: ["keep", "delete"],
    role: "filter",
    comparesField: true,
    examples: [older ? "{ kind: archive, older-than: 30d }" : "{ newer-than: 1w }"],
    compile({ value, report }) {
      const limit = typeof value === "string" ? parseDuration(value) : undefined;
      if (limit === undefined) {
        report(`${shown(value)} is not ${DURATION_HELP}`);
        return undefined;
      }
      return older ? (file, { now }) => now - file.mtimeMs >= limit : (file, { now }) => now - file.mtimeMs < limit;
    },
  };
}

export const ageSelectors: SelectorDefinition[] = [ageSelector("older-than", true), ageSelector("newer-than", false)];
