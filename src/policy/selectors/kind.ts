import { KIND, kindOfEnding, MANAGED_KINDS } from "../../sstate/name.ts";
import { asList, endingsWhere, stringOrList, type SelectorDefinition } from "./selector.ts";

export const kind: SelectorDefinition = {
  name: "kind",
  schema: stringOrList({ enum: [...MANAGED_KINDS] }),
  expected: `one of ${MANAGED_KINDS.join(", ")}, or a list of them`,
  description: "The kind of sstate file: archive (.tar.zst/.tgz), siginfo, signature (.sig), done (legacy marker) or temp (leftover of an interrupted write).",
  allowedIn: ["keep", "delete"],
  comparesField: true,
  examples: ["{ kind: archive, older-than: 30d }", "{ kind: [siginfo, done] }"],
  compile({ value }) {
    const wanted = new Uint8Array(MANAGED_KINDS.length + 1);
    for (const name of asList(value)) wanted[KIND[name as keyof typeof KIND]] = 1;
    return { test: (i, { listing }) => wanted[listing.kinds[i]!] === 1, admits: endingsWhere((ending) => wanted[kindOfEnding(ending)] === 1) };
  },
};
