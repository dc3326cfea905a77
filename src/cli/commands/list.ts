import { listTarget } from "../../sources/save.ts";
import { formatBytes } from "../../util/units.ts";
import { command, textOption } from "../command.ts";
import { outputFile, targetContext, targetOf } from "../inputs.ts";
import { EXIT } from "../io.ts";
import { timeoutOption } from "../options.ts";
import { progressDisplay } from "../views/progress.ts";

/** Lists a target once, for planning later or elsewhere (`plan --listing FILE`). */
export const listCommand = command({
  name: "list",
  summary: "list a cache and save the listing for 'plan --listing' (several policies, one listing)",
  description: `Writes the listing to FILE, atomically: gzipped JSON lines, a header naming the format and
version, the target, when it was listed, the file count, bytes and the listing's sha256 (the
digest plans record as listing.sha256), then one record per file. A plan made from it with
'plan --listing FILE' records it; apply still checks every file on the target. Without --out
only that summary is printed.`,
  operands: { usage: "TARGET", min: 1, max: 1, wrongCount: "name one target (a path, file://, s3:// or http(s):// URL)" },
  options: {
    out: textOption("FILE", "write the listing to this file", { short: "o" }),
    timeout: timeoutOption,
  },
  async run({ options, operands: [raw] }, io) {
    const target = targetOf(io, raw, "target");
    const out = options.out === undefined ? undefined : await outputFile(io, "out", options.out);
    const progress = progressDisplay(io, { quiet: false });
    const listed = await listTarget({ target, context: targetContext(io, options.timeout), clock: io.clock, out, onProgress: progress.listener }).finally(() => progress.done());
    io.stdout(`${target.url}: ${listed.files.toLocaleString("en-US")} files, ${formatBytes(listed.bytes)}, listing sha256 ${listed.sha256}${out === undefined ? "" : `, saved to ${options.out}`}\n`);
    return EXIT.ok;
  },
});
