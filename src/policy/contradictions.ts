import type { Admitted, Bound, NumberRange } from "./selectors/selector.ts";

/** What one selector of a rule admits, by the key it is written under. */
export interface Declared {
  key: string;
  admitted: Admitted;
}

/**
 * The keys of the selectors of one rule that together admit no file, if there are any: those
 * declaring one property, when what they admit of it has nothing in common. A rule's selectors
 * are a conjunction, so such a rule can never match.
 */
export function excludingEachOther(declared: readonly Declared[]): string[] | undefined {
  const byProperty = new Map<string, Declared[]>();
  for (const entry of declared) byProperty.set(entry.admitted.property, [...(byProperty.get(entry.admitted.property) ?? []), entry]);
  for (const entries of byProperty.values()) {
    const ranges = entries.flatMap(({ admitted }) => ("range" in admitted ? [admitted.range] : []));
    const codeSets = entries.flatMap(({ admitted }) => ("codes" in admitted ? [admitted.codes] : []));
    if ((ranges.length > 0 && rangesExclude(ranges)) || (codeSets.length > 0 && codesExclude(codeSets))) return entries.map(({ key }) => key);
  }
  return undefined;
}

function codesExclude([first, ...rest]: readonly ReadonlySet<number>[]): boolean {
  for (const code of first!) if (rest.every((codes) => codes.has(code))) return false;
  return true;
}

function rangesExclude(ranges: readonly NumberRange[]): boolean {
  let lower: Bound | undefined;
  let upper: Bound | undefined;
  for (const range of ranges) {
    if (range.lower && (!lower || range.lower.value > lower.value || (range.lower.value === lower.value && !range.lower.inclusive))) lower = range.lower;
    if (range.upper && (!upper || range.upper.value < upper.value || (range.upper.value === upper.value && !range.upper.inclusive))) upper = range.upper;
  }
  if (!lower || !upper) return false;
  if (ranges.some((range) => range.integer)) {
    const least = lower.inclusive ? Math.ceil(lower.value) : Math.floor(lower.value) + 1;
    const greatest = upper.inclusive ? Math.floor(upper.value) : Math.ceil(upper.value) - 1;
    return least > greatest;
  }
  return lower.value > upper.value || (lower.value === upper.value && !(lower.inclusive && upper.inclusive));
}
