// `npm run test:deno` runs the core tests under Deno and says so in SSTATE_KEEPER_TEST_RUNTIME:
// a run that asked for one runtime fails rather than passes on another (vitest forks its workers
// with the runtime that started it; this proves they are what was asked for).
import process from "node:process";

const wanted = process.env["SSTATE_KEEPER_TEST_RUNTIME"];
const actual = "Deno" in globalThis ? "deno" : "node";
if (wanted !== undefined && wanted !== actual) throw new Error(`these tests were to run under ${wanted}, but this worker is ${actual}`);
