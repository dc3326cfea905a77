import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readPolicyFile } from "../src/evidence/policy-file.ts";
import { formatDiagnostic } from "../src/policy/diagnostics.ts";
import { loadPolicy } from "../src/policy/load.ts";

const problems = (yaml: string) => loadPolicy(yaml, "p.yaml").diagnostics;

describe("every bad-input class is reported with its line and column", () => {
  it.each([
    { title: "broken YAML", yaml: "version: 1\nrules:\n  - name: a\n    keep: {pn: [x\n", code: "yaml-syntax", line: 5, col: 1 },
    { title: "not a mapping", yaml: "- just\n- a list\n", code: "not-a-policy", line: 1, col: 1 },
    { title: "wrong version", yaml: "version: 2\nrules: []\n", code: "schema", line: 1, col: 10, message: "policy version 2 is not supported: this sstate-keeper reads 'version: 1'" },
    { title: "missing version", yaml: "rules: []\n", code: "schema", line: 1, col: 1, message: "policy: missing 'version'" },
    { title: "unknown top-level key", yaml: "version: 1\nrule: []\nrules: []\n", code: "unknown-key", line: 2, col: 1, hint: "did you mean 'rules'?" },
    {
      title: "unknown selector",
      yaml: "version: 1\nrules:\n  - name: a\n    delete: { olderthan: 3d }\n",
      code: "unknown-key",
      line: 4,
      col: 15,
      message: "unknown selector 'olderthan' in delete rule 'a'",
    },
    {
      title: "bare-number duration",
      yaml: "version: 1\nrules:\n  - name: a\n    delete: { older-than: 30 }\n",
      code: "invalid-selector",
      line: 4,
      col: 27,
      hint: "a bare number has no unit: write e.g. 30d or 30h",
    },
    { title: "bad duration unit", yaml: "version: 1\nrules:\n  - name: a\n    delete: { older-than: 3y }\n", code: "invalid-selector", line: 4, col: 27 },
    { title: "bare-number size", yaml: "version: 1\nrules:\n  - name: a\n    delete: { larger-than: 5 }\n", code: "invalid-selector", line: 4, col: 28 },
    { title: "duplicate rule names", yaml: "version: 1\nrules:\n  - name: a\n    keep: { pn: x }\n  - name: a\n    delete: { pn: y }\n", code: "duplicate-rule", line: 5, col: 11 },
    {
      title: "newest in a delete rule",
      yaml: "version: 1\nrules:\n  - name: a\n    delete: { newest: 2 }\n",
      code: "selector-placement",
      line: 4,
      col: 15,
      hint: "in a delete rule use 'except-newest'",
    },
    { title: "orphan in a keep rule", yaml: "version: 1\nrules:\n  - name: a\n    keep: { orphan: true }\n", code: "selector-placement", line: 4, col: 13 },
    { title: "unknown per field", yaml: "version: 1\nrules:\n  - name: a\n    keep: { newest: 1, per: [pn, flavour] }\n", code: "invalid-selector", line: 4, col: 34 },
    { title: "per without newest", yaml: "version: 1\nrules:\n  - name: a\n    keep: { pn: x, per: [pn] }\n", code: "selector-needs", line: 4, col: 20 },
    {
      title: "empty delete rule",
      yaml: "version: 1\nrules:\n  - name: a\n    delete: {}\n",
      code: "empty-rule",
      line: 4,
      col: 13,
      hint: "to delete everything not kept, say so: 'delete: { all: true }'",
    },
    { title: "keep and delete in one rule", yaml: "version: 1\nrules:\n  - name: a\n    keep: { pn: x }\n    delete: { pn: y }\n", code: "rule-action", line: 5, col: 5 },
    { title: "rule without name", yaml: "version: 1\nrules:\n  - keep: { pn: x }\n", code: "schema", line: 3, col: 5, message: "rule 1 is missing 'name'" },
    { title: "bad kind", yaml: "version: 1\nrules:\n  - name: a\n    delete: { kind: archiv }\n", code: "invalid-selector", line: 4, col: 21 },
    { title: "bad guard", yaml: "version: 1\nguards: { max-delete-percent: 120 }\nrules: []\n", code: "schema", line: 2, col: 31 },
  ])("$title", ({ yaml, title: _title, ...expected }) => {
    const found = problems(yaml);
    expect(found).toHaveLength(yaml.includes("{pn: [x") ? 2 : 1);
    expect(found[0]).toMatchObject({ file: "p.yaml", ...expected });
  });

  it("a missing stamps directory or manifest is reported where the policy names it", async () => {
    // stamps: [../no/such/stamps] and hashes: missing.hashes, relative to the policy file.
    const { diagnostics } = await readPolicyFile(fileURLToPath(new URL("./fixtures/policies/missing-references.yaml", import.meta.url)), process.cwd());
    expect(diagnostics.map((d) => ({ code: d.code, line: d.line, col: d.col }))).toEqual([
      { code: "missing-stamps", line: 5, col: 16 },
      { code: "missing-manifest", line: 6, col: 15 },
    ]);
  });

  it("reports every problem of a file at once (golden)", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/policies/every-problem.yaml", import.meta.url));
    const golden = fileURLToPath(new URL("./fixtures/policies/every-problem.expected.txt", import.meta.url));
    const { diagnostics } = await readPolicyFile("test/fixtures/policies/every-problem.yaml", fileURLToPath(new URL("..", import.meta.url)));
    const rendered = `${diagnostics.map(formatDiagnostic).join("\n")}\n`;
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, rendered);
    expect(rendered).toBe(readFileSync(golden, "utf8"));
    expect(fixture).toBeTruthy();
  });
});
