// The command table: every command's help is made from its declaration and lists every option
// with its line; parse errors say the command and show its usage; errors map to exit codes in
// one place.
import { describe, expect, it } from "vitest";
import { JournalError } from "../src/apply/journal.ts";
import { LockedError } from "../src/apply/lock.ts";
import { RecordError } from "../src/apply/run.ts";
import { PlanRejectedError } from "../src/apply/session.ts";
import { BackendError } from "../src/backends/backend.ts";
import { TargetError } from "../src/backends/index.ts";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { exitCodeOf } from "../src/cli/errors.ts";
import { UserError } from "../src/cli/io.ts";
import { run } from "../src/cli/main.ts";
import { DemoDirectoryError } from "../src/demo/run.ts";
import { PlanFileError } from "../src/plan/read-plan.ts";
import { testIo } from "./support/io.ts";

async function cli(...argv: string[]) {
  const io = testIo();
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

describe("help", () => {
  it("the top-level help lists every command with its summary and how to get its options", async () => {
    const { code, stdout } = await cli("help");
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command.name} +${command.summary.replace(/[()|+*?.[\]\\]/g, "\\$&")}$`, "m"));
    expect(stdout).toContain("'sstate-keeper help COMMAND' (or COMMAND --help) lists the command's options.");
    expect((await cli()).code).toBe(2);
  });

  it.each(COMMANDS.map((command) => ({ name: command.name, command })))("$name: help $name, $name --help and $name -h print the same, with every option and its line", async ({ name, command }) => {
    const outputs = await Promise.all([cli("help", name), cli(name, "--help"), cli(name, "-h")]);
    for (const output of outputs) {
      expect(output.code).toBe(0);
      expect(output.stdout).toBe(outputs[0]!.stdout);
    }
    const help = outputs[0]!.stdout;
    expect(help.split("\n")[0]).toMatch(new RegExp(`^usage: sstate-keeper ${name}( |$)`));
    for (const [option, spec] of Object.entries(command.options)) {
      const line = help.split("\n").find((l) => l.startsWith("  ") && l.includes(`--${option}${spec.placeholder ? ` ${spec.placeholder}` : ""} `));
      expect(line, `--${option}`).toBeDefined();
      expect(line).toContain(spec.help);
      if (spec.default !== undefined) expect(line).toContain(`default: ${spec.default}`);
      if (spec.short) expect(line).toContain(`-${spec.short}, --${option}`);
      expect(help.split("\n")[0]).toContain(`--${option}`);
    }
    expect(help).toMatch(/^ {2}-h, --help +print this help$/m);
  });

  it("help for a command that does not exist says so", async () => {
    const { code, stderr } = await cli("help", "frobnicate");
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });
});

describe("parse errors say the command and show its usage (exit 2)", () => {
  it.each([
    { argv: ["plan", "--bogus"], message: "plan: Unknown option '--bogus'" },
    { argv: ["plan"], message: "plan: --policy is required" },
    { argv: ["plan", "--policy", "p.yaml", "extra"], message: "plan: unexpected argument 'extra'" },
    { argv: ["plan", "--policy", "p.yaml", "--valid-for", "soon"], message: "plan: --valid-for 'soon' is not a duration" },
    { argv: ["apply"], message: "apply: name one plan file" },
    { argv: ["apply", "a.json", "b.json"], message: "apply: name one plan file" },
    { argv: ["apply", "a.json", "--expect-digest", "abc"], message: "apply: --expect-digest abc: expected the plan digest" },
    { argv: ["apply", "a.json", "--batch-size", "0"], message: "apply: --batch-size 0: expected a whole number from 1 to 1000" },
    { argv: ["show", "--format", "html", "x.json"], message: "show: --format html: expected one of text, markdown, json" },
    { argv: ["diff", "old.json"], message: "diff: name the old plan file and the new one" },
    { argv: ["why"], message: "why: name at least one file" },
    { argv: ["why", "x", "--format", "markdown"], message: "why: --format markdown: expected one of text, json" },
    { argv: ["info", "--top", "lots", "/srv"], message: "info: --top lots: expected a whole number of recipes" },
    { argv: ["upload", "a", "b", "--concurrency", "0"], message: "upload: --concurrency 0: expected a whole number from 1 to 1024" },
    { argv: ["upload", "a", "b", "--pn", "!"], message: "upload: --pn: '!' is an empty glob" },
    { argv: ["analyze", "a"], message: "analyze: name the local cache and the remote one" },
    { argv: ["demo", "extra"], message: "demo: unexpected argument 'extra'" },
    { argv: ["demo", "--files", "10"], message: "demo: --files 10: expected a whole number of at least 100" },
    { argv: ["stamps"], message: "stamps: name at least one stamps directory" },
    { argv: ["validate"], message: "validate: name at least one policy file" },
  ])("$argv", async ({ argv, message }) => {
    const { code, stdout, stderr } = await cli(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
    expect(stderr).toContain(`\nusage: sstate-keeper ${argv[0]} `);
  });

  it.each([
    { argv: ["why", "x"], message: "why: give --plan PLAN, or --policy P" },
    { argv: ["why", "x", "--plan", "p.json", "--policy", "q.yaml"], message: "why: --plan and --policy exclude each other" },
  ])("why needs exactly one source: $argv", async ({ argv, message }) => {
    const { code, stderr } = await cli(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});

describe("exit codes, mapped in one place", () => {
  it.each([
    { error: new UserError("bad flag"), code: 2 },
    { error: new UserError("refused", 3), code: 3 },
    { error: new PlanFileError("plan.json: not a plan file"), code: 2 },
    { error: new PlanRejectedError("plan.json", { kind: "tampered", message: "refused as tampered" }), code: 2 },
    { error: new PlanRejectedError("plan.json", { kind: "stale", message: "the plan expired" }), code: 3 },
    { error: new JournalError("plan.json.journal: damaged"), code: 2 },
    { error: new TargetError("unsupported target scheme"), code: 2 },
    { error: new DemoDirectoryError("demo --dir x: not a directory"), code: 2 },
    { error: new LockedError("another apply holds the journal"), code: 3 },
    { error: new BackendError("cannot reach S3 endpoint", { kind: "unavailable" }), code: 1 },
    { error: new RecordError("plan.json.journal", new Error("ENOSPC")), code: 1 },
    { error: new TypeError("x is undefined"), code: undefined },
  ])("$error.name: $code", ({ error, code }) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});
