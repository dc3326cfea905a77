import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planSchema } from "../src/plan/plan-schema.ts";
import { SELECTORS } from "../src/policy/selectors/registry.ts";
import { loadPolicy } from "../src/policy/load.ts";
import { policySchema } from "../src/policy/schema.ts";
import { TOOL } from "../src/util/version.ts";

const checkedIn = [
  { file: "../schemas/policy.schema.json", schema: policySchema },
  { file: "../schemas/plan.schema.json", schema: planSchema },
];

describe("shipped JSON schemas", () => {
  it.each(checkedIn)("$file is up to date (UPDATE_GOLDEN=1 regenerates)", ({ file, schema }) => {
    const url = new URL(file, import.meta.url);
    const generated = `${JSON.stringify(schema(), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN) writeFileSync(url, generated);
    expect(readFileSync(url, "utf8")).toBe(generated);
  });
});

describe("selector registry", () => {
  it.each(SELECTORS.map((s) => [s.name, s] as const))("%s has a schema, a description, and examples that load", (_name, selector) => {
    expect(Object.keys(selector.schema).length).toBeGreaterThan(0);
    expect(selector.description.length).toBeGreaterThan(10);
    expect(selector.examples.length).toBeGreaterThan(0);
    for (const example of selector.examples) {
      const action = selector.allowedIn[0]!;
      const yaml = `version: 1\nrules:\n  - name: example\n    ${action}: ${example}\n`;
      const { diagnostics } = loadPolicy(yaml, "example.yaml");
      expect(diagnostics, `${selector.name}: ${example}`).toEqual([]);
      expect(parse(example)).toHaveProperty(selector.name);
    }
  });

  it("every selector is in the policy schema with additionalProperties: false", () => {
    const selectors = (policySchema().definitions as Record<string, { properties: object; additionalProperties: boolean }>).selectors;
    expect(Object.keys(selectors.properties).sort()).toEqual(SELECTORS.map((s) => s.name).sort());
    expect(selectors.additionalProperties).toBe(false);
  });
});

describe("presets", () => {
  it.each(["example.yaml", "oe-remove-duplicated.yaml", "isar-clean.yaml"])("policies/%s is valid", (name) => {
    const text = readFileSync(new URL(`../policies/${name}`, import.meta.url), "utf8");
    expect(loadPolicy(text, name).diagnostics).toEqual([]);
  });
});

it("the tool version matches package.json", () => {
  expect(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version).toBe(TOOL.version);
});
