import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_NOW, generateCache } from "../../demo/generate.ts";
import { writeCache } from "../../demo/write.ts";
import { parseCommandArgs } from "../args.ts";
import { progressLine, UserError, type CommandIo } from "../io.ts";
import { planCommand } from "./plan.ts";

const USAGE = "sstate-keeper demo [--dir .demo-cache] [--files 5000] [--format text|markdown|json]";
const MARKER = ".sstate-keeper-demo.json";
type DirectoryState = "missing" | "empty" | "demo" | "foreign" | "not-a-directory";
/** Why a --dir is never written to: the demo replaces only what it made. */
const REFUSED: Partial<Record<DirectoryState, string>> = {
  foreign: `it holds files and is not a demo cache (no ${MARKER})`,
  "not-a-directory": "it is not a directory",
};
/** The example policy ships next to src/ and dist/ alike. */
const EXAMPLE_POLICY = fileURLToPath(new URL("../../../policies/example.yaml", import.meta.url));

/** Builds (once) a realistic cache with the project's deterministic generator and plans the example policy for it. */
export async function demoCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "demo",
    argv,
    { dir: { type: "string" }, files: { type: "string" }, format: { type: "string", short: "f" } },
    USAGE,
  );
  if (positionals.length > 0) throw new UserError(`demo: unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  const files = Number(values.files ?? "5000");
  if (!Number.isInteger(files) || files < 100) throw new UserError(`--files ${values.files}: expected a whole number of at least 100`);
  const dir = resolve(io.cwd, values.dir ?? ".demo-cache");
  const wanted = JSON.stringify({ files, now: DEMO_NOW });
  const existing = await readFile(join(dir, MARKER), "utf8").catch(() => undefined);
  if (existing?.trim() !== wanted) {
    const state = await directoryState(dir);
    const refused = REFUSED[state];
    if (refused) throw new UserError(`demo --dir ${dir}: ${refused}; nothing was touched. Name a new or empty directory`);
    if (state === "demo") await rm(dir, { recursive: true });
    // Marked before the first file: a demo killed while writing leaves a directory the next demo may replace.
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, MARKER), `${JSON.stringify({ incomplete: true })}\n`);
    const progress = progressLine(io);
    const written = await writeCache(dir, generateCache({ files, now: DEMO_NOW }), { onProgress: (n) => progress.update(`writing demo cache: ${n} files`) });
    progress.done();
    await writeFile(join(dir, MARKER), `${wanted}\n`);
    io.stderr(`demo cache: ${written.files} sparse files in ${dir} (mtimes relative to ${new Date(DEMO_NOW).toISOString()})\n\n`);
  }
  return planCommand(
    ["--policy", relative(io.cwd, EXAMPLE_POLICY) || EXAMPLE_POLICY, "--target", dir, "--now", new Date(DEMO_NOW).toISOString(), ...(values.format ? ["--format", values.format] : [])],
    io,
  );
}

/** Whether `dir` may become the demo cache: missing, empty, or marked as one (only those are ever written or removed). */
async function directoryState(dir: string): Promise<DirectoryState> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new UserError(`demo --dir ${dir}: ${error.message}`);
  });
  if (info === undefined) return "missing";
  if (!info.isDirectory()) return "not-a-directory";
  if ((await readdir(dir)).length === 0) return "empty";
  const marker = await lstat(join(dir, MARKER)).catch(() => undefined);
  return marker?.isFile() ? "demo" : "foreign";
}
