/**
 * A deterministic, realistic sstate cache listing for demos and benchmarks: a shared mirror
 * fed by poky builds for qemux86-64 and qemuarm64 plus a small Isar build, several hash
 * generations per task, and the debris real caches collect (siginfo-only tasks, signatures,
 * legacy markers, interrupted writes, files other tools left behind). No I/O, no clock.
 */

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

type RecipeKind =
  | "native"
  | "cross"
  | "crosssdk"
  | "target"
  | "target-deploy"
  | "machine"
  | "machine-deploy"
  | "image"
  | "allarch"
  | "isar-deb"
  | "isar-bootstrap"
  | "isar-chroot"
  | "isar-image";

interface Recipe {
  pn: string;
  pv: string;
  kind: RecipeKind;
  /** 0 (a few files) to 3 (gcc, the kernel, images): pushes archive sizes up their range. */
  heft: number;
}

/** Real poky (walnascar-era) and Isar recipes: "pn pv [heft]" entries. */
const RECIPE_TABLE: Record<RecipeKind, string> = {
  native: `quilt-native 0.68, m4-native 1.4.19, zlib-native 1.3.1, xz-native 5.6.4,
    autoconf-native 2.72e, automake-native 1.17, libtool-native 2.5.4, gettext-minimal-native 0.23.1,
    pkgconfig-native 0.29.2+gitAUTOINC+d97db4fae4, gnu-config-native 20240823+gitAUTOINC+00b1592760,
    texinfo-dummy-native 1.0, openssl-native 3.4.1 1, python3-native 3.13.2 2, perl-native 5.40.1 2,
    cmake-native 3.31.5 2, ninja-native 1.12.1, meson-native 1.7.0 1, flex-native 2.6.4,
    bison-native 3.8.2, gperf-native 3.1, ncurses-native 6.5 1, util-linux-native 2.40.4 1,
    elfutils-native 0.192 1, rpm-native 4.20.0 1, opkg-utils-native 0.6.3, qemu-native 9.2.0 2,
    qemu-system-native 9.2.0 3, glib-2.0-native 2.82.5 1, libffi-native 3.4.7, expat-native 2.6.4,
    sqlite3-native 3.48.0 1, attr-native 2.5.2, libcap-native 2.73, zstd-native 1.5.6,
    e2fsprogs-native 1.47.2 1, dosfstools-native 4.2, mtools-native 4.0.48, squashfs-tools-native 4.6.1,
    pseudo-native 1.9.0+gitAUTOINC+e586f4a9d1, rust-native 1.84.1 3, cargo-native 1.84.1 2,
    python3-setuptools-native 75.8.0, python3-wheel-native 0.45.1, python3-installer-native 0.7.0,
    python3-flit-core-native 3.10.1, kmod-native 34.1, shadow-native 4.17.1, libxml2-native 2.13.6 1,
    ca-certificates-native 20241223, update-rc.d-native 0.8+gitAUTOINC+b8f9501050, gmp-native 6.3.0,
    mpfr-native 4.2.1, libmpc-native 1.3.1`,
  cross: `gcc-cross-x86_64 14.2.0 3, binutils-cross-x86_64 2.44 2, gdb-cross-x86_64 16.2 2,
    gcc-cross-aarch64 14.2.0 3, binutils-cross-aarch64 2.44 2`,
  crosssdk: `gcc-crosssdk-x86_64-pokysdk-linux 14.2.0 3, binutils-crosssdk-x86_64-pokysdk-linux 2.44 2`,
  target: `busybox 1.37.0 1, glibc 2.41+git 2, glibc-locale 2.41+git 3, linux-libc-headers 6.12 1,
    libgcc-initial 14.2.0 1, libgcc 14.2.0 1, gcc-runtime 14.2.0 2, openssl 3.4.1 2, systemd 257.1 2,
    zlib 1.3.1, xz 5.6.4, util-linux 2.40.4 1, bash 5.2.37 1, coreutils 9.6 1, ncurses 6.5 1,
    readline 8.2.13, libcap 2.73, attr 2.5.2, acl 2.3.2, dbus 1.16.0 1, kmod 34.1, shadow 4.17.1 1,
    e2fsprogs 1.47.2 1, libffi 3.4.7, expat 2.6.4, sqlite3 3.48.0 1, python3 3.13.2 3, perl 5.40.1 2,
    openssh 9.9p2 1, curl 8.12.1 1, libxml2 2.13.6 1, glib-2.0 2.82.5 2, libxcrypt 4.4.37, zstd 1.5.6,
    bzip2 1.0.8, elfutils 0.192 1, libpcre2 10.44 1, gmp 6.3.0, iptables 1.8.11 1, iproute2 6.13.0 1,
    procps 4.0.5, opkg 0.7.0, rpm 4.20.0 1, libarchive 3.7.7 1, gnutls 3.8.9 1, libgcrypt 1.11.0 1,
    libgpg-error 1.51, nettle 3.10.1, libidn2 2.3.7, libpam 1.7.0 1, dropbear 2024.86, less 668,
    grep 3.11, sed 4.9, gawk 5.3.1 1, findutils 4.10.0, tar 1.35, gzip 1.13, file 5.46, mesa 24.3.4 3,
    wayland 1.23.1 1, libdrm 2.4.124, pixman 0.44.2, cairo 1.18.2 1, pango 1.56.1 1, harfbuzz 10.2.0 1,
    freetype 2.13.3 1, fontconfig 2.16.0, gtk+3 3.24.43 2, libpng 1.6.46, gstreamer1.0 1.24.12 2,
    alsa-lib 1.2.13 1, icu 76-1 2, boost 1.87.0 3, llvm 19.1.7 3, rust 1.84.1 3, go 1.24.0 3,
    strace 6.13, gdb 16.2 2, valgrind 3.24.0 2, ltp 20250130 3, psplash 0.1+gitAUTOINC+1f64c654a2,
    libusb1 1.0.27, vim 9.1.1043 1`,
  "target-deploy": `grub-efi 2.12 1`,
  machine: `base-files 3.0.14, init-ifupdown 1.0, packagegroup-core-boot 1.0, formfactor 0.0, keymaps 1.0,
    alsa-state 0.2.0, weston-init 1.0, make-mod-scripts 1.0, kernel-devsrc 1.0 2, systemd-conf 1.0`,
  "machine-deploy": `linux-yocto 6.12.19+git 3`,
  image: `core-image-minimal 1.0 3, core-image-base 1.0 3, core-image-sato 1.0 3`,
  allarch: `ca-certificates 20241223, tzdata 2025a 1, update-rc.d 0.8+gitAUTOINC+b8f9501050,
    iso-codes 4.17.0 1, hicolor-icon-theme 0.18, adwaita-icon-theme 47.0 1, xkeyboard-config 2.43,
    mobile-broadband-provider-info 20240407, run-postinsts 1.0, linux-firmware 20250211 3, netbase 6.4,
    bash-completion 2.16.0`,
  "isar-deb": `hello 2.10, samefile 2.15, cowsay 3.03+dfsg2, sshd-regen-keys 0.4, expand-on-first-boot 1.3`,
  "isar-bootstrap": `isar-bootstrap-target 1.0 2`,
  "isar-chroot": `sbuild-chroot-target 1.0 2`,
  "isar-image": `isar-image-base 1.0 3`,
};

