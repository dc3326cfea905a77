import { Minimatch } from "minimatch";
import type { Header, SstateNames } from "../../sstate/name.ts";
import type { Listing } from "../../sstate/listing.ts";
import { excerpt } from "../diagnostics.ts";
import { asList, type FileTest, type SelectorDefinition, stringOrList } from "./selector.ts";

/**
 * Positive globs are alternatives (any may match; none given means all match); globs with a
 * leading `!` exclude, whatever their order — like a .gitignore read as a whole.
 * Shared with the CLI's `--pn`/`--arch`/`--task` filters so that they mean what policies mean.
 */
export function compileGlobs(
  patterns: string[],
  report: (message: string, at?: (string | number)[]) => void,
  warn?: (message: string, at?: (string | number)[]) => void,
): ((text: string) => boolean) | undefined {
  const include: Minimatch[] = [];
  const exclude: Minimatch[] = [];
  let ok = true;
  patterns.forEach((pattern, index) => {
    const negated = pattern.startsWith("!");
    const body = negated ? pattern.slice(1) : pattern;
    const at = patterns.length > 1 ? [index] : [];
    if (body === "") {
      report(`'${pattern}' is an empty glob`, at);
      ok = false;
      return;
    }
    const bracket = unclosedBracket(body);
    if (bracket !== undefined) {
      warn?.(`'${excerpt(pattern)}': the '[' at character ${bracket + 1 + (negated ? 1 : 0)} is never closed, so it matches a literal '[', not one of a set of characters`, at);
    }
    try {
      (negated ? exclude : include).push(new Minimatch(body, { dot: true, nonegate: true, nocomment: true }));
    } catch (error) {
      // minimatch refuses what it cannot match in bounded time (a pattern over 64 KiB).
      report(`'${excerpt(pattern)}' is not a glob it can match: ${(error as Error).message}`, at);
      ok = false;
    }
  });
  if (!ok) return undefined;
  return (text) => (include.length === 0 || include.some((m) => m.match(text))) && !exclude.some((m) => m.match(text));
}

/**
 * Where a `[` opens a character class that no `]` closes, if one does: minimatch then matches
 * that `[` literally, which is hardly what its writer meant. As minimatch reads a class, a `]`
 * right after `[` (or `[!`, `[^`) belongs to the class, and a backslash escapes what follows.
 */
export function unclosedBracket(glob: string): number | undefined {
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === "\\") i++;
    else if (glob[i] === "[") {
      let j = i + 1;
      if (glob[j] === "!" || glob[j] === "^") j++;
      if (glob[j] === "]") j++;
      while (j < glob.length && glob[j] !== "]") j += glob[j] === "\\" ? 2 : 1;
      if (j >= glob.length) return i;
      i = j;
    }
  }
  return undefined;
}

/** pn, arch, task and pv repeat across thousands of files: decide each distinct value once. */
export function decidedOnce(matches: (text: string) => boolean): (text: string) => boolean {
  const decided = new Map<string, boolean>();
  return (text) => {
    let result = decided.get(text);
    if (result === undefined) {
      result = matches(text);
      decided.set(text, result);
    }
    return result;
  };
}

/**
 * A test on a field that every file of one header (or one task) shares: decided once per
 * dictionary entry of the listing's parser, then read from a byte per entry.
 */
function perEntry(entries: (names: SstateNames) => readonly unknown[], column: (listing: Listing) => Int32Array, matches: (entry: number, names: SstateNames) => boolean): FileTest {
  let decided: Int8Array | undefined;
  let decidedFor: Listing | undefined;
  return (i, { listing }) => {
    if (decidedFor !== listing) {
      decided = new Int8Array(entries(listing.names).length);
      decidedFor = listing;
    }
    const entry = column(listing)[i]!;
    let verdict = decided![entry]!;
    if (verdict === 0) decided![entry] = verdict = matches(entry, listing.names) ? 1 : -1;
    return verdict === 1;
  };
}

const byHeader = (field: keyof Header) => (matches: (text: string) => boolean) =>
  perEntry((names) => names.headers, (listing) => listing.headers, (entry, names) => matches(names.headers[entry]![field]));

/** A glob, which `!` alone is not (it would exclude nothing). */
const GLOB = { type: "string", minLength: 1, pattern: "^(?!!$)", patternErrorMessage: "'!' alone is an empty glob: write it before a glob, e.g. '!gcc-*'." };

function globSelector(name: string, description: string, example: string, testOf: (matches: (text: string) => boolean) => FileTest): SelectorDefinition {
  return {
    name,
    schema: stringOrList(GLOB),
    expected: "a glob such as 'gcc-*' (a leading ! negates) or a list of globs",
    description,
    allowedIn: ["keep", "delete"],
    examples: [example],
    compile({ value, report, warn }) {
      const matches = compileGlobs(asList(value), report, (message, at) => warn("unclosed-bracket", message, at));
      return matches && { test: testOf(matches) };
    },
  };
}

export const globSelectors: SelectorDefinition[] = [
  globSelector("pn", "The recipe name (PN) matches a glob.", "{ pn: 'isar-image-*' }", byHeader("pn")),
  globSelector("arch", "The SSTATE_PKGARCH field matches a glob (empty for SWSPEC names).", "{ arch: [core2-64, qemux86_64] }", byHeader("arch")),
  globSelector(
    "task",
    "The task (without do_) matches a glob.",
    "{ task: '!populate_lic' }",
    (matches) => perEntry((names) => names.tasks, (listing) => listing.tasks, (entry, names) => matches(names.tasks[entry]!)),
  ),
  globSelector("pv", "The PV field matches a glob (bitbake may truncate it in long names).", "{ pv: '*+git*' }", byHeader("pv")),
  globSelector("path", "The path relative to the cache root matches a glob.", "{ path: 'universal/**' }", (matches) => (i, { listing }) => matches(listing.path(i))),
];
