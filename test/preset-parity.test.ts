// The presets side by side with the tools they copy, on the parity caches: what the preset
// deletes is exactly what the tool removed (recorded from the real tool by
// scripts/record-parity.mjs, as CI has neither tool), changed only by the differences each
// preset's header lists. Each difference is computed here from the listing, not from the plan.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEMO_NOW, type GeneratedFile } from "../src/demo/generate.ts";
import { evaluate } from "../src/plan/planner.ts";
import { type Listing, listingOf } from "../src/sstate/listing.ts";
import { KIND } from "../src/sstate/name.ts";
import { DAY, HOUR, policyFrom } from "./support/listing.ts";
import { generatedCase, isarEdgeCase, type ParityCase } from "./support/parity-cases.ts";

interface Recording {
  tool: string;
  cases: Record<string, { files: number; listingSha256: string; removedCount: number; removed: string }>;
}

const recordingOf = (preset: string): Recording => JSON.parse(readFileSync(new URL(`./fixtures/parity/${preset}.json`, import.meta.url), "utf8"));
const presetText = (preset: string) => readFileSync(new URL(`../policies/${preset}.yaml`, import.meta.url), "utf8");

function indexesOf(ranges: string): number[] {
  return ranges === "" ? [] : ranges.split(",").flatMap((part) => {
    const [from, to = from] = part.split("-").map(Number) as [number, number?];
    return Array.from({ length: to! - from + 1 }, (_, k) => from + k);
  });
}

/** A listed difference: the files of the tool's result it takes away, or the files it adds. */
interface Difference {
  says: string;
  adds?: (i: number, listing: Listing, removedByTool: ReadonlySet<string>) => boolean;
  removes?: (i: number, listing: Listing) => boolean;
}

const ageOf = (listing: Listing, i: number) => DEMO_NOW - listing.mtimes[i]!;

const DIFFERENCES: Record<string, Difference[]> = {
  "oe-remove-duplicated": [
    {
      says: "the .sig of an archive OE removes goes with it",
      adds: (i, listing, removed) => {
        const archive = listing.archiveIndexes()[i]!;
        return listing.kinds[i] === KIND.signature && archive >= 0 && removed.has(listing.path(archive));
      },
    },
  ],
  "isar-clean": [
    { says: "min-age 1h keeps what isar deletes younger than an hour", removes: (i, listing) => ageOf(listing, i) < HOUR },
    { says: "endings sstate-keeper does not know are never touched", removes: (i, listing) => listing.kinds[i] === KIND.unmanaged },
    { says: "an INVALID hash is deleted by age", adds: (i, listing) => listing.isManaged(i) && listing.hash(i) === "INVALID" && ageOf(listing, i) >= DAY },
  ],
};

/** One side-by-side run: a preset (as written, or changed as its header says) against one recorded result of its tool. */
interface Run {
  preset: string;
  /** The key of the tool's result in the recording: the case's name, plus the tool's options if any. */
  recording: string;
  parityCase: ParityCase;
  policy: string;
}

const generated = generatedCase();
const edgeCases = isarEdgeCase();
const ISAR_OPTIONS = "--max-sig-age 7d --filter ^(?!isar-image-)";

