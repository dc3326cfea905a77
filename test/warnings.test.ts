// Warnings that save a bad night: what is valid but can't be what the writer meant, found when
// the policy is read (rules that can never match, an unclosed '[' in a glob, evidence that names
// no hash) or when it is planned (rules that matched nothing). Said, never refused.
import { fileURLToPath } from "node:url";
import { Lexer, type Token, type Tokens } from "marked";
import { Minimatch } from "minimatch";
import { describe, expect, it } from "vitest";
import { readPolicyFile } from "../src/evidence/policy-file.ts";
import { buildPlan, type PlanFile, serializePlan } from "../src/plan/plan-file.ts";
import { planSchema } from "../src/plan/plan-schema.ts";
import { evaluate } from "../src/plan/planner.ts";
import { parsePlan, PlanFileError } from "../src/plan/read-plan.ts";
import { renderMarkdown } from "../src/plan/render/markdown.ts";
import { unmatchedRules } from "../src/plan/warnings.ts";
import { type Diagnostic, formatDiagnostic } from "../src/policy/diagnostics.ts";
import { loadPolicy } from "../src/policy/load.ts";
import { unclosedBracket } from "../src/policy/selectors/globs.ts";
import { DAY, HOUR, listingFrom, NOW, policyFrom, sstatePath, type TestFile } from "./support/listing.ts";

const policyWith = (selectors: string, action = "delete") => `version: 1\nrules:\n  - name: r\n    ${action}: { ${selectors} }\n`;

/**
 * Every ending (archives, companions, temp leftovers of both) at ages and sizes on both sides
 * of the limits the cases use; each file with a hash of its own, so that every companion is an
 * orphan of a task that has archives.
 */
const ENDINGS = [".tar.zst", ".tar.zst.siginfo", ".tar.zst.sig", ".tar.zst.done", ".tgz", ".tgz.siginfo", ".tar.zst.AbCd1234", ".tar.zst.siginfo.keeper-0123abcd"];
const AGES = [0, HOUR, 5 * DAY, 10 * DAY, 20 * DAY, 30 * DAY, 400 * DAY];
const SIZES = [0, 1, 10, 11, 12, 1_000_000, 1_100_000_000];
const EVERY_KIND_AGE_AND_SIZE: TestFile[] = ENDINGS.flatMap((ext) =>
  AGES.flatMap((age) => SIZES.map((size) => ({ path: sstatePath({ pn: "busybox", arch: "core2-64", task: "populate_sysroot", ext, seed: `${ext}-${age}-${size}` }), age, size })))
);

/** Files the one rule of `yaml` selects in that listing. */
function matchedBy(yaml: string): number {
  const evaluation = evaluate({ listing: listingFrom(EVERY_KIND_AGE_AND_SIZE), policy: policyFrom(yaml), now: NOW, referencedHashes: new Map() });
  return evaluation.rules[0]!.matched.files;
}

