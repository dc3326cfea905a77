import { asList, stringOrList, type SelectorDefinition } from "./selector.ts";

export const suffix: SelectorDefinition = {
  name: "suffix",
  schema: stringOrList({ type: "string", pattern: "^\\." }),
  expected: "a file-name ending starting with '.', such as .siginfo or .tar.zst, or a list of them",
  description: "The file name ends with one of the strings.",
  allowedIn: ["keep", "delete"],
  role: "filter",
  comparesField: true,
  examples: ["{ suffix: [.siginfo], older-than: 90d }", "{ suffix: [.tar.zst, .tar.zst.siginfo] }"],
  compile({ value }) {
    const endings = asList(value);
    return (file) => endings.some((ending) => file.path.endsWith(ending));
  },
};
