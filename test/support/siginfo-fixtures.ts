import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { decodeSiginfo } from "../../src/siginfo/decode.ts";

// Fixture pairs written by scripts/make-siginfo.py: "a" is the older build (the remote cache),
// "b" the newer one (the local cache).
const FIXTURES = new URL("../fixtures/siginfo/", import.meta.url);
/** Not an arch the demo generator uses, so the fixtures never meet generated candidates. */
export const FIXTURE_ARCH = "corei7-64";

export interface PlacedSiginfo {
  pn: string;
  task: string;
  hash: string;
  /** Path of the archive (whether or not it was written) relative to the cache root. */
  archivePath: string;
}

async function unihashOf(fixture: string): Promise<string> {
  const bytes = new Uint8Array(await readFile(new URL(`${fixture}.siginfo`, FIXTURES)));
  return decodeSiginfo(bytes).unihash!;
}

/**
 * Copies a fixture into a cache under its proper sstate name, `<archive>.siginfo`, and writes a
 * small archive next to it when `withArchive`. `hash` defaults to the fixture's unihash.
 */
export async function placeSiginfo(root: string, fixture: string, item: { pn: string; task: string; withArchive?: boolean; hash?: string }): Promise<PlacedSiginfo> {
  const hash = item.hash ?? (await unihashOf(fixture));
  const archivePath = `${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:${item.pn}:${FIXTURE_ARCH}-poky-linux:1.0:r0:${FIXTURE_ARCH}:14:${hash}_${item.task}.tar.zst`;
  await mkdir(dirname(join(root, archivePath)), { recursive: true });
  await copyFile(new URL(`${fixture}.siginfo`, FIXTURES), join(root, `${archivePath}.siginfo`));
  if (item.withArchive) await writeFile(join(root, archivePath), "archive stand-in");
  return { pn: item.pn, task: item.task, hash, archivePath };
}

/**
 * The crafted pairs: hello:do_configure depends on zlib:do_populate_sysroot, which depends on
 * zlib:do_install; each changed between the remote ("a") and the local ("b") build.
 */
export async function placeFixturePairs(local: string, remote: string): Promise<void> {
  const pairs: [string, { pn: string; task: string; withArchive?: boolean }][] = [
    ["hello-configure", { pn: "hello", task: "configure" }],
    ["zlib-populate-sysroot", { pn: "zlib", task: "populate_sysroot", withArchive: true }],
    ["zlib-install", { pn: "zlib", task: "install" }],
  ];
  for (const [fixture, item] of pairs) {
    await placeSiginfo(remote, `${fixture}-a`, item);
    await placeSiginfo(local, `${fixture}-b`, item);
  }
}

/**
 * What compareSigData says for hello-configure a → b: its own changes, the taint, and nested
 * below its changed dependency those of zlib:do_populate_sysroot, then of zlib:do_install.
 */
export const BASE_PAIR_LINES = [
  "Task dependencies changed: added HARDENING_OPTS; removed DEBUG_OPTS",
  "basehash changed from 4aec5288 to 126552bd",
  "taskhash changed from 1733d46c to 83ebc9b8",
  "unihash changed from 3a2454d2 to 83ebc9b8",
  "List of dependencies for variable EXTRA_OECONF changed from [DEBUG_OPTS] to [HARDENING_OPTS]",
  "Variable EXTRA_OECONF value changed from '--disable-static ${DEBUG_OPTS}' to '--enable-static ${HARDENING_OPTS}'",
  "Variable HARDENING_OPTS added with value '--enable-fortify'",
  "Variable DEBUG_OPTS removed, value was '--enable-debug'",
  "Checksum for file defconfig changed from 860bbd45 to 3a89147b",
  "runtaskdeps changed:",
  "  +autoconf-native:do_populate_sysroot",
  "Dependency on task autoconf-native:do_populate_sysroot was added with hash 3eb7278e",
  "Hash for task dependency zlib:do_populate_sysroot changed from 3d5c13f5 to c99c0075",
];
export const BASE_PAIR_TAINT_LINE =
  "Taint (by forced/invalidated task) changed from (none) to 845fe6fa-3d9f-4cbd-80d4-9e0ef8dd6858";
export const POPULATE_SYSROOT_LINES = [
  "    taskhash changed from e0cb73d0 to aeb595f3",
  "    unihash changed from 3d5c13f5 to c99c0075",
  "    Hash for task dependency zlib:do_install changed from 49f5c4c2 to 9123eac0",
];
export const INSTALL_LINES = [
  "        basehash changed from 1082a786 to 9913d83b",
  "        taskhash changed from 49f5c4c2 to 27ddd445",
  "        unihash changed from 49f5c4c2 to 9123eac0",
  "        Variable do_install value changed:",
  "          @@ -1,2 +1,3 @@",
  "           \tinstall -d ${D}${libdir}",
  "           \tinstall -m 0644 libz.so.1 ${D}${libdir}",
  "          +\trm -f ${D}${libdir}/libz.a",
];