describe("a rule that can never match is found when the policy is read, at its selectors", () => {
  it.each([
    { selectors: "older-than: 30d, newer-than: 10d", col: 32, message: "rule 'r' can never match: 'older-than: 30d' and 'newer-than: 10d' exclude each other" },
    { selectors: "newer-than: 10d, older-than: 10d", col: 32, message: "rule 'r' can never match: 'newer-than: 10d' and 'older-than: 10d' exclude each other" },
    { selectors: "larger-than: 1GiB, smaller-than: 1MB", col: 34, message: "rule 'r' can never match: 'larger-than: 1GiB' and 'smaller-than: 1MB' exclude each other" },
    { selectors: "larger-than: 1MB, smaller-than: 1MB", col: 33, message: "rule 'r' can never match: 'larger-than: 1MB' and 'smaller-than: 1MB' exclude each other" },
    // Sizes are whole bytes: nothing lies strictly between 10 and 11.
    { selectors: "larger-than: 10B, smaller-than: 11B", col: 33, message: "rule 'r' can never match: 'larger-than: 10B' and 'smaller-than: 11B' exclude each other" },
    { selectors: "smaller-than: 0B", col: 15, message: "rule 'r' can never match: 'smaller-than: 0B' admits no file" },
    { selectors: "kind: archive, suffix: .siginfo", col: 30, message: "rule 'r' can never match: 'kind: archive' and 'suffix: .siginfo' exclude each other" },
    { selectors: "kind: [siginfo, done], suffix: [.tgz, .sig]", col: 38, message: "rule 'r' can never match: 'kind: [siginfo, done]' and 'suffix: [.tgz, .sig]' exclude each other" },
    { selectors: "orphan: true, kind: archive", col: 29, message: "rule 'r' can never match: 'orphan: true' and 'kind: archive' exclude each other" },
    { selectors: "orphan: true, suffix: .tar.zst", col: 29, message: "rule 'r' can never match: 'orphan: true' and 'suffix: .tar.zst' exclude each other" },
  ])("$selectors", ({ selectors, col, message }) => {
    const yaml = policyWith(selectors);
    const { diagnostics, warnings } = loadPolicy(yaml, "p.yaml");
    expect(diagnostics).toEqual([]);
    expect(warnings).toEqual([{ code: "never-matches", message, file: "p.yaml", line: 4, col, severity: "warning" }]);
    // The claim holds: on every kind, age and size, the rule selects nothing.
    expect(matchedBy(yaml)).toBe(0);
  });

  it.each([
    "older-than: 10d, newer-than: 30d",
    "older-than: 10d, newer-than: 11d",
    "larger-than: 10B, smaller-than: 12B",
    "smaller-than: 1B",
    "kind: [archive, siginfo], suffix: .siginfo",
    "kind: temp, suffix: .keeper-0123abcd",
    "orphan: true, kind: done, older-than: 20d",
    "kind: archive, older-than: 30d, larger-than: 1MB",
  ])("no warning for %s, which selects files", (selectors) => {
    const yaml = policyWith(selectors);
    expect(loadPolicy(yaml, "p.yaml").warnings).toEqual([]);
    expect(matchedBy(yaml)).toBeGreaterThan(0);
  });

  it("keep rules too; a warning is no error, and a policy with errors still says its warnings", () => {
    expect(loadPolicy(policyWith("kind: archive, suffix: .siginfo", "keep"), "p.yaml").warnings.map((w) => w.code)).toEqual(["never-matches"]);
    const broken = loadPolicy(`${policyWith("older-than: 30d, newer-than: 1d")}  - name: bad\n    delete: { older-than: 30 }\n`, "p.yaml");
    expect(broken.diagnostics.map((d) => d.code)).toEqual(["invalid-selector"]);
    expect(broken.warnings.map((w) => w.code)).toEqual(["never-matches"]);
  });
});

describe("a delete rule the min-age guard always overrules is found when the policy is read", () => {
  const withGuard = (minAge: string | undefined, selectors: string) => `version: 1\n${minAge ? `guards: { min-age: ${minAge} }` : "guards: {}"}\nrules:\n  - name: r\n    delete: { ${selectors} }\n`;
  const tally = (yaml: string) => evaluate({ listing: listingFrom(EVERY_KIND_AGE_AND_SIZE), policy: policyFrom(yaml), now: NOW, referencedHashes: new Map() }).rules[0]!;

  it.each([
    { minAge: "2d", selectors: "kind: temp, newer-than: 1d", col: 27, message: "rule 'r' can never delete: 'newer-than: 1d' selects only files younger than the min-age guard (2d), which keeps them" },
    {
      minAge: "5d",
      selectors: "newer-than: 5d, suffix: .siginfo",
      col: 15,
      message: "rule 'r' can never delete: 'newer-than: 5d' selects only files younger than the min-age guard (5d), which keeps them",
    },
    // The default guard is 1 hour.
    { minAge: undefined, selectors: "newer-than: 30m", col: 15, message: "rule 'r' can never delete: 'newer-than: 30m' selects only files younger than the min-age guard (1h), which keeps them" },
  ])("min-age $minAge, $selectors", ({ minAge, selectors, col, message }) => {
    const yaml = withGuard(minAge, selectors);
    expect(loadPolicy(yaml, "p.yaml").warnings).toEqual([{ code: "never-deletes", message, file: "p.yaml", line: 5, col, severity: "warning" }]);
    // It selects files, and deletes none of them.
    const { matched, decided } = tally(yaml);
    expect(decided.files).toBe(0);
    if (minAge !== undefined) expect(matched.files).toBeGreaterThan(0);
  });

  it.each([
    { minAge: "2d", selectors: "kind: temp, newer-than: 6d" },
    { minAge: "2d", selectors: "kind: temp, older-than: 1d" },
  ])("no warning for min-age $minAge with $selectors, which deletes files", ({ minAge, selectors }) => {
    const yaml = withGuard(minAge, selectors);
    expect(loadPolicy(yaml, "p.yaml").warnings).toEqual([]);
    expect(tally(yaml).decided.files).toBeGreaterThan(0);
  });

  it("keep rules are not overruled by it: a keep rule for young files is no warning", () => {
    expect(loadPolicy(`version: 1\nguards: { min-age: 2d }\nrules:\n  - name: r\n    keep: { newer-than: 1d }\n`, "p.yaml").warnings).toEqual([]);
  });
});

