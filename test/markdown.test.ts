// The plan as a pull-request comment, rendered with a real GitHub-flavoured markdown parser:
// it must fit a GitHub comment, say what a reviewer needs first, and stay readable.
import { Lexer, type Token, type Tokens } from "marked";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { buildPlan, type PlanFile } from "../src/plan/plan-file.ts";
import { evaluate } from "../src/plan/planner.ts";
import { DEFAULT_MAX_CHARS, renderMarkdown } from "../src/plan/render/markdown.ts";
import { ListingBuilder } from "../src/sstate/listing.ts";
import { policyFrom } from "./support/listing.ts";

const GITHUB_COMMENT_LIMIT = 65_536;
/** A cell wider than this makes a reviewer scroll sideways (paths are ~150 characters). */
const READABLE_CELL = 60;

function planOf(files: number, policyFile = "example.yaml"): PlanFile {
  const builder = new ListingBuilder();
  builder.add([...generateCache({ files, now: DEMO_NOW })]);
  const listing = builder.finish();
  const policy = policyFrom(readFileSync(new URL(`../policies/${policyFile}`, import.meta.url), "utf8"), `policies/${policyFile}`);
  const evaluation = evaluate({ listing, policy, now: DEMO_NOW, referencedHashes: new Map() });
  return buildPlan(evaluation, {
    tool: { name: "sstate-keeper", version: "test" },
    createdAt: new Date(DEMO_NOW),
    now: new Date(DEMO_NOW),
    validForMs: 86_400_000,
    target: "s3://yocto-sstate/ci",
    policy: { path: `policies/${policyFile}`, sha256: policy.sha256 },
    listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
  });
}

/** Every token, with the tables inside a <details> block (raw HTML in GFM) parsed as markdown too. */
function tokensOf(markdown: string): Token[] {
  return new Lexer({ gfm: true }).lex(markdown);
}

function tables(tokens: Token[]): Tokens.Table[] {
  return tokens.filter((token): token is Tokens.Table => token.type === "table");
}

const headerOf = (t: Tokens.Table) => t.header.map((h) => h.text);
const column = (t: Tokens.Table, index: number) => t.rows.map((r) => r[index]!.text);

describe("the markdown plan", () => {
  const plan = planOf(60_000);
  const markdown = renderMarkdown(plan);
  const tokens = tokensOf(markdown);
  const all = tables(tokens);

  it("fits a GitHub comment on a 60k-file cache, however many files it deletes", () => {
    expect(plan.delete.length).toBeGreaterThan(2_000);
    expect(markdown.length).toBeLessThanOrEqual(DEFAULT_MAX_CHARS);
    expect(DEFAULT_MAX_CHARS).toBeLessThan(GITHUB_COMMENT_LIMIT);
  });

  it("opens with the target, the digest and the expiry", () => {
    expect(tokens[0]).toMatchObject({ type: "heading", depth: 3, text: "sstate-keeper plan for `s3://yocto-sstate/ci`" });
    const intro = tokens.find((token) => token.type === "paragraph")!;
    expect(intro.raw).toContain(plan.integrity);
    expect(intro.raw).toContain(`expires ${plan.expiresAt}`);
  });

  it("names every deciding rule, the kept side by reason and the guards, before any file", () => {
    const rules = all.find((t) => headerOf(t)[0] === "rule")!;
    expect(column(rules, 0)).toEqual(plan.summary.byRule.map((r) => `\`${r.rule}\``));
    const kept = all.find((t) => headerOf(t)[0] === "reason")!;
    expect(column(kept, 0).some((text) => text.startsWith("`@default`"))).toBe(true);
    expect(column(kept, 0).some((text) => text.startsWith("`@min-age`"))).toBe(true);
    expect(column(kept, 0)).toContain("`keep-newest`");
    expect(column(all.find((t) => headerOf(t)[0] === "guard")!, 0)).toEqual(plan.guards.map((g) => g.name));
    for (const header of [["kind", "files", "bytes"], ["arch", "files", "bytes"], ["top recipes by bytes freed", "files", "bytes"]]) {
      expect(all.map(headerOf)).toContainEqual(header);
    }
    const firstFileTable = all.findIndex((t) => headerOf(t)[0] === "recipe");
    expect(firstFileTable).toBe(all.length - 1);
  });

  it("lists files as readable rows (recipe, task, short hash), and says how many more are in plan.json", () => {
    const files = all.at(-1)!;
    expect(headerOf(files)).toEqual(["recipe", "task", "arch", "hash", "file", "size", "age", "decided by"]);
    expect(files.rows.length).toBeGreaterThan(100);
    for (const cells of files.rows) for (const cell of cells) expect(cell.text.length, cell.text).toBeLessThanOrEqual(READABLE_CELL);
    expect(column(files, 3).every((hash) => /^`[0-9a-f]{8}`$/.test(hash))).toBe(true);
    const deciders = new Set([...plan.delete].map((file) => file.decidedBy));
    for (const decider of column(files, 7)) expect([...deciders].some((name) => decider.startsWith(name))).toBe(true);
    expect(markdown).toContain(`… and ${(plan.delete.length - files.rows.length).toLocaleString("en-US")} more in plan.json`);
  });

  it("never exceeds a smaller budget either, keeping the whole summary", () => {
    const small = renderMarkdown(plan, { maxChars: 8_000 });
    expect(small.length).toBeLessThanOrEqual(8_000);
    expect(small).toContain(plan.integrity);
    expect(tables(tokensOf(small)).some((t) => headerOf(t)[0] === "reason")).toBe(true);
  });
});
