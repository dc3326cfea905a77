/**
 * Code-unit order of strings: the same on every runtime and locale (no localeCompare), and the
 * order the listing, the plan and the fs walk all rely on.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
