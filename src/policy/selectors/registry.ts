import { ageSelectors } from "./age.ts";
import { overBudget } from "./budget.ts";
import { usedByBuilds } from "./builds.ts";
import { globSelectors } from "./globs.ts";
import { all, orphan, siginfoOnly } from "./groups.ts";
import { hashOfDeletedArchive } from "./hash-of-deleted-archive.ts";
import { kind } from "./kind.ts";
import { exceptNewest, newest, per } from "./newest.ts";
import { hashes, stamps } from "./references.ts";
import type { SelectorDefinition } from "./selector.ts";
import { sizeSelectors } from "./size.ts";
import { suffix } from "./suffix.ts";
import { unusedFor } from "./unused.ts";

/** Every selector the policy language knows, in documentation order. */
export const SELECTORS: readonly SelectorDefinition[] = [
  kind,
  suffix,
  ...globSelectors,
  ...ageSelectors,
  unusedFor,
  ...sizeSelectors,
  newest,
  exceptNewest,
  per,
  stamps,
  hashes,
  usedByBuilds,
  orphan,
  hashOfDeletedArchive,
  overBudget,
  siginfoOnly,
  all,
];

export const SELECTORS_BY_NAME: ReadonlyMap<string, SelectorDefinition> = new Map(SELECTORS.map((s) => [s.name, s]));