describe("a glob with an unclosed '[' is said where it is written", () => {
  it.each([
    { glob: "gcc-[0-9*", at: 4, literal: "gcc-[0-9x" },
    { glob: "linux-yocto[", at: 11, literal: "linux-yocto[" },
    { glob: "[]a", at: 0, literal: "[]a" },
    { glob: "[!]", at: 0, literal: "[!]" },
    { glob: "x[a\\]", at: 1, literal: "x[a]" },
    { glob: "a[b]c[d", at: 5, literal: "abc[d" },
    { glob: "gcc-[0-9]*", at: undefined },
    { glob: "[]a]", at: undefined },
    { glob: "[!]a]*", at: undefined },
    { glob: "[[:alpha:]]*", at: undefined },
    { glob: "a\\[b", at: undefined },
    { glob: "gcc-*", at: undefined },
  ])("$glob", ({ glob, at, literal }) => {
    expect(unclosedBracket(glob)).toBe(at);
    // What the warning says is what minimatch does: that '[' matches itself.
    if (literal !== undefined) expect(new Minimatch(glob, { dot: true, nonegate: true, nocomment: true }).match(literal)).toBe(true);
  });

  it("at the glob in a list, counting a leading '!', for pn, arch, task, pv and path alike", () => {
    const { diagnostics, warnings } = loadPolicy(policyWith("pn: [busybox, '!gcc-[0-9*'], arch: 'core2-[64', older-than: 1d"), "p.yaml");
    expect(diagnostics).toEqual([]);
    expect(warnings.map(formatDiagnostic)).toEqual([
      "p.yaml:4:29: warning: rule 'r': pn: '!gcc-[0-9*': the '[' at character 6 is never closed, so it matches a literal '[', not one of a set of characters",
      "p.yaml:4:50: warning: rule 'r': arch: 'core2-[64': the '[' at character 7 is never closed, so it matches a literal '[', not one of a set of characters",
    ]);
    for (const selector of ["task", "pv", "path"]) expect(loadPolicy(policyWith(`${selector}: 'x['`), "p.yaml").warnings.map((w) => w.code)).toEqual(["unclosed-bracket"]);
  });
});

describe("stamps and manifests that name no hash", () => {
  it("are said at their place in the policy; the stamps that do name hashes are still read", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/policies/names-no-hash.yaml", import.meta.url));
    const { policy, evidence, diagnostics, warnings } = await readPolicyFile(fixture, process.cwd());
    expect(diagnostics).toEqual([]);
    expect(policy).toBeDefined();
    expect(warnings.map((w) => ({ code: w.code, line: w.line, col: w.col, message: w.message }))).toEqual([
      { code: "names-no-hash", line: 5, col: 16, message: "stamps directory '../stamps-plain-only' names no hash: rule 'last-build' keeps nothing by it" },
      { code: "names-no-hash", line: 6, col: 15, message: "hashes manifest '../manifests/comments-only.hashes' names no hash: rule 'last-build' keeps nothing by it" },
    ]);
    // ../stamps names five hashes (sigdata and setscene stamps, work-shared included).
    expect(evidence!.get("last-build")!.size).toBeGreaterThan(0);
  });
});

const MATCHES_NOTHING = `version: 1
guards: { min-age: 1h, max-delete-percent: 100 }
rules:
  - name: keep-images
    keep: { pn: 'core-image-*' }
  - name: expire-archives
    delete: { kind: archive, older-than: 30d }
  - name: drop-leftovers
    delete: { kind: temp }
`;
const FILES: TestFile[] = [
  { path: sstatePath({ pn: "busybox", arch: "core2-64", task: "populate_sysroot", seed: 1 }), age: 40 * DAY },
  { path: sstatePath({ pn: "busybox", arch: "core2-64", task: "populate_sysroot", ext: ".tar.zst.siginfo", seed: 1 }), age: 40 * DAY },
  { path: sstatePath({ pn: "glibc", arch: "core2-64", task: "package", seed: 2 }), age: 2 * DAY },
];

function planned(warnings?: Diagnostic[]): PlanFile {
  const policy = policyFrom(MATCHES_NOTHING, "policy.yaml");
  const evaluation = evaluate({ listing: listingFrom(FILES), policy, now: NOW, referencedHashes: new Map() });
  return buildPlan(evaluation, {
    tool: { name: "sstate-keeper", version: "test" },
    createdAt: new Date(NOW),
    now: new Date(NOW),
    validForMs: DAY,
    target: "s3://yocto-sstate/ci",
    policy: { path: "policy.yaml", sha256: policy.sha256 },
    listing: { files: FILES.length, bytes: 300, sha256: "0".repeat(64) },
    ...(warnings ? { warnings } : {}),
  });
}

