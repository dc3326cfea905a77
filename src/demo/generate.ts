/**
 * A deterministic, realistic sstate cache listing for demos and benchmarks: a shared mirror
 * fed by poky builds for qemux86-64 and qemuarm64 plus a small Isar build, several hash
 * generations per task, and the debris real caches collect (siginfo-only tasks, signatures,
 * legacy markers, interrupted writes, files other tools left behind). No I/O, no clock.
 */

import { type Recipe, RECIPES, REPEATABLE_KINDS, SHOWCASE_RECIPES } from "./recipes.ts";

export interface GeneratedFile {
  /** Relative to the cache root, POSIX separators. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface GenerateOptions {
  /**
   * Exactly this many files are yielded; the last recipe may be cut short, like an interrupted
   * upload. A smaller count yields a prefix of a larger one (same seed and now).
   */
  files: number;
  seed?: number;
  /** Epoch ms; every mtime is at or before it. */
  now: number;
}

/** A fixed "now" so that `demo` prints the same ages on every run. */
export const DEMO_NOW = Date.parse("2026-11-01T12:00:00Z");

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const KiB = 1024;
const MiB = 1024 * KiB;

/** How far back the oldest generation of a mirror's files reaches. */
const HISTORY_MS = 120 * DAY;
const POKY_SSTATE_VERSION = 14;
const ISAR_SSTATE_VERSION = 10;
/** Archives uploaded before the zstd switch: `.tgz`, SSTATE_VERSION 3. */
const LEGACY_SSTATE_VERSION = 3;

/** The `<pkg_target>`, `<pkgarch>` and directory prefix one build variant of a recipe gets. */
interface ArchVariant {
  pkgTarget: string;
  pkgArch: string;
  /** `universal/` or empty. */
  nativeLsbDir: string;
  packageWriteTasks: readonly string[];
}

interface Machine {
  tune: ArchVariant;
  machine: ArchVariant;
  /** Share of recipes this machine's builds still produce: not every layer is built for both. */
  coverage: number;
}

/** Native, cross and crosssdk archives go under NATIVELSBSTRING, `universal` with uninative. */
const UNIVERSAL = "universal/";

function hostVariant(pkgTarget: string, pkgArch: string): ArchVariant {
  return { pkgTarget, pkgArch, nativeLsbDir: UNIVERSAL, packageWriteTasks: [] };
}

function targetVariant(pkgTarget: string, pkgArch: string, packageWriteTasks: readonly string[]): ArchVariant {
  return { pkgTarget, pkgArch, nativeLsbDir: "", packageWriteTasks };
}

const NATIVE = hostVariant("x86_64-linux", "x86_64");
const CROSS = hostVariant("x86_64-poky-linux", "x86_64");
const CROSSSDK = hostVariant("x86_64-pokysdk-linux", "x86_64_x86_64-nativesdk_linux");
const ALLARCH = targetVariant("all-poky-linux", "allarch", ["package_write_rpm", "package_write_ipk"]);

// The x86 CI job uses poky's default rpm packaging and the arm job ipk, as many fleets do.
const MACHINES: readonly Machine[] = [
  {
    tune: targetVariant("core2-64-poky-linux", "core2-64", ["package_write_rpm"]),
    machine: targetVariant("qemux86_64-poky-linux", "qemux86_64", ["package_write_rpm"]),
    coverage: 0.9,
  },
  {
    tune: targetVariant("cortexa57-poky-linux", "cortexa57", ["package_write_ipk"]),
    machine: targetVariant("qemuarm64-poky-linux", "qemuarm64", ["package_write_ipk"]),
    coverage: 0.7,
  },
];

// Isar sets TARGET_VENDOR="" and TARGET_OS=isar, and PACKAGE_ARCH to the Debian arch.
const ISAR_ARCHS: readonly { variant: ArchVariant; coverage: number }[] = [
  { variant: targetVariant("amd64-isar", "amd64", []), coverage: 1 },
  { variant: targetVariant("arm64-isar", "arm64", []), coverage: 0.5 },
];

