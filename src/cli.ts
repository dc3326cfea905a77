#!/usr/bin/env node
import process from "node:process";
import { run } from "./cli/main.ts";
import { nodeIo } from "./cli/node-io.ts";

process.exitCode = await run(process.argv.slice(2), nodeIo());
