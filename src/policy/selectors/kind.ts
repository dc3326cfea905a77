import { KIND, kindOfEnding, MANAGED_KINDS } from "../../sstate/name.ts";
import { documentedEnum } from "../value-schemas.ts";
import { asList, endingsWhere, type SelectorDefinition, stringOrList } from "./selector.ts";

const KIND_MEANINGS: Record<(typeof MANAGED_KINDS)[number], string> = {
  archive: "The task's output: `.tar.zst` (or legacy `.tgz`).",
  siginfo: "The signature data bitbake writes beside an archive (`.siginfo`), also for tasks that have no archive.",
  signature: "A GPG signature of an archive (`.sig`).",
  done: "The legacy `.done` marker of a finished upload.",
  temp: "The leftover of an interrupted write (a name with a random tail).",
};

export const kind: SelectorDefinition = {
  name: "kind",
  schema: stringOrList(documentedEnum(MANAGED_KINDS, (name) => KIND_MEANINGS[name as keyof typeof KIND_MEANINGS])),
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
