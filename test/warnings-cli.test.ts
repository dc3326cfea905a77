// The warnings end to end on a local cache: validate and plan print them on stderr (validate
// and plan still exit 0), the plan JSON and the markdown comment carry them, show repeats them.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { DEMO_NOW_ISO, generatedCache } from "./support/cache.ts";
import { testIo } from "./support/io.ts";

const POLICY = `version: 1
guards: { max-delete-percent: 100 }
rules:
  - name: last-build
    keep: { stamps: [stamps], hashes: release.hashes }
  - name: keep-images
    keep: { pn: 'core-image-[minimal' }
  - name: expire-archives
    delete: { kind: archive, older-than: 30d }
  - name: old-but-new
    delete: { older-than: 30d, newer-than: 10d }
`;
/** In file order: what reading the policy finds, then what planning finds. */
const LOAD_WARNINGS = [
  "policy.yaml:5:22: warning: stamps directory 'stamps' names no hash: rule 'last-build' keeps nothing by it (it holds no *.do_<task>.sigdata.<hash> or *.do_<task>_setscene.<hash> stamp: point at a build's tmp/stamps after a build)",
  "policy.yaml:5:39: warning: hashes manifest 'release.hashes' names no hash: rule 'last-build' keeps nothing by it (it is empty or holds only comments: one unihash or sstate file name per line)",
  "policy.yaml:7:17: warning: rule 'keep-images': pn: 'core-image-[minimal': the '[' at character 12 is never closed, so it matches a literal '[', not one of a set of characters",
  "policy.yaml:11:32: warning: rule 'old-but-new' can never match: 'older-than: 30d' and 'newer-than: 10d' exclude each other",
];
const planWarnings = (files: string) =>
  ["last-build", "keep-images", "old-but-new"].map((rule, index) => `policy.yaml:${[4, 6, 10][index]}:5: warning: rule '${rule}' matched none of the ${files} listed files`);

let work: string;
let cache: string;

async function cli(...argv: string[]) {
  const io = testIo({ cwd: work });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keeper-warnings-"));
  cache = (await generatedCache(400)).root;
  await mkdir(join(work, "stamps"));
  await writeFile(join(work, "release.hashes"), "# release 5.0.7\n");
  await writeFile(join(work, "policy.yaml"), POLICY);
});

describe("warnings", () => {
  it("validate prints them in file order and exits 0", async () => {
    const { code, stdout, stderr } = await cli("validate", "policy.yaml");
    expect(code).toBe(0);
    expect(stdout).toBe("policy.yaml: ok (4 rules, 4 warnings)\n");
    expect(stderr).toBe(`${LOAD_WARNINGS.join("\n")}\n`);
  });

  it("plan prints the policy's before listing and its own after, keeps stdout JSON, and records them all in the plan", async () => {
    const { code, stdout, stderr } = await cli("plan", "--policy", "policy.yaml", "--target", cache, "--now", DEMO_NOW_ISO, "--format", "json", "--out", "plan.json");
    expect(code).toBe(0);
    expect(stderr).toBe(`${[...LOAD_WARNINGS, ...planWarnings("400")].join("\n")}\n`);
    const plan = JSON.parse(stdout);
    expect(plan.delete.length).toBeGreaterThan(0);
    expect(plan.summary.warnings.map((w: { code: string; line: number }) => `${w.line} ${w.code}`)).toEqual([
      "4 matched-nothing",
      "5 names-no-hash",
      "5 names-no-hash",
      "6 matched-nothing",
      "7 unclosed-bracket",
      "10 matched-nothing",
      "11 never-matches",
    ]);
    expect(plan.summary.warnings.every((w: { file: string; severity: string }) => w.file === "policy.yaml" && w.severity === "warning")).toBe(true);
  });

  it("the markdown comment shows them under the totals; show repeats them on stderr", async () => {
    const markdown = await cli("plan", "--policy", "policy.yaml", "--target", cache, "--now", DEMO_NOW_ISO, "--format", "markdown");
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toContain("#### ⚠️ Warnings (7)\n\n- `policy.yaml:4:5` rule 'last-build' matched none of the 400 listed files\n");
    expect(markdown.stdout.indexOf("Warnings")).toBeLessThan(markdown.stdout.indexOf("#### Rules"));
    const shown = await cli("show", "plan.json");
    expect(shown.code).toBe(0);
    expect(shown.stderr.split("\n").filter(Boolean)).toHaveLength(7);
    expect(shown.stderr).toContain("policy.yaml:11:32: warning: rule 'old-but-new' can never match");
  });

  it("a policy with errors is refused with its warnings beside them (exit 2), nothing listed", async () => {
    await writeFile(join(work, "broken.yaml"), `${POLICY}  - name: bad\n    delete: { older-than: 30 }\n`);
    const { code, stderr } = await cli("plan", "--policy", "broken.yaml", "--target", join(work, "no-such-cache"));
    expect(code).toBe(2);
    expect(stderr).toContain("broken.yaml:11:32: warning: rule 'old-but-new' can never match");
    expect(stderr).toContain("broken.yaml:13:27: older-than: 30 is not valid");
  });
});
