/**
 * Problems are values: loaders return them, only the CLI renders them. An error makes the input
 * unusable (exit 2); a warning (`severity: "warning"`) is said and changes nothing else.
 */
export interface Diagnostic {
  code: string;
  message: string;
  file: string;
  line: number;
  col: number;
  hint?: string;
  /** Absent for errors. */
  severity?: "warning";
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === "warning" ? "warning: " : ""}${d.message}${d.hint ? ` (${d.hint})` : ""}`;
}

export function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}

/** Text from the input as quoted in a message: a long one is cut, so a message stays one readable line. */
export function excerpt(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A value from the input as JSON in a message, cut like `excerpt`. */
export function shown(value: unknown): string {
  return excerpt(JSON.stringify(value) ?? String(value));
}
