// Lets threads that the code under test starts itself (node:worker_threads) load `.ts` modules
// under vitest: Node 20 cannot strip types, and vitest's transform covers only its own workers.
// Registered through `execArgv` in vitest.config.ts; a Worker inherits it and registers it again.
import { register } from "node:module";

register("./typescript-hooks.mjs", import.meta.url);
