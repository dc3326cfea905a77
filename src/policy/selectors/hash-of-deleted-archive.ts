import type { Listing } from "../../sstate/listing.ts";
import { KIND } from "../../sstate/name.ts";
import type { EvaluationContext, SelectorDefinition } from "./selector.ts";

/** The hashes of the archives the first phase deletes, found once per evaluation. */
const deletedArchiveHashes = new WeakMap<EvaluationContext, ReadonlySet<string>>();

function hashesOfDeletedArchives(context: EvaluationContext): ReadonlySet<string> {
  let hashes = deletedArchiveHashes.get(context);
  if (!hashes) {
    hashes = collectDeletedArchiveHashes(context.listing, context);
    deletedArchiveHashes.set(context, hashes);
  }
  return hashes;
}

/** Written when bitbake had no hash: shared by unrelated tasks, so it identifies no archive. */
const MISSING_HASH = "INVALID";

function collectDeletedArchiveHashes(listing: Listing, context: EvaluationContext): Set<string> {
  const hashes = new Set<string>();
  for (let i = 0; i < listing.count; i++) {
    if (listing.kinds[i] === KIND.archive && context.deletedByEarlierPhases(i)) hashes.add(listing.hash(i));
  }
  hashes.delete(MISSING_HASH);
  return hashes;
}

/**
 * isar-sstate clean's rule: whatever shares its hash with an archive it deletes goes too. The
 * hash alone decides, as there, whatever the file's kind, directory or other name fields.
 */
export const hashOfDeletedArchive: SelectorDefinition = {
  name: "hash-of-deleted-archive",
  schema: { const: true },
  expected: "true",
  description:
    "Delete only: a file (siginfo, .sig, .done, temp leftover…) whose hash is the hash of an archive this plan deletes, whatever its age (isar-sstate clean). Unlike `orphan`, a siginfo whose archive was never listed is not selected.",
  allowedIn: ["delete"],
  placementHint: "it follows the archives a plan deletes; put it in a delete rule",
  phase: "orphan",
  examples: ["{ hash-of-deleted-archive: true }", "{ hash-of-deleted-archive: true, kind: [siginfo, temp] }"],
  compile() {
    return { test: (i, context) => hashesOfDeletedArchives(context).has(context.listing.hash(i)) };
  },
};