/** Listed first so that even a small demo cache shows every kind of recipe. */
const SHOWCASE_RECIPES = [
  "quilt-native", "busybox", "hello", "gcc-cross-x86_64", "linux-yocto", "core-image-minimal",
  "ca-certificates", "m4-native", "zlib-native", "isar-image-base", "gcc-crosssdk-x86_64-pokysdk-linux",
  "glibc", "openssl", "base-files", "isar-bootstrap-target", "systemd",
];

/** Kinds that layers keep adding more of; big caches repeat these under suffixed names. */
const REPEATABLE_KINDS: ReadonlySet<RecipeKind> = new Set(["native", "target", "allarch", "isar-deb"]);

function parseRecipeTable(): Recipe[] {
  const recipes: Recipe[] = [];
  for (const [kind, entries] of Object.entries(RECIPE_TABLE) as [RecipeKind, string][]) {
    for (const entry of entries.split(",")) {
      const [pn, pv, heft] = entry.trim().split(/\s+/);
      recipes.push({ pn: pn!, pv: pv!, kind, heft: Number(heft ?? 0) });
    }
  }
  return recipes;
}

const RECIPES = parseRecipeTable();

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
  "package", "packagedata", "package_qa", "populate_sysroot", "deploy_source_date_epoch", "create_spdx",
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
  return pv.replace(/(\d+)(\D*)$/, (whole, digits: string, rest: string) =>
    Number(digits) > 0 ? `${Number(digits) - 1}${rest}` : whole,
  );
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
      const leftover = random.chance(0.5)
        ? path + random.chars(TEMP_NAME_ALPHABET, 8)
        : `${path}.${random.chars(MKTEMP_ALPHABET, 8)}`;
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
  for (let round = 1; ; round++) {
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
