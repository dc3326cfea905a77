/** Problems are values: loaders return them, only the CLI renders them. */
export interface Diagnostic {
  code: string;
  message: string;
  file: string;
  line: number;
  col: number;
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`;
}

export function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}
