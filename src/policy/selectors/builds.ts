import type { BuildManifest } from "../../sstate/build-manifest.ts";
import { DURATION_HELP } from "../../util/units.ts";
import { DURATION_SCHEMA } from "../value-schemas.ts";
import { durationValue, type EvaluationContext, type SelectorDefinition } from "./selector.ts";

export const usedByBuilds: SelectorDefinition = {
  name: "used-by-builds",
  schema: {
    type: "object",
    required: ["within"],
    additionalProperties: false,
    properties: {
      within: { ...DURATION_SCHEMA, description: "How far back a build's manifest counts, by the time written in it." },
      from: {
        type: "string",
        minLength: 1,
        description: "Where builds published their manifests (`stamps --publish`): a target URL or a path relative to the policy file; default the plan's target.",
      },
    },
  },
  expected: `{ within: <${DURATION_HELP}>, from: <target URL or path, optional> }`,
  description:
    "Keep only: files whose hash a build manifest published within the duration names (`sstate-keeper stamps DIR… --publish TARGET`; the time written in the manifest counts, not its mtime). Manifests are read from `<from>/.sstate-keeper/builds/`, by default under the plan's target.",
  allowedIn: ["keep"],
  placementHint: "manifests name what builds used; put them in a keep rule",
  examples: ["{ used-by-builds: { within: 7d } }", "{ used-by-builds: { within: 30d, from: 's3://ci-manifests/yocto' } }"],
  compile({ value, report, position }) {
    const { within, from } = value as { within: string; from?: string };
    const windowMs = durationValue(within, report, { label: "within", path: ["within"] });
    if (windowMs === undefined) return undefined;
    // One union per evaluation: the test runs once per file.
    const unions = new WeakMap<EvaluationContext, ReadonlySet<string>>();
    const usedHashes = (context: EvaluationContext) => {
      let union = unions.get(context);
      if (!union) unions.set(context, union = recentHashes(context.builds.get(from ?? "") ?? [], context.now - windowMs));
      return union;
    };
    return {
      builds: { ...(from !== undefined ? { from } : {}), withinMs: windowMs, position: position(from !== undefined ? ["from"] : []) },
      test: (i, context) => usedHashes(context).has(context.listing.hash(i)),
    };
  },
};

/** The hashes named by manifests published at or after `since` (later ones too: a build's clock may run ahead). */
function recentHashes(manifests: readonly BuildManifest[], since: number): ReadonlySet<string> {
  const union = new Set<string>();
  for (const manifest of manifests) if (manifest.publishedAt >= since) { for (const hash of manifest.hashes) union.add(hash); }
  return union;
}
