/** The recipes the demo generator builds: real poky and Isar names and versions. */

export type RecipeKind =
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

export interface Recipe {
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
export const SHOWCASE_RECIPES = [
  "quilt-native",
  "busybox",
  "hello",
  "gcc-cross-x86_64",
  "linux-yocto",
  "core-image-minimal",
  "ca-certificates",
  "m4-native",
  "zlib-native",
  "isar-image-base",
  "gcc-crosssdk-x86_64-pokysdk-linux",
  "glibc",
  "openssl",
  "base-files",
  "isar-bootstrap-target",
  "systemd",
];

/** Kinds that layers keep adding more of; big caches repeat these under suffixed names. */
export const REPEATABLE_KINDS: ReadonlySet<RecipeKind> = new Set(["native", "target", "allarch", "isar-deb"]);

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

export const RECIPES = parseRecipeTable();
