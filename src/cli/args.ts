import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "./io.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with messages that say which command and what to do. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${command}: ${(error as Error).message.split("\n")[0]}\nusage: ${usage}`);
  }
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`--${flag} ${value}: expected one of ${allowed.join(", ")}`);
  return value as T;
}
