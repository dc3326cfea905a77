// Module hooks (see typescript-loader.mjs): `.ts` files are stripped of their types by oxc
// (through rolldown, which vitest already uses; TypeScript's own compiler takes 0.5 s to load).
import { readFile } from "node:fs/promises";
import { transformSync } from "rolldown/utils";

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  const { code, errors } = transformSync(url, await readFile(new URL(url), "utf8"), { lang: "ts" });
  if (errors.length > 0) throw new Error(`${url}: ${errors.map((e) => e.message).join("; ")}`);
  return { format: "module", source: code, shortCircuit: true };
}
