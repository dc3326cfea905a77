import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { parsePlan } from "../src/plan/read-plan.ts";
import { writeFileAtomically } from "../src/util/atomic-file.ts";
import { DEMO_NOW_ISO, generatedCache } from "./support/cache.ts";
import { testIo } from "./support/io.ts";
import { seededRandom } from "./support/random.ts";

const repo = fileURLToPath(new URL("..", import.meta.url));
const example = join(repo, "policies/example.yaml");
const KILLS = 10;
/** What a writing plan leaves beside plan.json while it writes (see writeFileAtomically). */
const TEMPORARY = /^\.plan\.json\.[0-9a-f]{8}\.tmp$/;

let cache: string;
let work: string;
const planArgs = () => ["plan", "--policy", example, "--target", cache, "--now", DEMO_NOW_ISO, "--explain", "--out", "plan.json"];

beforeAll(async () => {
  // --explain over 40,000 files: a plan of about 10 MB, long enough to write that kills land in the middle.
  ({ root: cache } = await generatedCache(40_000));
  work = join(cache, "..", `${cache.split("/").pop()}-work`);
  await mkdir(work);
});

const temporaries = async () => (await readdir(work)).filter((name) => TEMPORARY.test(name)).sort();

/** `plan --out plan.json` in a child process, SIGKILLed `delayMs` after its temporary file appears (or after the start, with `fromStart`). */
async function killedPlan(delayMs: number, fromStart: boolean): Promise<{ killedWhileWriting: boolean }> {
  const child = spawn(join(repo, "node_modules/.bin/deno"), ["run", "-A", join(repo, "src/cli.ts"), ...planArgs()], {
    cwd: work,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const before = new Set(readdirSync(work));
  const writing = () => readdirSync(work).some((name) => TEMPORARY.test(name) && !before.has(name));
  if (!fromStart) { while (child.exitCode === null && !writing()) await new Promise((resolve) => setTimeout(resolve, 1)); }
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const killedWhileWriting = writing();
  child.kill("SIGKILL");
  await exited;
  return { killedWhileWriting };
}

describe("plan --out replaces the previous plan atomically", () => {
  it("kill -9 at any moment leaves plan.json the previous plan or a complete new one", async () => {
    const random = seededRandom(20_261_121);
    const io = testIo({ cwd: work });
    expect(await run(planArgs(), io)).toBe(0);
    const previous = await readFile(join(work, "plan.json"), "utf8");
    expect(parsePlan(previous, "plan.json").keep!.length).toBeGreaterThan(10_000);

    let killedWhileWriting = 0;
    for (let i = 0; i < KILLS; i++) {
      // Most kills land while the file is written; every third one at a random moment of the whole run.
      const fromStart = i % 3 === 2;
      const delayMs = fromStart ? Math.floor(random() * 2500) : i * 4 + Math.floor(random() * 4);
      const result = await killedPlan(delayMs, fromStart);
      if (result.killedWhileWriting) killedWhileWriting++;
      const text = await readFile(join(work, "plan.json"), "utf8");
      const plan = parsePlan(text, "plan.json");
      expect(plan.delete.length).toBe(parsePlan(previous, "plan.json").delete.length);
    }
    // The property was tested where it matters: some kills hit a plan being written.
    expect(killedWhileWriting).toBeGreaterThan(0);

    const leftovers = await temporaries();
    const completed = testIo({ cwd: work });
    expect(await run(planArgs(), completed)).toBe(0);
    expect(await temporaries()).toEqual(leftovers);
    parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json");
  }, 120_000);

  it("a write that fails leaves the previous file and no temporary", async () => {
    const path = join(work, "fails.json");
    await writeFileAtomically(path, ["previous\n"]);
    async function* failing() {
      yield "partial";
      throw new Error("disk full");
    }
    await expect(writeFileAtomically(path, failing())).rejects.toThrow("disk full");
    expect(await readFile(path, "utf8")).toBe("previous\n");
    expect((await readdir(work)).filter((name) => name.startsWith(".fails.json."))).toEqual([]);
  });
});
