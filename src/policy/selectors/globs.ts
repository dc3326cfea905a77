import { Minimatch } from "minimatch";
import { excerpt } from "../diagnostics.ts";
import type { ManagedFile } from "../../sstate/listing.ts";
import { asList, stringOrList, type SelectorDefinition } from "./selector.ts";

/**
 * Positive globs are alternatives (any may match; none given means all match); globs with a
 * leading `!` exclude, whatever their order — like a .gitignore read as a whole.
 * Shared with the CLI's `--pn`/`--arch`/`--task` filters so that they mean what policies mean.
 */
export function compileGlobs(patterns: string[], report: (message: string, at?: (string | number)[]) => void): ((text: string) => boolean) | undefined {
  const include: Minimatch[] = [];
  const exclude: Minimatch[] = [];
  let ok = true;
  patterns.forEach((pattern, index) => {
    const negated = pattern.startsWith("!");
    const body = negated ? pattern.slice(1) : pattern;
    if (body === "") {
      report(`'${pattern}' is an empty glob`, patterns.length > 1 ? [index] : []);
      ok = false;
      return;
    }
    try {
      (negated ? exclude : include).push(new Minimatch(body, { dot: true, nonegate: true, nocomment: true }));
    } catch (error) {
      // minimatch refuses what it cannot match in bounded time (a pattern over 64 KiB).
      report(`'${excerpt(pattern)}' is not a glob it can match: ${(error as Error).message}`, patterns.length > 1 ? [index] : []);
      ok = false;
    }
  });
  if (!ok) return undefined;
  return (text) => (include.length === 0 || include.some((m) => m.match(text))) && !exclude.some((m) => m.match(text));
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

function globSelector(name: string, field: (file: ManagedFile) => string, description: string, example: string, memoize: boolean): SelectorDefinition {
  return {
    name,
    schema: stringOrList(),
    expected: "a glob such as 'gcc-*' (a leading ! negates) or a list of globs",
    description,
    allowedIn: ["keep", "delete"],
    role: "filter",
    examples: [example],
    compile({ value, report }) {
      const matches = compileGlobs(asList(value), report);
      if (!matches) return undefined;
      const test = memoize ? decidedOnce(matches) : matches;
      return (file) => test(field(file));
    },
  };
}

export const globSelectors: SelectorDefinition[] = [
  globSelector("pn", (f) => f.name.pn, "The recipe name (PN) matches a glob.", "{ pn: 'isar-image-*' }", true),
  globSelector("arch", (f) => f.name.arch, "The SSTATE_PKGARCH field matches a glob (empty for SWSPEC names).", "{ arch: [core2-64, qemux86_64] }", true),
  globSelector("task", (f) => f.name.task, "The task (without do_) matches a glob.", "{ task: '!populate_lic' }", true),
  globSelector("pv", (f) => f.name.pv, "The PV field matches a glob (bitbake may truncate it in long names).", "{ pv: '*+git*' }", true),
  globSelector("path", (f) => f.path, "The path relative to the cache root matches a glob.", "{ path: 'universal/**' }", false),
];
