import { DURATION_HELP } from "../../util/units.ts";
import { DURATION_SCHEMA } from "../value-schemas.ts";
import { durationValue, type SelectorDefinition } from "./selector.ts";

export const unusedFor: SelectorDefinition = {
  name: "unused-for",
  schema: DURATION_SCHEMA,
  expected: DURATION_HELP,
  unit: "duration",
  description:
    "Time since the file was last used is at least the duration: now minus the latest of its mtime and every use the policy's `uses:` logs record (a use of an archive counts for its .siginfo, .sig and .done). Without logs, or on a local cache whose builds refresh mtimes, it equals older-than.",
  allowedIn: ["keep", "delete"],
  examples: ["{ kind: archive, unused-for: 30d }"],
  compile({ value, report }) {
    const limit = durationValue(value, report);
    if (limit === undefined) return undefined;
    return { test: (i, { now, lastUse }) => now - lastUse(i) >= limit, looksBackMs: limit };
  },
};
