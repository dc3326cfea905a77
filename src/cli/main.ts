import { BackendError } from "../backends/backend.ts";
import { PlanFileError } from "../plan/read-plan.ts";
import { TOOL } from "../util/version.ts";
import { analyzeCommand } from "./commands/analyze.ts";
import { applyCommand } from "./commands/apply.ts";
import { demoCommand } from "./commands/demo.ts";
import { infoCommand } from "./commands/info.ts";
import { planCommand } from "./commands/plan.ts";
import { showCommand } from "./commands/show.ts";
import { stampsCommand } from "./commands/stamps.ts";
import { uploadCommand } from "./commands/upload.ts";
import { validateCommand } from "./commands/validate.ts";
import { Redactor } from "../util/secrets.ts";
import { EXIT, redactingIo, UserError, type CommandIo, type Io } from "./io.ts";

type Command = (argv: string[], io: CommandIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  validate: { run: validateCommand, summary: "check policies; print every problem with line:col" },
  plan: { run: planCommand, summary: "list a cache, evaluate a policy, write a reviewable plan" },
  show: { run: showCommand, summary: "render a saved plan as text, markdown or json" },
  apply: { run: applyCommand, summary: "execute a reviewed plan exactly: checks every file first, journals, resumes" },
  info: { run: infoCommand, summary: "counts, bytes, ages and health of a cache (orphans, duplicates, siginfo-only tasks)" },
  upload: { run: uploadCommand, summary: "push a cache to another (local, S3, WebDAV), skipping what is there already" },
  analyze: { run: analyzeCommand, summary: "explain why local items are missing remotely: bitbake-diffsigs against the newest remote candidate" },
  stamps: { run: stampsCommand, summary: "print the unihashes a build's stamps name (a manifest for 'hashes:')" },
  demo: { run: demoCommand, summary: "generate a demo cache on local disk and plan policies/example.yaml for it" },
};

const HELP = `${TOOL.name} ${TOOL.version}: declarative retention policies for Yocto / OE / Isar sstate caches

usage: sstate-keeper COMMAND [options]

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join("\n")}

exit codes: 0 ok, 1 runtime failure, 2 invalid input, 3 refused (guard, stale plan, another apply running),
  4 finished, some files skipped because they changed since planning, 5 finished, some deletions or uploads failed
`;

/** The whole CLI as a function, so tests call it directly; `src/cli.ts` is only a shim. */
export async function run(argv: string[], outside: Io): Promise<number> {
  const io = redactingIo(outside, Redactor.fromEnv(outside.env));
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout(HELP);
    return name === undefined ? EXIT.invalidInput : EXIT.ok;
  }
  if (name === "--version" || name === "version") {
    io.stdout(`${TOOL.version}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`unknown command '${name}'\n\n${HELP}`);
    return EXIT.invalidInput;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${name}: ${command.summary}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UserError) {
      io.stderr(`${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof PlanFileError) {
      io.stderr(`${error.message}\n`);
      return EXIT.invalidInput;
    }
    if (error instanceof BackendError) {
      io.stderr(`${error.message}\n`);
      return EXIT.runtime;
    }
    io.stderr(`internal error: ${(error as Error).stack ?? String(error)}\nThis is a bug in ${TOOL.name}; please report it with the command you ran.\n`);
    return EXIT.runtime;
  }
}
