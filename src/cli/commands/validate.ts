import { readPolicyFile } from "../../evidence/policy-file.ts";
import { command } from "../command.ts";
import { EXIT } from "../io.ts";
import { formatDiagnostics } from "../views/diagnostics.ts";

export const validateCommand = command({
  name: "validate",
  summary: "check policies; print every problem with line:col",
  description: "Every problem of each file is printed as file:line:col: message, the stamps directories and manifests it names included. Exit 2 if there is any.",
  operands: { usage: "POLICY…", min: 1, max: Infinity, wrongCount: "name at least one policy file" },
  options: {},
  async run({ operands }, io) {
    let problems = 0;
    for (const file of operands) {
      const { diagnostics, policy } = await readPolicyFile(file, io.cwd);
      if (diagnostics.length > 0) io.stderr(`${formatDiagnostics(diagnostics)}\n`);
      problems += diagnostics.length;
      if (policy && diagnostics.length === 0) io.stdout(`${file}: ok (${policy.rules.length} rules)\n`);
    }
    return problems > 0 ? EXIT.invalidInput : EXIT.ok;
  },
});