function archVariants(recipe: Recipe, random: SeededRandom): ArchVariant[] {
  switch (recipe.kind) {
    case "native":
      return [NATIVE];
    case "cross":
      return [CROSS];
    case "crosssdk":
      return [CROSSSDK];
    case "allarch":
      return [ALLARCH];
    case "isar-deb":
    case "isar-bootstrap":
    case "isar-chroot":
    case "isar-image":
      return ISAR_ARCHS.filter((arch, index) => index === 0 || random.chance(arch.coverage)).map((arch) => arch.variant);
    default: {
      const usesMachineArch = recipe.kind === "machine" || recipe.kind === "machine-deploy" || recipe.kind === "image";
      const built = MACHINES.filter((machine) => random.chance(machine.coverage));
      return (built.length > 0 ? built : [MACHINES[0]!]).map((machine) => (usesMachineArch ? machine.machine : machine.tune));
    }
  }
}

/** Which tasks leave what. SWSPEC tasks are named once per recipe, without arch fields. */
interface TaskPlan {
  sourceSiginfoTasks: readonly string[];
  sourceArchiveTasks: readonly string[];
  siginfoTasks: readonly string[];
  archiveTasks: readonly string[];
}

const SOURCE_SIGINFO_TASKS = ["fetch", "unpack", "patch"];
const GCC_SOURCE_SIGINFO_TASKS = [...SOURCE_SIGINFO_TASKS, "preconfigure"];
const BUILD_SIGINFO_TASKS = ["configure", "compile", "install"];
const HOST_ARCHIVE_TASKS = ["populate_sysroot", "deploy_source_date_epoch", "create_spdx"];
const TARGET_ARCHIVE_TASKS = [
  "package",
  "packagedata",
  "package_qa",
  "populate_sysroot",
  "deploy_source_date_epoch",
  "create_spdx",
];
const NO_TASKS: TaskPlan = { sourceSiginfoTasks: [], sourceArchiveTasks: [], siginfoTasks: [], archiveTasks: [] };

function taskPlan(recipe: Recipe): TaskPlan {
  const usesGccSources = /^(gcc|libgcc)/.test(recipe.pn);
  const oeSource = {
    sourceSiginfoTasks: usesGccSources ? GCC_SOURCE_SIGINFO_TASKS : SOURCE_SIGINFO_TASKS,
    sourceArchiveTasks: ["populate_lic"],
    siginfoTasks: BUILD_SIGINFO_TASKS,
  };
  switch (recipe.kind) {
    case "native":
    case "cross":
    case "crosssdk":
      return { ...oeSource, archiveTasks: HOST_ARCHIVE_TASKS };
    case "target":
    case "machine":
    case "allarch":
      return { ...oeSource, archiveTasks: TARGET_ARCHIVE_TASKS };
    case "target-deploy":
    case "machine-deploy":
      return { ...oeSource, archiveTasks: [...TARGET_ARCHIVE_TASKS, "deploy"] };
    case "image":
      return { ...NO_TASKS, siginfoTasks: ["rootfs", "image", "image_qa"], archiveTasks: ["image_complete"] };
    case "isar-deb":
      return { ...NO_TASKS, sourceSiginfoTasks: ["fetch", "unpack"], archiveTasks: ["dpkg_build"] };
    case "isar-bootstrap":
      return { ...NO_TASKS, archiveTasks: ["bootstrap"] };
    case "isar-chroot":
      return { ...NO_TASKS, archiveTasks: ["rootfs_install"] };
    case "isar-image":
      return { ...NO_TASKS, archiveTasks: ["rootfs_install", "copy_boot_files"] };
  }
}

/** Archive size range per task, in bytes; a recipe's heft picks where in the range it lands. */
const ARCHIVE_SIZE_RANGE: Record<string, readonly [number, number]> = {
  populate_sysroot: [4 * KiB, 120 * MiB],
  package: [8 * KiB, 600 * MiB],
  packagedata: [2 * KiB, 2 * MiB],
  package_qa: [1 * KiB, 64 * KiB],
  package_write_rpm: [8 * KiB, 300 * MiB],
  package_write_ipk: [8 * KiB, 300 * MiB],
  deploy_source_date_epoch: [1 * KiB, 1.5 * KiB],
  create_spdx: [4 * KiB, 8 * MiB],
  populate_lic: [2 * KiB, 512 * KiB],
  deploy: [1 * MiB, 64 * MiB],
  image_complete: [16 * MiB, 900 * MiB],
  dpkg_build: [16 * KiB, 200 * MiB],
  bootstrap: [80 * MiB, 300 * MiB],
  rootfs_install: [50 * MiB, 800 * MiB],
  copy_boot_files: [8 * MiB, 64 * MiB],
};
const SIGINFO_SIZE_RANGE = [2 * KiB, 30 * KiB] as const;
// ASCII-armoured detached GPG signatures, 2048- to 4096-bit keys.
const SIGNATURE_SIZE_RANGE = [450, 900] as const;

