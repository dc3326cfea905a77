import { parseCommandArgs } from "../args.ts";
import { EXIT, UserError, type CommandIo } from "../io.ts";
import { checkPolicy, formatDiagnostics } from "../policy-input.ts";

const USAGE = "sstate-keeper validate POLICY…";

export async function validateCommand(argv: string[], io: CommandIo): Promise<number> {
  const { positionals } = parseCommandArgs("validate", argv, {}, USAGE);
  if (positionals.length === 0) throw new UserError(`validate: name at least one policy file\nusage: ${USAGE}`);
  let problems = 0;
  for (const file of positionals) {
    const { diagnostics, policy } = await checkPolicy(io, file);
    if (diagnostics.length > 0) io.stderr(`${formatDiagnostics(diagnostics)}\n`);
    problems += diagnostics.length;
    if (policy && diagnostics.length === 0) io.stdout(`${file}: ok (${policy.rules.length} rules)\n`);
  }
  return problems > 0 ? EXIT.invalidInput : EXIT.ok;
}
