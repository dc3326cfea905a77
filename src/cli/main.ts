import { Redactor } from "../util/secrets.ts";
import { TOOL } from "../util/version.ts";
import { type Command, helpOf, parseCommandLine, wantsHelp } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { exitCodeOf } from "./errors.ts";
import { EXIT, type Io, redactingIo } from "./io.ts";

const byName = new Map(COMMANDS.map((command) => [command.name, command]));
const width = Math.max(...COMMANDS.map((command) => command.name.length));

const HELP = `${TOOL.name} ${TOOL.version}: declarative retention policies for Yocto / OE / Isar sstate caches

usage: sstate-keeper COMMAND [options]

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

'sstate-keeper help COMMAND' (or COMMAND --help) lists the command's options.

exit codes: 0 ok, 1 runtime failure, 2 invalid input, 3 refused (guard, stale plan, another apply running),
  4 finished, some files skipped because they changed since planning, 5 finished, some deletions or uploads failed
`;

/** The whole CLI as a function, so tests call it directly; `src/cli.ts` is only a shim. */
export async function run(argv: string[], outside: Io): Promise<number> {
  const io = redactingIo(outside, Redactor.fromEnv(outside.env));
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    io.stdout(HELP);
    return name === undefined ? EXIT.invalidInput : EXIT.ok;
  }
  if (name === "--version" || name === "version") {
    io.stdout(`${TOOL.version}\n`);
    return EXIT.ok;
  }
  const helpFor = name === "help" ? rest[0]! : undefined;
  const command = byName.get(helpFor ?? name);
  if (!command) {
    io.stderr(`unknown command '${helpFor ?? name}'\n\n${HELP}`);
    return EXIT.invalidInput;
  }
  if (helpFor !== undefined || wantsHelp(rest)) {
    io.stdout(helpOf(command));
    return EXIT.ok;
  }
  try {
    return await (command as Command).run(parseCommandLine(command, rest, io), io);
  } catch (error) {
    const code = exitCodeOf(error);
    if (code !== undefined) {
      io.stderr(`${(error as Error).message}\n`);
      return code;
    }
    io.stderr(`internal error: ${(error as Error).stack ?? String(error)}\nThis is a bug in ${TOOL.name}; please report it with the command you ran.\n`);
    return EXIT.runtime;
  }
}
