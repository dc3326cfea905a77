import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { testIo } from "./support/io.ts";

const example = fileURLToPath(new URL("../policies/example.yaml", import.meta.url));
const MARKER = ".sstate-keeper-demo.json";
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keeper-before-work-"));
  await writeFile(join(work, "a-file"), "x");
  await mkdir(join(work, "a-directory"));
});

async function cli(...argv: string[]) {
  const io = testIo({ cwd: work });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

describe("plan --out is checked before anything is listed", () => {
  // The target does not exist: had plan listed it first, it would have failed with exit 1 on that.
  it.each([
    { out: "missing/dir/p.json", message: `--out missing/dir/p.json: the directory ${join("{WORK}", "missing/dir")} does not exist; nothing was done` },
    { out: "a-file/p.json", message: `--out a-file/p.json: ${join("{WORK}", "a-file")} is not a directory; nothing was done` },
    { out: "a-directory", message: `--out a-directory: ${join("{WORK}", "a-directory")} is a directory; nothing was done` },
  ])("--out $out", async ({ out, message }) => {
    const { code, stdout, stderr } = await cli("plan", "--policy", example, "--target", join(work, "no-such-cache"), "--out", out);
    expect(code).toBe(2);
    expect(stderr).toBe(`${message.replace("{WORK}", work)}\n`);
    expect(stdout).toBe("");
  });
});

describe("demo --dir writes only into a missing, empty or its own directory", () => {
  it("refuses a foreign non-empty directory and touches nothing in it", async () => {
    const dir = join(work, "precious");
    await mkdir(dir);
    await writeFile(join(dir, "precious.txt"), "precious\n");
    const { code, stderr, stdout } = await cli("demo", "--dir", dir, "--files", "100");
    expect(code).toBe(2);
    expect(stderr).toBe(`demo --dir ${dir}: it holds files and is not a demo cache (no ${MARKER}); nothing was touched. Name a new or empty directory\n`);
    expect(stdout).toBe("");
    expect(await readdir(dir)).toEqual(["precious.txt"]);
    expect(await readFile(join(dir, "precious.txt"), "utf8")).toBe("precious\n");
  });

  it("refuses a file", async () => {
    const { code, stderr } = await cli("demo", "--dir", join(work, "a-file"), "--files", "100");
    expect(code).toBe(2);
    expect(stderr).toContain("it is not a directory; nothing was touched");
    expect(await readFile(join(work, "a-file"), "utf8")).toBe("x");
  });

  it("fills a missing or an empty directory, and replaces its own cache when asked for another size", async () => {
    for (const dir of [join(work, "new-demo"), join(work, "empty-demo")]) {
      if (dir.endsWith("empty-demo")) await mkdir(dir);
      const first = await cli("demo", "--dir", dir, "--files", "100", "--format", "json");
      expect(first.stderr).toContain(`demo cache: 100 sparse files in ${dir}`);
      expect(first.code).toBe(0);
      expect(JSON.parse(await readFile(join(dir, MARKER), "utf8"))).toMatchObject({ files: 100 });
    }
    const dir = join(work, "new-demo");
    const again = await cli("demo", "--dir", dir, "--files", "100");
    expect(again.stderr).not.toContain("demo cache:");
    expect(again.code).toBe(0);
    const larger = await cli("demo", "--dir", dir, "--files", "200");
    expect(larger.stderr).toContain(`demo cache: 200 sparse files in ${dir}`);
    expect(larger.code).toBe(0);
  });

  it("a demo directory left incomplete by a killed demo is its own and is replaced", async () => {
    const dir = join(work, "killed-demo");
    await mkdir(join(dir, "00"), { recursive: true });
    await writeFile(join(dir, MARKER), '{"incomplete":true}\n');
    await writeFile(join(dir, "00", "partial"), "");
    const { code, stderr } = await cli("demo", "--dir", dir, "--files", "100");
    expect(stderr).toContain(`demo cache: 100 sparse files in ${dir}`);
    expect(code).toBe(0);
    expect(await readdir(join(dir, "00")).catch(() => [])).not.toContain("partial");
  });
});
