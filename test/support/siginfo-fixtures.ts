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

/** The fixtures' hashes, in full as analyze prints them. */
export const H = {
  basehashA: "4aec5288532058b96a9bc7acdac2602baa9c66591e7b26ca246bfe3886fe665b",
  basehashB: "126552bd1ac1b7365aa01de522ecec56e76396da6c0e15fec00e7b42ca7055bb",
  taskhashA: "1733d46c507783ad9b964280e85119bf2bde9764ebac861772ed2eaa3ead29dc",
  unihashA: "3a2454d2eb6eb9ee0355630c21fc23743ccae8470ab68920bb0680cdfc9639c7",
  unihashB: "83ebc9b8a4f0070e6f556ffa3da7d266fdb8437f1f41be87ec64439a071c0d78",
  sysrootA: "3d5c13f57ff36747f8342b4b1fc9a6bd4717d491885fe6e54924927379a879e8",
  sysrootB: "c99c007567392576e683528b10d31ebbe79ecfce4457020e21a6a7b8c3e92fef",
  installA: "49f5c4c28e64bf0060405845d514065b4f9a1c90434569e026922ed8350abccb",
  installB: "9123eac0d7346c64a95474bb4b71443f34af7dcd1c4751be79931cc86408bb79",
};

/** The line that names hello-configure's changed dependency, zlib:do_populate_sysroot. */
export const BASE_PAIR_DEPENDENCY_LINE = `Hash for task dependency zlib:do_populate_sysroot changed from ${H.sysrootA} to ${H.sysrootB}`;

/**
 * What compareSigData says for hello-configure a → b when its changed dependency is not
 * compared: its own changes, ending with the dependency's. Hashes in full, as bitbake prints them.
 */
export const BASE_PAIR_LINES = [
  "Task dependencies changed: added HARDENING_OPTS; removed DEBUG_OPTS",
  `basehash changed from ${H.basehashA} to ${H.basehashB}`,
  `taskhash changed from ${H.taskhashA} to ${H.unihashB}`,
  `unihash changed from ${H.unihashA} to ${H.unihashB}`,
  "List of dependencies for variable EXTRA_OECONF changed from [DEBUG_OPTS] to [HARDENING_OPTS]",
  "Variable EXTRA_OECONF value changed:",
  '  "[---disable-static ${DEBUG_OPTS}-] {+--enable-static ${HARDENING_OPTS}+}"',
  "Variable HARDENING_OPTS added with value '--enable-fortify'",
  "Variable DEBUG_OPTS removed, value was '--enable-debug'",
  "Checksum for file defconfig changed from 860bbd458ccf9fddd81353e89d62fa8e724901262ae610f8ee4b66d86bccd028 to 3a89147bc96bc6def796afca3a8430600bfbd1ff1a7ab5c3d571f8526ac2ffe2",
  "runtaskdeps changed:",
  "  +autoconf-native:do_populate_sysroot",
  "Dependency on task autoconf-native:do_populate_sysroot was added with hash 3eb7278e7eef13fb361e9fd655340c710bfba34dd57048b4c0494c3ed1f919fd",
  BASE_PAIR_DEPENDENCY_LINE,
];
export const BASE_PAIR_TAINT_LINE = "Taint (by forced/invalidated task) changed from (none) to 845fe6fa-3d9f-4cbd-80d4-9e0ef8dd6858";
/** zlib:do_populate_sysroot's own changes, nested below hello-configure's line for it, when zlib:do_install is not compared. */
export const POPULATE_SYSROOT_OWN_LINES = [
  "    taskhash changed from e0cb73d0aa17194e11fb23c837ecfd7ac2067479fdb148609fcb23aed8657b8c to aeb595f366204f29edf24920df6991b5148876157dbd98aa0a01531754c9b165",
  `    unihash changed from ${H.sysrootA} to ${H.sysrootB}`,
  `    Hash for task dependency zlib:do_install changed from ${H.installA} to ${H.installB}`,
];
/** When zlib:do_install is compared, its changes replace zlib:do_populate_sysroot's own (bitbake's rule). */
export const POPULATE_SYSROOT_LINES = [POPULATE_SYSROOT_OWN_LINES.at(-1)!];
export const INSTALL_LINES = [
  `        basehash changed from 1082a78659cc0d0b9c3b80c9c6abe10a5a9202c0a5550725e7dd2dd49015c92d to 9913d83baea868587fd9b8bdbe4f9d1c55f36b1dfc019659baf9879e74b8cb8f`,
  `        taskhash changed from ${H.installA} to 27ddd44563e501f83c3ce3b0719c338b8362406f4d6006688705e10a2636a3c3`,
  `        unihash changed from ${H.installA} to ${H.installB}`,
  "        Variable do_install value changed:",
  "          @@ -1,2 +1,3 @@",
  "           \tinstall -d ${D}${libdir}",
  "           \tinstall -m 0644 libz.so.1 ${D}${libdir}",
  "          +\trm -f ${D}${libdir}/libz.a",
];
/** hello-configure a → b with every dependency compared: the dependency chain replaces its own changes; the taint stays. */
export const BASE_PAIR_EXPLAINED_LINES = [BASE_PAIR_DEPENDENCY_LINE, ...POPULATE_SYSROOT_LINES, ...INSTALL_LINES, BASE_PAIR_TAINT_LINE];
