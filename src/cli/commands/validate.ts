import { readPolicyFile } from "../../evidence/policy-file.ts";
import { byPosition } from "../../policy/diagnostics.ts";
import { command } from "../command.ts";
import { EXIT } from "../io.ts";
import { formatDiagnostics } from "../views/diagnostics.ts";

export const validateCommand = command({
  name: "validate",
  summary: "check policies; print every problem with line:col",
  description:
    "Every problem of each file is printed as file:line:col: message, the stamps directories and manifests it names included. Exit 2 if there is any. Warnings (file:line:col: warning: …: a rule that can never match, a stamps directory naming no hash, an unclosed '[' in a glob) are printed too and leave the exit code alone.",
  operands: { usage: "POLICY…", min: 1, max: Infinity, wrongCount: "name at least one policy file" },
  options: {},
  async run({ operands }, io) {
    let problems = 0;
    for (const file of operands) {
      const { diagnostics, warnings, policy } = await readPolicyFile(file, io.cwd);
      if (diagnostics.length + warnings.length > 0) io.stderr(`${formatDiagnostics([...diagnostics, ...warnings].sort(byPosition))}\n`);
      problems += diagnostics.length;
      if (policy && diagnostics.length === 0) io.stdout(`${file}: ok (${policy.rules.length} rules${warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : ""})\n`);
    }
    return problems > 0 ? EXIT.invalidInput : EXIT.ok;
  },
});
