#!/usr/bin/env node
import process from "node:process";
import { run } from "./cli/main.ts";
import { nodeIo } from "./cli/node-io.ts";

// The AWS SDK warns on stderr that Node 20 support ends in 2027 (process.emitWarning, once per
// process, when an S3 client is built); this documented switch keeps it out of our output.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
process.exitCode = await run(process.argv.slice(2), nodeIo());