/** mulberry32: tiny, fast and identical on every JavaScript engine. */
class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  uint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#state ^ (this.#state >>> 15), this.#state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  fraction(): number {
    return this.uint32() / 4294967296;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.fraction();
  }

  /** Log-uniform in [min, max): sizes and gaps spread over orders of magnitude. */
  logBetween(min: number, max: number): number {
    return Math.exp(Math.log(min) + (Math.log(max) - Math.log(min)) * this.fraction());
  }

  chance(probability: number): boolean {
    return this.fraction() < probability;
  }

  hex(length: number): string {
    let hex = "";
    while (hex.length < length) hex += this.uint32().toString(16).padStart(8, "0");
    return hex.slice(0, length);
  }

  chars(alphabet: string, length: number): string {
    let text = "";
    for (let i = 0; i < length; i++) text += alphabet[this.uint32() % alphabet.length];
    return text;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.uint32() % (i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** One build of a recipe that produced new hashes: a generation of its files. */
interface Build {
  ageMs: number;
  pv: string;
  pr: string;
  sstateVersion: number;
  extension: string;
}

const GENERATION_WEIGHTS = [0.4, 0.3, 0.18, 0.12];

function newestBuildAge(random: SeededRandom): number {
  const roll = random.fraction();
  if (roll < 0.3) return random.between(MINUTE, HOUR);
  if (roll < 0.65) return random.between(HOUR, DAY);
  if (roll < 0.9) return random.logBetween(DAY, 21 * DAY);
  return random.between(21 * DAY, 90 * DAY);
}

function generationCount(random: SeededRandom): number {
  let roll = random.fraction();
  for (let index = 0; index < GENERATION_WEIGHTS.length; index++) {
    roll -= GENERATION_WEIGHTS[index]!;
    if (roll < 0) return index + 1;
  }
  return GENERATION_WEIGHTS.length;
}

/** The version before an upgrade: the last number one lower, or another commit for git versions. */
function previousVersion(pv: string, random: SeededRandom): string {
  if (/\+gitAUTOINC\+[0-9a-f]{10}$/.test(pv)) return pv.slice(0, -10) + random.hex(10);
  return pv.replace(/(\d+)(\D*)$/, (whole, digits: string, rest: string) => Number(digits) > 0 ? `${Number(digits) - 1}${rest}` : whole);
}

/** Newest first; older builds sometimes predate a version upgrade, a PR bump or the zstd switch. */
function recipeBuilds(recipe: Recipe, random: SeededRandom): Build[] {
  const isIsar = recipe.kind.startsWith("isar-");
  const sstateVersion = isIsar ? ISAR_SSTATE_VERSION : POKY_SSTATE_VERSION;
  const count = generationCount(random);
  const upgradedAt = count > 1 && random.chance(0.15) ? 1 + (random.uint32() % (count - 1)) : count;
  const olderPv = upgradedAt < count ? previousVersion(recipe.pv, random) : recipe.pv;
  const prBumped = !isIsar && random.chance(0.08);
  const builds: Build[] = [];
  let ageMs = newestBuildAge(random);
  for (let index = 0; index < count && ageMs < HISTORY_MS; index++) {
    builds.push({
      ageMs,
      pv: index < upgradedAt ? recipe.pv : olderPv,
      pr: prBumped && index === 0 ? "r1" : "r0",
      sstateVersion,
      extension: ".tar.zst",
    });
    ageMs += random.logBetween(6 * HOUR, 40 * DAY);
  }
  const oldest = builds[builds.length - 1]!;
  if (!isIsar && random.chance(0.03) && oldest.ageMs < HISTORY_MS - 2 * DAY) {
    builds.push({
      ageMs: random.between(Math.max(oldest.ageMs + DAY, 95 * DAY), HISTORY_MS),
      pv: oldest.pv,
      pr: "r0",
      sstateVersion: LEGACY_SSTATE_VERSION,
      extension: ".tgz",
    });
  }
  return builds;
}

/** Source tasks get a new hash only when the sources change: one generation per version. */
function sourceBuilds(builds: readonly Build[]): Build[] {
  const seen = new Set<string>();
  return builds.filter((build) => {
    const key = `${build.pv}:${build.pr}:${build.sstateVersion}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const TEMP_NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const MKTEMP_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** One build of one variant: its files are named `<dirPrefix><h0:2>/<h2:4>/<namePrefix><hash>_<task><ext>`. */
interface TaskRun {
  namePrefix: string;
  dirPrefix: string;
  build: Build;
  siginfoTasks: readonly string[];
  archiveTasks: readonly string[];
  isNewestBuild: boolean;
}

/** Collects the files of one recipe; all randomness comes from `random`. */
class RecipeFiles {
  readonly collected: GeneratedFile[] = [];
  readonly #random: SeededRandom;
  readonly #now: number;
  readonly #heft: number;

  constructor(random: SeededRandom, now: number, heft: number) {
    this.#random = random;
    this.#now = now;
    this.#heft = heft;
  }

  /**
   * The run's tasks, oldest first, a random step apart, the last one `build.ageMs` before now.
   * Older builds skip some tasks: their hash did not change, so no new file was written.
   */
  add(run: TaskRun): void {
    const random = this.#random;
    const stepMs = random.between(5 * SECOND, 3 * MINUTE);
    const signed = random.chance(0.1);
    const tasks = [...run.siginfoTasks, ...run.archiveTasks];
    for (const [index, task] of tasks.entries()) {
      const mtimeMs = this.#taskTime(run.build.ageMs, stepMs, tasks.length - 1 - index);
      if (!run.isNewestBuild && random.chance(0.12)) continue;
      const path = this.#archivePath(run, task);
      if (index < run.siginfoTasks.length) this.#siginfo(path, mtimeMs);
      else this.#archive(path, task, mtimeMs, signed);
    }
  }

  #taskTime(ageMs: number, stepMs: number, stepsBeforeEnd: number): number {
    return Math.floor(this.#now - ageMs - stepsBeforeEnd * stepMs - this.#random.between(0, SECOND));
  }

  #archivePath(run: TaskRun, task: string): string {
    const hash = this.#random.hex(64);
    return `${run.dirPrefix}${hash.slice(0, 2)}/${hash.slice(2, 4)}/${run.namePrefix}${hash}_${task}${run.build.extension}`;
  }

  #siginfo(archivePath: string, mtimeMs: number): void {
    const size = Math.round(this.#random.logBetween(...SIGINFO_SIZE_RANGE));
    this.collected.push({ path: `${archivePath}.siginfo`, size, mtimeMs });
  }

  #archive(path: string, task: string, mtimeMs: number, signed: boolean): void {
    const random = this.#random;
    const [min, max] = ARCHIVE_SIZE_RANGE[task]!;
    const position = Math.min(1, (this.#heft / 3) * 0.7 + random.fraction() * 0.3);
    const size = Math.round(Math.exp(Math.log(min) + (Math.log(max) - Math.log(min)) * position));
    this.collected.push({ path, size, mtimeMs });
    this.#siginfo(path, mtimeMs);
    if (signed) this.collected.push({ path: `${path}.sig`, size: Math.round(random.between(...SIGNATURE_SIZE_RANGE)), mtimeMs });
    if (random.chance(0.004)) this.collected.push({ path: `${path}.done`, size: 0, mtimeMs });
    if (random.chance(0.003)) {
      const leftover = random.chance(0.5) ? path + random.chars(TEMP_NAME_ALPHABET, 8) : `${path}.${random.chars(MKTEMP_ALPHABET, 8)}`;
      const interruptedAt = mtimeMs - Math.floor(random.between(SECOND, 10 * MINUTE));
      this.collected.push({ path: leftover, size: Math.floor(size * random.fraction()), mtimeMs: interruptedAt });
    }
  }
}

function recipeFiles(recipe: Recipe, random: SeededRandom, now: number): GeneratedFile[] {
  const files = new RecipeFiles(random, now, recipe.heft);
  const builds = recipeBuilds(recipe, random);
  const plan = taskPlan(recipe);
  for (const [index, build] of sourceBuilds(builds).entries()) {
    files.add({
      namePrefix: `sstate:${recipe.pn}::${build.pv}:${build.pr}::${build.sstateVersion}:`,
      dirPrefix: "",
      // Sources are fetched and licenses collected before the arch-specific tasks run.
      build: { ...build, ageMs: build.ageMs + random.between(20 * MINUTE, 40 * MINUTE) },
      siginfoTasks: plan.sourceSiginfoTasks,
      archiveTasks: plan.sourceArchiveTasks,
      isNewestBuild: index === 0,
    });
  }
  for (const variant of archVariants(recipe, random)) {
    const packageWriteTasks = plan.archiveTasks.includes("package") ? variant.packageWriteTasks : [];
    for (const [index, build] of builds.entries()) {
      // Each machine's CI job runs on its own schedule, and does not rebuild every generation.
      if (index > 0 && random.chance(0.1)) continue;
      const { pn } = recipe;
      const { pkgTarget, pkgArch } = variant;
      files.add({
        namePrefix: `sstate:${pn}:${pkgTarget}:${build.pv}:${build.pr}:${pkgArch}:${build.sstateVersion}:`,
        dirPrefix: variant.nativeLsbDir,
        build: { ...build, ageMs: build.ageMs + random.between(0, 15 * MINUTE) },
        siginfoTasks: plan.siginfoTasks,
        archiveTasks: [...plan.archiveTasks, ...packageWriteTasks],
        isNewestBuild: index === 0,
      });
    }
  }
  return files.collected;
}

function repeatedRecipe(recipe: Recipe, round: number): Recipe {
  const nativeStem = recipe.pn.endsWith("-native") ? recipe.pn.slice(0, -"-native".length) : undefined;
  return { ...recipe, pn: nativeStem === undefined ? `${recipe.pn}-${round}` : `${nativeStem}-${round}-native` };
}

/** The showcase recipes, the other real ones shuffled, then ever more suffixed copies. */
function* recipeStream(random: SeededRandom): Generator<Recipe> {
  const byName = new Map(RECIPES.map((recipe) => [recipe.pn, recipe]));
  for (const pn of SHOWCASE_RECIPES) yield byName.get(pn)!;
  yield* random.shuffle(RECIPES.filter((recipe) => !SHOWCASE_RECIPES.includes(recipe.pn)));
  const repeatable = RECIPES.filter((recipe) => REPEATABLE_KINDS.has(recipe.kind));
  for (let round = 1;; round++) {
    for (const recipe of random.shuffle([...repeatable])) yield repeatedRecipe(recipe, round);
  }
}

/** What admins and other tools leave in a mirror; sstate-keeper must never touch these. */
function unmanagedFiles(random: SeededRandom, now: number): GeneratedFile[] {
  return [
    { path: "README", size: 1337, mtimeMs: now - 400 * DAY },
    { path: ".lock", size: 0, mtimeMs: now - Math.floor(random.between(MINUTE, HOUR)) },
    { path: "tools/sync-mirror.sh", size: 2210, mtimeMs: now - 200 * DAY },
  ];
}

export function* generateCache(options: GenerateOptions): Generator<GeneratedFile> {
  const { files, now, seed = 1 } = options;
  if (!Number.isSafeInteger(files) || files < 0) throw new RangeError(`files must be a non-negative integer, got ${files}`);
  if (!Number.isFinite(now)) throw new RangeError(`now must be epoch milliseconds, got ${now}`);
  if (files === 0) return;
  const random = new SeededRandom(seed);
  let remaining = files;
  for (const file of unmanagedFiles(random, now)) {
    yield file;
    if (--remaining === 0) return;
  }
  for (const recipe of recipeStream(random)) {
    for (const file of recipeFiles(recipe, random, now)) {
      yield file;
      if (--remaining === 0) return;
    }
  }
}
