import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { readStampHashes } from "../../evidence/references.ts";
import { TOOL } from "../../util/version.ts";
import { command } from "../command.ts";
import { EXIT, UserError } from "../io.ts";

/** Prints the unihashes a build's stamps name, as a manifest usable with `keep: { hashes: … }`. */
export const stampsCommand = command({
  name: "stamps",
  summary: "print the unihashes a build's stamps name (a manifest for 'hashes:')",
  description: "Reads each stamps tree (a build's tmp/stamps) at any depth and prints the sorted unihashes of its sigdata and setscene stamps, one a line.",
  operands: { usage: "DIR…", min: 1, max: Infinity, wrongCount: "name at least one stamps directory (e.g. build/tmp/stamps)" },
  options: {},
  async run({ operands }, io) {
    const hashes = new Set<string>();
    for (const dir of operands) {
      const info = await stat(resolve(io.cwd, dir)).catch(() => undefined);
      if (!info?.isDirectory()) throw new UserError(`${dir}: not a directory; point at a build's tmp/stamps`);
      await readStampHashes(resolve(io.cwd, dir), hashes).catch((error: Error) => {
        throw new UserError(`${dir}: cannot read the stamps: ${error.message}`);
      });
    }
    const sorted = [...hashes].sort();
    io.stdout(`# unihashes named by the stamps in ${operands.join(", ")} (${sorted.length}), written by ${TOOL.name} ${TOOL.version}\n`);
    io.stdout(sorted.map((h) => `${h}\n`).join(""));
    return EXIT.ok;
  },
});
