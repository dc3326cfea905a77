// The shipped schema in the real yaml-language-server, over LSP as an editor drives it, against
// what `validate` reports for the corpus of bad policies (test/fixtures/policies).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "../src/policy/diagnostics.ts";
import { readPolicyFile } from "../src/evidence/policy-file.ts";
import { type LspDiagnostic, YAML_LANGUAGE_SERVER_VERSION, YamlLanguageServer } from "./support/yaml-language-server.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SCHEMA = fileURLToPath(new URL("../schemas/policy.schema.json", import.meta.url));
const CORPUS = [
  "test/fixtures/policies/every-problem.yaml",
  ...readdirSync(new URL("./fixtures/policies/corpus/", import.meta.url))
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => `test/fixtures/policies/corpus/${name}`),
];
const PRESETS = readdirSync(new URL("../policies/", import.meta.url))
  .filter((name) => name.endsWith(".yaml"))
  .map((name) => `policies/${name}`);

/** What `validate` reports that no JSON schema can say, by diagnostic code: the editor stays silent there. */
const BEYOND_A_SCHEMA: Record<string, string> = {
  "duplicate-rule": "rule names must differ across the list: uniqueItems compares whole rules, not one key of each",
  "missing-stamps": "whether a stamps directory exists is a fact of the disk, not of the document",
  "missing-manifest": "whether a manifest file exists is a fact of the disk, not of the document",
  "invalid-target":
    "a target is what the backend registry opens (the schemes backends register, WHATWG URL syntax, no credentials in it); a pattern in the policy schema would be a second copy of that rule",
};

interface Compared {
  file: string;
  validate: Diagnostic[];
  editor: LspDiagnostic[];
}

let server: YamlLanguageServer;
const compared: Compared[] = [];
const editorLine = (diagnostic: LspDiagnostic) => diagnostic.range.start.line + 1;

async function diagnoseFile(file: string): Promise<LspDiagnostic[]> {
  const uri = pathToFileURL(`${REPO}${file}`).href;
  const diagnostics = await server.diagnose(uri, readFileSync(`${REPO}${file}`, "utf8"));
  server.close(uri);
  return diagnostics;
}

describe(`the policy schema in yaml-language-server ${YAML_LANGUAGE_SERVER_VERSION}`, { timeout: 60_000 }, () => {
  beforeAll(async () => {
    server = await YamlLanguageServer.start(SCHEMA);
    for (const file of CORPUS) compared.push({ file, validate: (await readPolicyFile(file, REPO)).diagnostics, editor: await diagnoseFile(file) });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it.each(CORPUS)("%s: every problem a schema can express is flagged on the line validate reports it", (file) => {
    const { validate, editor } = compared.find((entry) => entry.file === file)!;
    expect(validate.length, "a corpus file has problems").toBeGreaterThan(0);
    const expressible = validate.filter((d) => BEYOND_A_SCHEMA[d.code] === undefined);
    const missed = expressible.filter((d) => !editor.some((e) => editorLine(e) === d.line));
    expect(missed.map((d) => `${d.line}: ${d.code}: ${d.message}`)).toEqual([]);
    // The list above stays true: where only something beyond a schema is wrong, the editor says nothing.
    const beyond = validate.filter((d) => BEYOND_A_SCHEMA[d.code] !== undefined && !expressible.some((other) => other.line === d.line));
    expect(beyond.filter((d) => editor.some((e) => editorLine(e) === d.line)).map((d) => `${d.line}: ${d.code}`)).toEqual([]);
  });

  it.each(CORPUS)("%s: the editor flags nothing validate accepts", (file) => {
    const { validate, editor } = compared.find((entry) => entry.file === file)!;
    const unexpected = editor.filter((e) => !validate.some((d) => d.line === editorLine(e)));
    expect(unexpected.map((e) => `${editorLine(e)}: ${e.message}`)).toEqual([]);
  });

  it("the corpus exercises every problem listed as beyond a schema", () => {
    const codes = new Set(compared.flatMap((entry) => entry.validate.map((d) => d.code)));
    expect(Object.keys(BEYOND_A_SCHEMA).filter((code) => !codes.has(code))).toEqual([]);
  });

  it("durations and sizes get a message in words, never a raw pattern or only 'Incorrect type'", () => {
    const unitProblems = compared.flatMap(({ validate, editor }) =>
      validate
        .filter((d) => / is not (?:valid; expected )?a (?:duration|size) /.test(d.message))
        .map((d) => ({ unit: /a (duration|size) /.exec(d.message)![1]!, said: editor.filter((e) => editorLine(e) === d.line).map((e) => e.message) }))
    );
    expect(unitProblems.length).toBeGreaterThanOrEqual(8);
    for (const { unit, said } of unitProblems) {
      expect(said.length).toBeGreaterThan(0);
      for (const message of said) {
        expect(message).toContain(`a ${unit} such as`);
        expect(message).not.toMatch(/pattern|Incorrect type|\^/);
      }
    }
    expect(compared.flatMap(({ editor }) => editor.map((e) => e.message)).filter((message) => /does not match the pattern/.test(message))).toEqual([]);
  });

  it.each(PRESETS)("%s: the editor flags nothing (it names the schema in its modeline)", async (file) => {
    expect(await diagnoseFile(file)).toEqual([]);
  });

  it.each([
    { action: "delete", offered: ["except-newest", "orphan", "older-than", "all"], hidden: ["newest", "stamps", "hashes"] },
    { action: "keep", offered: ["newest", "stamps", "hashes", "older-than"], hidden: ["except-newest", "orphan"] },
  ])("completion in a $action rule offers only its selectors", async ({ action, offered, hidden }) => {
    const uri = `file:///completion-in-a-${action}-rule.yaml`;
    await server.diagnose(uri, `version: 1\nrules:\n  - name: a\n    ${action}:\n      kind: archive\n      \n`);
    const labels = (await server.complete(uri, 5, 6)).map((item) => item.label);
    server.close(uri);
    expect(labels).toEqual(expect.arrayContaining(offered));
    expect(labels.filter((label) => hidden.includes(label))).toEqual([]);
  });

  it("hover explains a selector and each value of an enum", async () => {
    const uri = "file:///hover.yaml";
    await server.diagnose(uri, "version: 1\nrules:\n  - name: a\n    delete:\n      kind: siginfo\n      older-than: 30d\n");
    const onSelector = await server.hover(uri, 5, 8);
    const onValue = await server.hover(uri, 4, 14);
    server.close(uri);
    expect(onSelector).toContain("is at least the duration");
    expect(onSelector).toContain("30d");
    expect(onValue).toContain("signature data bitbake writes");
  });
});
