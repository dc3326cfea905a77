// Plans byte for byte: the shipped presets and the dependency rules on a deterministic
// generated cache, serialised exactly as `plan --out` writes them. Any change to what a plan
// says, or to how it is written, shows here (UPDATE_GOLDEN=1 regenerates, to be reviewed).
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { buildPlan, PLAN_FORMAT_VERSION, serializePlan } from "../src/plan/plan-file.ts";
import { parsePlan, PlanFileError } from "../src/plan/read-plan.ts";
import { evaluate } from "../src/plan/planner.ts";
import { ListingBuilder } from "../src/sstate/listing.ts";
import { policyFrom } from "./support/listing.ts";

const PLANNED_AT = new Date(DEMO_NOW + 3_600_000);
const WEEK = 7 * 86_400_000;
const policyText = (name: string) => readFileSync(new URL(`../policies/${name}`, import.meta.url), "utf8");

const CASES = [
  { name: "example", policy: policyText("example.yaml"), files: 2500, explain: false },
  { name: "oe-remove-duplicated", policy: policyText("oe-remove-duplicated.yaml"), files: 2500, explain: false },
  { name: "isar-clean", policy: policyText("isar-clean.yaml"), files: 2500, explain: false },
  {
    name: "dependencies-explained",
    policy: `version: 1
guards: { min-age: 1h, max-delete-percent: 100 }
rules:
  - name: keep-newest
    keep: { kind: archive, newest: 1, per: [pn, arch, task] }
  - name: expire-archives
    delete: { kind: archive, older-than: 30d }
  - name: drop-orphans
    delete: { orphan: true }
  - name: drop-leftovers
    delete: { kind: temp, all: true }
`,
    files: 600,
    explain: true,
  },
];

describe("plans are byte-identical to the checked-in goldens", () => {
  it.each(CASES)("$name", ({ name, policy, files, explain }) => {
    const builder = new ListingBuilder();
    builder.add([...generateCache({ files, now: DEMO_NOW })]);
    const listing = builder.finish();
    const compiled = policyFrom(policy, `${name}.yaml`);
    const evaluation = evaluate({ listing, policy: compiled, now: DEMO_NOW, referencedHashes: new Map(), explainKept: explain });
    const plan = buildPlan(evaluation, {
      tool: { name: "sstate-keeper", version: "golden" },
      createdAt: PLANNED_AT,
      now: new Date(DEMO_NOW),
      validForMs: WEEK,
      target: "file:///srv/sstate-cache",
      policy: { path: `policies/${name}.yaml`, sha256: compiled.sha256 },
      listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
    });
    const golden = new URL(`./fixtures/plans/${name}.json`, import.meta.url);
    const written = serializePlan(plan);
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, written);
    expect(written).toBe(readFileSync(golden, "utf8"));
  });

  it.each(CASES)("the plan reader keeps reading the $name golden", ({ name }) => {
    const text = readFileSync(new URL(`./fixtures/plans/${name}.json`, import.meta.url), "utf8");
    const plan = parsePlan(text, `${name}.json`);
    expect(plan.formatVersion).toBe(PLAN_FORMAT_VERSION);
    expect(plan.delete.length).toBeGreaterThan(0);
  });
});

// Format 1 (until 3053ba2) did not record which archive a deletion depends on (`after`: a .sig or
// .done following its archive, an orphan companion of an archive the plan deletes). Applied, it
// could delete such a file while keeping its archive, changed since planning; no reader can recover
// that from the file. So it is refused with what to do, never applied or guessed at.
// format-1.json is a real plan written by sstate-keeper at 3053ba2^ (a 100-file demo cache).
describe("plans of earlier formats", () => {
  it("refuses a format-1 plan, saying to re-plan", () => {
    const text = readFileSync(new URL("./fixtures/plans/format-1.json", import.meta.url), "utf8");
    expect(JSON.parse(text)).toMatchObject({ formatVersion: 1, delete: expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]) });
    expect(() => parsePlan(text, "format-1.json")).toThrow(PlanFileError);
    expect(() => parsePlan(text, "format-1.json")).toThrow(
      /^format-1\.json: plan format version 1 is not supported by sstate-keeper .*; re-plan: make a new plan with this version, review it and apply that$/,
    );
  });
});