/** `text` with `from` replaced, which must be there: the header's instructions name these mappings. */
function replacing(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the preset no longer contains ${from}`);
  return text.replace(from, to);
}

/** isar-clean.yaml changed as its header says for `--max-sig-age 7d --filter '^(?!isar-image-)'`. */
function isarCleanFor7dAndFilter(): string {
  const sevenDays = replacing(presetText("isar-clean"), "{ all: true, older-than: 1d }", "{ all: true, older-than: 7d }");
  const rules = ["{ kind: archive, older-than: 1d", "{ all: true, older-than: 7d", "{ hash-of-deleted-archive: true"];
  return rules.reduce((text, selectors) => replacing(text, `${selectors} }`, `${selectors}, pn: "!isar-image-*" }`), sevenDays);
}

const RUNS: Run[] = [
  ...["oe-remove-duplicated", "isar-clean"].flatMap((preset) => [generated, edgeCases].map((parityCase) => ({ preset, recording: parityCase.name, parityCase, policy: presetText(preset) }))),
  { preset: "isar-clean", recording: `${generated.name} ${ISAR_OPTIONS}`, parityCase: generated, policy: isarCleanFor7dAndFilter() },
];

type Comparison = ReturnType<typeof compareOnce>;
const comparisons = new Map<Run, Comparison>();

/** Planned once per run: the 60k cache takes a second or two. */
function compare(run: Run): Comparison {
  let comparison = comparisons.get(run);
  if (!comparison) comparisons.set(run, comparison = compareOnce(run));
  return comparison;
}

const runOf = (preset: string, recording: string) => RUNS.find((run) => run.preset === preset && run.recording === recording)!;

function compareOnce({ preset, recording, parityCase, policy }: Run) {
  const recorded = recordingOf(preset).cases[recording]!;
  const listing = listingOf(parityCase.files);
  const removedByTool = new Set(indexesOf(recorded.removed).map((index) => (parityCase.files[index] as GeneratedFile).path));
  const evaluation = evaluate({ listing, policy: policyFrom(policy, `${preset}.yaml`), now: DEMO_NOW, referencedHashes: new Map() });
  const ours = new Set(Array.from(evaluation.deleted, (i) => listing.path(i)));
  const expected = new Set<string>();
  const byDifference = new Map<string, number>(DIFFERENCES[preset]!.map((d) => [d.says, 0]));
  for (let i = 0; i < listing.count; i++) {
    const path = listing.path(i);
    let wanted = removedByTool.has(path);
    for (const difference of DIFFERENCES[preset]!) {
      const applies = wanted ? difference.removes?.(i, listing) : difference.adds?.(i, listing, removedByTool);
      if (!applies) continue;
      wanted = !wanted;
      byDifference.set(difference.says, byDifference.get(difference.says)! + 1);
    }
    if (wanted) expected.add(path);
  }
  return { recorded, listing, removedByTool, ours, expected, byDifference };
}

const sorted = (paths: Iterable<string>) => [...paths].sort();

describe("each preset matches its tool except for the differences its header lists", () => {
  it.each(RUNS.map((run) => [run.preset, run.recording, run] as const))("%s on %s", (_preset, _recording, run) => {
    const { recorded, listing, removedByTool, ours, expected } = compare(run);
    // The recording is of this very cache: a changed generator needs a new recording.
    expect(listing.sha256, "the parity cache changed: record the tools again with scripts/record-parity.mjs").toBe(recorded.listingSha256);
    expect(removedByTool.size).toBe(recorded.removedCount);
    expect(sorted([...ours].filter((p) => !expected.has(p)))).toEqual([]);
    expect(sorted([...expected].filter((p) => !ours.has(p)))).toEqual([]);
  });
});

describe("the listed differences are real on these caches", () => {
  it.each(
    [
      // preset, case, difference, files it changes
      ["oe-remove-duplicated", "generated-60k", "the .sig of an archive OE removes goes with it", 797],
      ["isar-clean", "isar-edge-cases", "min-age 1h keeps what isar deletes younger than an hour", 1],
      ["isar-clean", "isar-edge-cases", "endings sstate-keeper does not know are never touched", 1],
      ["isar-clean", "isar-edge-cases", "an INVALID hash is deleted by age", 1],
    ] as const,
  )("%s on %s: %s (%i files)", (preset, recording, says, count) => {
    expect(compare(runOf(preset, recording)).byDifference.get(says)).toBe(count);
  });

  it("OE keeps the newest .done of a group even when its archive goes, and the preset does too", () => {
    const { listing, removedByTool, ours } = compare(runOf("oe-remove-duplicated", generated.name));
    const archiveOf = listing.archiveIndexes();
    const keptDoneOfRemovedArchive = Array.from({ length: listing.count }, (_, i) => i).filter(
      (i) => listing.kinds[i] === KIND.done && archiveOf[i]! >= 0 && removedByTool.has(listing.path(archiveOf[i]!)) && !removedByTool.has(listing.path(i)),
    );
    expect(keptDoneOfRemovedArchive.length).toBe(38);
    for (const i of keptDoneOfRemovedArchive) expect(ours.has(listing.path(i))).toBe(false);
  });
});
