// The caches on which the presets are compared with the tools they copy. The tools' results
// were recorded by scripts/record-parity.mjs into test/fixtures/parity/*.json; the same
// definitions serve the recording and the test, so both see the same files.
import { DEMO_NOW, generateCache, type GeneratedFile } from "../../src/demo/generate.ts";
import { DAY, HOUR, sstatePath } from "./listing.ts";

export interface ParityCase {
  name: string;
  files: GeneratedFile[];
}

const MINUTE = HOUR / 60;

function aged(path: string, age: number): GeneratedFile {
  return { path, size: 100, mtimeMs: DEMO_NOW - age };
}

/** The generated cache the issue measured on: seed 1, 60,000 files. */
export function generatedCase(): ParityCase {
  return { name: "generated-60k", files: [...generateCache({ files: 60_000, seed: 1, now: DEMO_NOW })] };
}

const hello = (seed: string, ext = ".tar.zst", extra: Partial<Parameters<typeof sstatePath>[0]> = {}) => sstatePath({ pn: "hello", arch: "amd64", task: "dpkg_build", seed, ext, ...extra });

/** What the generated cache lacks for isar-sstate clean (defaults 1d/1d): the cases where age and hash disagree. */
export function isarEdgeCase(): ParityCase {
  const old = hello("old");
  const files = [
    aged(old, 2 * DAY),
    // Companions of an old archive, young: isar deletes them by hash.
    aged(`${old}.siginfo`, 2 * HOUR),
    aged(`${old}.sig`, 2 * HOUR),
    aged(`${old}.done`, 2 * HOUR),
    aged(`${old}q1w2e3r4`, 2 * HOUR),
    // Same hash under another NATIVELSBSTRING directory: the hash alone decides in isar.
    aged(`universal-4.8/${hello("old", ".tar.zst.siginfo")}`, 3 * HOUR),
    // Younger than the preset's min-age: isar deletes it, the preset keeps it.
    aged(hello("old-touched", ".tar.zst.siginfo"), 30 * MINUTE),
    aged(hello("old-touched"), 3 * DAY),
    // A young archive whose siginfo is old: the siginfo goes by its own age.
    aged(hello("young"), 2 * HOUR),
    aged(hello("young", ".tar.zst.siginfo"), 30 * HOUR),
    // Siginfo whose archive was never there, for a task that has archives: kept until a day old.
    aged(hello("never-archived", ".tar.zst.siginfo"), 2 * HOUR),
    aged(hello("never-archived-old", ".tar.zst.siginfo"), 25 * HOUR),
    // Temp leftovers of names that never became an archive.
    aged(`${hello("interrupted")}x9y8z7w6`, 2 * DAY),
    aged(`${hello("interrupted-young")}.AbCdEfGh`, 3 * HOUR),
    // Siginfo-only tasks (no archive ever), young and old.
    aged(sstatePath({ pn: "hello", arch: "amd64", task: "compile", seed: "compile-young", ext: ".tar.zst.siginfo" }), 5 * HOUR),
    aged(sstatePath({ pn: "hello", arch: "amd64", task: "compile", seed: "compile-old", ext: ".tar.zst.siginfo" }), 3 * DAY),
    // Legacy .tgz archive and its siginfo.
    aged(hello("legacy", ".tgz"), 40 * DAY),
    aged(hello("legacy", ".tgz.siginfo"), 2 * HOUR),
    // Names isar's pattern and sstate-keeper's grammar see differently.
    aged("IN/VA/sstate:hello:amd64-isar:1.0:r0:amd64:10:INVALID_dpkg_build.tar.zst.siginfo", 3 * DAY),
    aged(`${hello("lock")}.lock`, 3 * DAY),
    aged("README", 400 * DAY),
  ];
  return { name: "isar-edge-cases", files };
}
