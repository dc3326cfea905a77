import { readFileSync, writeFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planSchema } from "../src/plan/plan-schema.ts";
import { SELECTORS, SELECTORS_BY_NAME } from "../src/policy/selectors/registry.ts";
import { loadPolicy } from "../src/policy/load.ts";
import { policySchema } from "../src/policy/schema.ts";
import { EDITOR_KEYWORDS } from "../src/policy/value-schemas.ts";
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
      // An example is written for the first action all of its selectors are allowed in.
      const action = selector.allowedIn.find((candidate) => Object.keys(parse(example)).every((key) => SELECTORS_BY_NAME.get(key)?.allowedIn.includes(candidate)));
      expect(action, example).toBeDefined();
      const yaml = `version: 1\nrules:\n  - name: example\n    ${action}: ${example}\n`;
      const { diagnostics } = loadPolicy(yaml, "example.yaml");
      expect(diagnostics, `${selector.name}: ${example}`).toEqual([]);
      expect(parse(example)).toHaveProperty(selector.name);
    }
  });

  it.each(["keep", "delete"] as const)("a %s rule offers exactly the selectors allowed there, documented; the others are refused and never suggested", (action) => {
    const set = (policySchema().definitions as Record<string, { properties: Record<string, Record<string, unknown>>; additionalProperties: boolean }>)[`${action}-selectors`]!;
    const offered = Object.entries(set.properties).filter(([, property]) => property.doNotSuggest !== true);
    const refused = Object.entries(set.properties).filter(([, property]) => property.doNotSuggest === true);
    expect(offered.map(([name]) => name)).toEqual(SELECTORS.filter((s) => s.allowedIn.includes(action)).map((s) => s.name));
    expect(refused.map(([name]) => name)).toEqual(SELECTORS.filter((s) => !s.allowedIn.includes(action)).map((s) => s.name));
    expect(set.additionalProperties).toBe(false);
    for (const [name, property] of offered) {
      expect(property.markdownDescription, name).toEqual(expect.stringContaining("Example:"));
      expect((property.examples as unknown[]).length, name).toBeGreaterThan(0);
    }
  });

  it("ajv in strict mode accepts the schema, with the editor annotations declared as keywords", () => {
    expect(() => new Ajv({ strict: true }).addVocabulary([...EDITOR_KEYWORDS]).compile(policySchema())).not.toThrow();
  });

  it("every top-level key, guard and rule key has a description and examples", () => {
    const schema = policySchema() as { properties: Record<string, Record<string, unknown>>; definitions: { rule: { properties: Record<string, Record<string, unknown>> } } };
    const keys = {
      ...schema.properties,
      ...Object.fromEntries(Object.entries(schema.properties.guards!.properties as Record<string, Record<string, unknown>>).map(([name, value]) => [`guards.${name}`, value])),
      ...Object.fromEntries(Object.entries(schema.definitions.rule.properties).map(([name, value]) => [`rule.${name}`, value])),
    };
    expect(Object.keys(keys).length).toBeGreaterThanOrEqual(13);
    for (const [key, property] of Object.entries(keys)) {
      expect(property.description, key).toEqual(expect.any(String));
      expect(property.markdownDescription, key).toEqual(expect.stringContaining("Example:"));
      expect((property.examples as unknown[]).length, key).toBeGreaterThan(0);
    }
  });

  it("every example in the schema is valid where it is offered", () => {
    const ajv = new Ajv({ strict: true }).addVocabulary([...EDITOR_KEYWORDS]).addSchema(policySchema(), "policy");
    const offered: { pointer: string; example: unknown }[] = [];
    const visit = (node: unknown, pointer: string): void => {
      if (typeof node !== "object" || node === null) return;
      for (const example of (node as { examples?: unknown[] }).examples ?? []) offered.push({ pointer, example });
      for (const [key, child] of Object.entries(node)) if (key !== "examples") visit(child, `${pointer}/${key}`);
    };
    visit(policySchema(), "");
    expect(offered.length).toBeGreaterThan(30);
    for (const { pointer, example } of offered) expect(ajv.validate({ $ref: `policy#${pointer}` }, example), `${pointer}: ${JSON.stringify(example)}`).toBe(true);
  });

  it("every enum value has a description", () => {
    const enums: Record<string, unknown>[] = [];
    const visit = (node: unknown): void => {
      if (typeof node !== "object" || node === null) return;
      if (Array.isArray((node as { enum?: unknown }).enum)) enums.push(node as Record<string, unknown>);
      Object.values(node).forEach(visit);
    };
    visit(policySchema());
    expect(enums.length).toBeGreaterThanOrEqual(4);
    for (const schema of enums) expect((schema.enumDescriptions as string[]).length, JSON.stringify(schema.enum)).toBe((schema.enum as unknown[]).length);
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
