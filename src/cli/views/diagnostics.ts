import { type Diagnostic, formatDiagnostic } from "../../policy/diagnostics.ts";
import type { Io } from "../io.ts";

/** Problems printed for one file; a hostile file could hold thousands, and the first ones say what is wrong. */
const SHOWN_DIAGNOSTICS = 50;

/** The problems of one file as lines, the first SHOWN_DIAGNOSTICS of them and a count of the rest. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const shown = diagnostics.slice(0, SHOWN_DIAGNOSTICS).map(formatDiagnostic);
  if (diagnostics.length > SHOWN_DIAGNOSTICS) shown.push(`… and ${diagnostics.length - SHOWN_DIAGNOSTICS} more problems in ${diagnostics[0]!.file}`);
  return shown.join("\n");
}

/** Warnings go to stderr whatever the format, so that a JSON rendering on stdout stays JSON. */
export function writeWarnings(io: Io, warnings: readonly Diagnostic[]): void {
  if (warnings.length > 0) io.stderr(`${formatDiagnostics(warnings)}\n`);
}
