import { asList, type SelectorDefinition, stringOrList } from "./selector.ts";

/**
 * `stamps` and `hashes` of one rule form a single set of referenced hashes (read at the
 * edge, before planning): a rule naming both keeps what either names.
 */
function referenceSelector(name: "stamps" | "hashes", description: string, example: string, placementHint: string): SelectorDefinition {
  return {
    name,
    schema: stringOrList(),
    expected: name === "stamps" ? "a stamps directory path or a list of them" : "a manifest file path or a list of them",
    description,
    allowedIn: ["keep"],
    placementHint,
    examples: [example],
    compile({ value, ruleName, position }) {
      const written = asList(value);
      return {
        references: written.map((path, index) => ({ kind: name, written: path, path, position: position(Array.isArray(value) ? [index] : []) })),
        test: (i, { listing, referencedHashes }) => referencedHashes.get(ruleName)?.has(listing.hash(i)) ?? false,
      };
    },
  };
}

export const stamps = referenceSelector(
  "stamps",
  "Keep only: files whose hash a build's stamps name (`*.do_X.sigdata.<h>` and `*.do_X_setscene.<h>[.<extra>]`, at any depth, work-shared included). Paths are relative to the policy file.",
  "{ stamps: [../build/tmp/stamps] }",
  "stamps name what to keep; put them in a keep rule",
);

export const hashes = referenceSelector(
  "hashes",
  "Keep only: files whose hash a manifest names (one unihash or sstate name per line, # comments). Paths are relative to the policy file.",
  "{ hashes: [releases/5.0.7.hashes] }",
  "manifests name what to keep; put them in a keep rule",
);
