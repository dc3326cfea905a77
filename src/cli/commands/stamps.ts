import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { readStampHashes } from "../../evidence/references.ts";
import { TOOL } from "../../util/version.ts";
import { parseCommandArgs } from "../args.ts";
import { EXIT, UserError, type CommandIo } from "../io.ts";

const USAGE = "sstate-keeper stamps DIR…";

/** Prints the unihashes a build's stamps name, as a manifest usable with `keep: { hashes: … }`. */
export async function stampsCommand(argv: string[], io: CommandIo): Promise<number> {
  const { positionals } = parseCommandArgs("stamps", argv, {}, USAGE);
  if (positionals.length === 0) throw new UserError(`stamps: name at least one stamps directory (e.g. build/tmp/stamps)\nusage: ${USAGE}`);
  const hashes = new Set<string>();
  for (const dir of positionals) {
    const info = await stat(resolve(io.cwd, dir)).catch(() => undefined);
    if (!info?.isDirectory()) throw new UserError(`${dir}: not a directory; point at a build's tmp/stamps`);
    await readStampHashes(resolve(io.cwd, dir), hashes).catch((error: Error) => {
      throw new UserError(`${dir}: cannot read the stamps: ${error.message}`);
    });
  }
  const sorted = [...hashes].sort();
  io.stdout(`# unihashes named by the stamps in ${positionals.join(", ")} (${sorted.length}), written by ${TOOL.name} ${TOOL.version}\n`);
  io.stdout(sorted.map((h) => `${h}\n`).join(""));
  return EXIT.ok;
}