describe("a rule that matched nothing in this plan", () => {
  const policy = policyFrom(MATCHES_NOTHING, "policy.yaml");
  const evaluation = evaluate({ listing: listingFrom(FILES), policy, now: NOW, referencedHashes: new Map() });
  const warnings = unmatchedRules(policy, evaluation);

  it("is said at the rule, from the evaluation's tallies", () => {
    expect(warnings.map(formatDiagnostic)).toEqual([
      "policy.yaml:4:5: warning: rule 'keep-images' matched none of the 3 listed files",
      "policy.yaml:8:5: warning: rule 'drop-leftovers' matched none of the 3 listed files",
    ]);
  });

  it("is not said of a budget rule on a cache already within its budget, and is when its selectors leave it nothing to take", () => {
    const budgetPolicy = (selectors: string) => policyFrom(`version: 1\nrules:\n  - name: fit\n    delete: { ${selectors} }\n`, "policy.yaml");
    const unmatched = (selectors: string) => {
      const policy = budgetPolicy(selectors);
      return unmatchedRules(policy, evaluate({ listing: listingFrom(FILES), policy, now: NOW, referencedHashes: new Map() })).map(formatDiagnostic);
    };
    expect(unmatched("over-budget: 1TiB")).toEqual([]);
    expect(unmatched("over-budget: 1B, pn: 'no-such-*'")).toEqual(["policy.yaml:3:5: warning: rule 'fit' matched none of the 3 listed files"]);
  });

  it("is recorded in the plan's summary, covered by its digest, and the plan is read back as format 2", () => {
    const plan = planned(warnings);
    const text = serializePlan(plan);
    expect(parsePlan(text, "plan.json").summary.warnings).toEqual(warnings);
    expect(() => parsePlan(text.replace("matched none of the 3", "matched none of the 4"), "plan.json")).toThrow(PlanFileError);
    // Optional: readers of format 2 that predate it accept a summary with more fields, and a plan without warnings has none.
    const summary = (planSchema().properties as Record<string, { required: string[]; additionalProperties?: boolean }>).summary!;
    expect(summary.required).not.toContain("warnings");
    expect(summary.additionalProperties).toBeUndefined();
    expect(serializePlan(planned())).not.toContain('"warnings"');
  });
});

describe("the markdown plan's warnings", () => {
  const tokensOf = (markdown: string): Token[] => new Lexer({ gfm: true }).lex(markdown);
  const headings = (tokens: Token[]) => tokens.filter((t): t is Tokens.Heading => t.type === "heading").map((t) => t.text);
  /** A list item's text as a reader sees it: escapes undone, code spans kept as code. */
  const rendered = (item: Tokens.ListItem) =>
    ((item.tokens[0] as Tokens.Text).tokens ?? []).map((t) => (t.type === "codespan" ? `\`${(t as Tokens.Codespan).text}\`` : (t as Tokens.Text).text)).join("");

  it("come right under the totals, before the rules, each at its place, the glob shown as written", () => {
    const glob = loadPolicy(policyWith("pn: '*gcc-[0-9*_x'"), "policy.yaml").warnings;
    const plan = planned([...glob, { code: "matched-nothing", message: "rule 'keep-images' matched none of the 3 listed files", file: "policy.yaml", line: 4, col: 5, severity: "warning" }]);
    const tokens = tokensOf(renderMarkdown(plan));
    expect(headings(tokens).slice(0, 3)).toEqual(["sstate-keeper plan for `s3://yocto-sstate/ci`", "⚠️ Warnings (2)", "Rules"]);
    const list = tokens.find((t): t is Tokens.List => t.type === "list")!;
    expect(list.items.map(rendered)).toEqual([
      "`policy.yaml:4:19` rule 'r': pn: '*gcc-[0-9*_x': the '[' at character 6 is never closed, so it matches a literal '[', not one of a set of characters",
      "`policy.yaml:4:5` rule 'keep-images' matched none of the 3 listed files",
    ]);
    // Escaped, the glob's '*' and '_' are no emphasis: the rendered text is the message.
    const inline = (list.items[0]!.tokens[0] as Tokens.Text).tokens!;
    expect(inline.filter((t) => t.type === "em" || t.type === "strong" || t.type === "link")).toEqual([]);
  });

  it("are none without warnings, and at most 20 with the rest counted, within the budget", () => {
    expect(headings(tokensOf(renderMarkdown(planned())))).not.toContain("⚠️ Warnings (0)");
    expect(renderMarkdown(planned())).not.toContain("Warnings");
    const many = Array.from(
      { length: 45 },
      (_, i): Diagnostic => ({ code: "matched-nothing", message: `rule 'r${i}' matched none of the 3 listed files`, file: "policy.yaml", line: i + 1, col: 5, severity: "warning" }),
    );
    const markdown = renderMarkdown(planned(many), { maxChars: 6_000 });
    expect(markdown.length).toBeLessThanOrEqual(6_000);
    const list = tokensOf(markdown).find((t): t is Tokens.List => t.type === "list")!;
    expect(list.items).toHaveLength(20);
    expect(markdown).toContain("… and 25 more warnings in plan.json");
  });
});
