import { ENDINGS, TEMP_ENDING_OFFSET } from "../../sstate/name.ts";
import { asList, endingsWhere, type SelectorDefinition, stringOrList } from "./selector.ts";

export const suffix: SelectorDefinition = {
  name: "suffix",
  schema: stringOrList({ type: "string", pattern: "^\\.", patternErrorMessage: "A suffix starts with '.', e.g. .siginfo or .tar.zst." }),
  expected: "a file-name ending starting with '.', such as .siginfo or .tar.zst, or a list of them",
  description: "The file name ends with one of the strings.",
  allowedIn: ["keep", "delete"],
  comparesField: true,
  examples: ["{ suffix: [.siginfo], older-than: 90d }", "{ suffix: [.tar.zst, .tar.zst.siginfo] }"],
  compile({ value }) {
    const endings = asList(value);
    // A task name has no dot, so a name ends with one of these exactly when its ending does; a temp leftover's random tail is read from its path.
    const byEnding = Uint8Array.from(ENDINGS, (ending) => (endings.some((wanted) => ending.suffix.endsWith(wanted)) ? 1 : 0));
    return {
      test: (i, { listing }) => {
        const ending = listing.endings[i]!;
        if (ending < TEMP_ENDING_OFFSET) return byEnding[ending] === 1;
        const path = listing.path(i);
        return endings.some((wanted) => path.endsWith(wanted));
      },
      // Whether a temp leftover's random tail ends so is known only from its path.
      admits: endingsWhere((ending) => ending >= TEMP_ENDING_OFFSET || byEnding[ending] === 1),
    };
  },
};
