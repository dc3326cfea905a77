// npm ci refuses a lock file that lacks any of deno's optional per-platform packages, but
// `npm install` leaves out those the registry can't serve (here only linux-x64 is served).
// Run this after every `npm install` that rewrites package-lock.json: it records the missing
// platforms (never installed on this machine, since their os/cpu don't match) so that
// `npm ci` works on a fresh clone.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const deno = lock.packages["node_modules/deno"];
const platforms = {
  "@deno/darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "@deno/darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "@deno/linux-arm64-glibc": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  "@deno/linux-x64-glibc": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "@deno/win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "@deno/win32-x64": { os: ["win32"], cpu: ["x64"] },
};
let added = 0;
for (const name of Object.keys(deno.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  if (!platforms[name]) throw new Error(`deno ${deno.version} has an optional dependency this script doesn't know: ${name}`);
  lock.packages[key] = { version: deno.optionalDependencies[name], ...platforms[name], dev: true, license: "MIT", optional: true };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: recorded ${added} missing deno platform packages`);
