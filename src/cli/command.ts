/**
 * The command model: each command declares its name, what it does, its operands and options
 * (each with its one line of help and its default) and its run function. Parsing, `--help` and
 * usage lines are made from the declaration, so that help never lags behind the options.
 */
import { parseArgs } from "node:util";
import { type CommandIo, UserError } from "./io.ts";

type Given = string | boolean | string[] | undefined;

export interface OptionSpec<T = unknown> {
  /** A flag is present or not; a value follows the option; a list is a value that may repeat. */
  kind: "flag" | "value" | "list";
  short?: string;
  /** The value as usage and help show it, e.g. `ISO`. */
  placeholder?: string;
  help: string;
  /** The default as help shows it, when there is one worth saying. */
  default?: string;
  required?: boolean;
  /** The value the command uses, from what was given (undefined: not given); throws a UserError. */
  parse(given: Given, io: CommandIo): T;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues<O extends OptionSpecs> = { [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never };

export interface Operands {
  /** As usage shows them, e.g. `PLAN`, `SRC TARGET`, `PATH…`. */
  usage: string;
  min: number;
  max: number;
  /** What to say when their number is wrong, e.g. `name one plan file`. */
  wrongCount: string;
}

export interface Parsed<O extends OptionSpecs> {
  options: OptionValues<O>;
  operands: string[];
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line, for the list of commands. */
  summary: string;
  /** Paragraphs for `--help`, after the usage and the summary. */
  description?: string;
  operands?: Operands;
  options: O;
  run(parsed: Parsed<O>, io: CommandIo): Promise<number>;
}

/** Declares a command (the identity that lets TypeScript type `run`'s options from `options`). */
export function command<O extends OptionSpecs>(spec: Command<O>): Command<O> {
  return spec;
}

/** An option that is present or not. */
export function flag(help: string, options: { short?: string } = {}): OptionSpec<boolean> {
  return { kind: "flag", help, ...options, parse: (given) => given === true };
}

/** An option with a value, turned into what the command uses by `parse`. */
export function valueOption<T>(
  placeholder: string,
  help: string,
  parse: (text: string | undefined, io: CommandIo) => T,
  options: { short?: string; default?: string; required?: boolean } = {},
): OptionSpec<T> {
  return { kind: "value", placeholder, help, ...options, parse: (given, io) => parse(given as string | undefined, io) };
}

/** An option with a value, as given. */
export function textOption(placeholder: string, help: string, options: { short?: string; default?: string; required?: boolean } = {}): OptionSpec<string | undefined> {
  return valueOption(placeholder, help, (text) => text, options);
}

/** An option that must be given. */
export function requiredOption(placeholder: string, help: string, options: { short?: string } = {}): OptionSpec<string> {
  return valueOption(placeholder, help, (text) => text!, { ...options, required: true });
}

/** A value that may be given several times; `parse` gets every one. */
export function listOption<T>(placeholder: string, help: string, parse: (texts: string[]) => T): OptionSpec<T> {
  return { kind: "list", placeholder, help, parse: (given) => parse((given as string[] | undefined) ?? []) };
}

const HELP_OPTION: OptionSpec<boolean> = flag("print this help", { short: "h" });

/** `sstate-keeper plan --policy P [--target URL] …` */
function usageOf(spec: Command): string {
  const parts = [`sstate-keeper ${spec.name}`];
  if (spec.operands) parts.push(spec.operands.usage);
  for (const [name, option] of Object.entries(spec.options)) {
    const text = `--${name}${option.placeholder ? ` ${option.placeholder}` : ""}`;
    parts.push(option.required ? text : `[${text}]${option.kind === "list" ? "…" : ""}`);
  }
  return parts.join(" ");
}

/** The whole help of a command: usage, summary, description, and every option with its line. */
export function helpOf(spec: Command): string {
  const rows = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, option]) => {
    const flags = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.placeholder ? ` ${option.placeholder}` : ""}`;
    const notes = [option.required ? "required" : undefined, option.kind === "list" ? "repeatable" : undefined, option.default !== undefined ? `default: ${option.default}` : undefined].filter(
      Boolean,
    );
    return [flags, `${option.help}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`] as const;
  });
  const width = Math.max(...rows.map(([flags]) => flags.length));
  return [
    `usage: ${usageOf(spec)}`,
    "",
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    ...(spec.description ? ["", spec.description.trim()] : []),
    "",
    "options:",
    ...rows.map(([flags, help]) => `  ${flags.padEnd(width)}  ${help}`),
    "",
  ].join("\n");
}

/** Whether the arguments ask for the command's help rather than for its work. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

/** The arguments as the command's options and operands; every problem says the command and shows its usage. */
export function parseCommandLine<O extends OptionSpecs>(spec: Command<O>, argv: string[], io: CommandIo): Parsed<O> {
  const problem = (message: string) => new UserError(`${spec.name}: ${message}\nusage: ${usageOf(spec)}`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(spec.options).map((
          [name, option],
        ) => [name, { type: option.kind === "flag" ? "boolean" : "string", ...(option.short ? { short: option.short } : {}), ...(option.kind === "list" ? { multiple: true } : {}) }]),
      ) as NonNullable<Parameters<typeof parseArgs>[0]>["options"],
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw problem((error as Error).message.split("\n")[0]!);
  }
  const operands = parsed.positionals;
  const { min, max, wrongCount } = spec.operands ?? { min: 0, max: 0, wrongCount: "" };
  if (max === 0 && operands.length > 0) throw problem(`unexpected argument '${operands[0]}'`);
  if (operands.length < min || operands.length > max) throw problem(wrongCount);
  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const given = parsed.values[name] as Given;
    if (option.required && given === undefined) throw problem(`--${name} is required`);
    try {
      values[name] = option.parse(given, io);
    } catch (error) {
      if (error instanceof UserError) throw problem(error.message);
      throw error;
    }
  }
  return { options: values as OptionValues<O>, operands };
}
