import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { withBackend } from "../../backends/open.ts";
import { publishBuildManifest } from "../../evidence/build-manifests.ts";
import { readStampHashes } from "../../evidence/references.ts";
import { BUILD_MANIFEST_PREFIX } from "../../sstate/build-manifest.ts";
import { TOOL } from "../../util/version.ts";
import { command, textOption } from "../command.ts";
import { targetContext, targetOf } from "../inputs.ts";
import { EXIT, UserError } from "../io.ts";
import { timeoutOption } from "../options.ts";

/** Prints the unihashes a build's stamps name, as a manifest usable with `keep: { hashes: … }`, or publishes them as a build manifest. */
export const stampsCommand = command({
  name: "stamps",
  summary: "print the unihashes a build's stamps name, or publish them as a build manifest",
  description: `Reads each stamps tree (a build's tmp/stamps) at any depth and prints the sorted unihashes of
its sigdata and setscene stamps, one a line (a manifest for 'hashes:'). With --publish TARGET
it writes them instead, with the time and host, as a build manifest under
TARGET/${BUILD_MANIFEST_PREFIX} (a cache or any location: path, s3:// or http(s)://), atomically;
'used-by-builds' keeps what the manifests published within its window name. No policy can
delete a manifest: it is not an sstate file.`,
  operands: { usage: "DIR…", min: 1, max: Infinity, wrongCount: "name at least one stamps directory (e.g. build/tmp/stamps)" },
  options: {
    publish: textOption("TARGET", "write a build manifest under TARGET's reserved prefix instead of printing the hashes"),
    host: textOption("NAME", "the host the manifest names (in its name and header)", { default: "this host's name" }),
    timeout: timeoutOption,
  },
  async run({ options, operands }, io) {
    const hashes = new Set<string>();
    for (const dir of operands) {
      const info = await stat(resolve(io.cwd, dir)).catch(() => undefined);
      if (!info?.isDirectory()) throw new UserError(`${dir}: not a directory; point at a build's tmp/stamps`);
      await readStampHashes(resolve(io.cwd, dir), hashes).catch((error: Error) => {
        throw new UserError(`${dir}: cannot read the stamps: ${error.message}`);
      });
    }
    if (options.publish !== undefined) {
      // An empty manifest would say the build used nothing: a wrong directory, not a fact worth recording.
      if (hashes.size === 0) throw new UserError(`${operands.join(", ")}: no sigdata or setscene stamps found; nothing was published (point at a build's tmp/stamps after bitbake ran)`);
      const target = targetOf(io, options.publish, "--publish target");
      const build = { publishedAt: io.clock(), host: options.host ?? hostname(), sources: operands, hashes };
      const path = await withBackend(target, targetContext(io, options.timeout), (backend) => publishBuildManifest(backend, build));
      io.stdout(`published a build manifest of ${hashes.size} unihashes: ${target.url.replace(/\/+$/, "")}/${path}\n`);
      return EXIT.ok;
    }
    const sorted = [...hashes].sort();
    io.stdout(`# unihashes named by the stamps in ${operands.join(", ")} (${sorted.length}), written by ${TOOL.name} ${TOOL.version}\n`);
    io.stdout(sorted.map((h) => `${h}\n`).join(""));
    return EXIT.ok;
  },
});
