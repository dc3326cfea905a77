/**
 * Cleanups that must run however the bench ends: servers it started and scratch trees it
 * wrote. Sections undo their own work in `finally`; these hooks cover Ctrl-C, SIGTERM and
 * crashes, synchronously, because nothing asynchronous runs once the process is exiting.
 */

const pending = new Map();
let hooked = false;

/** Registers a synchronous cleanup; returns the function that runs it now (at most once). */
export function onExit(label, cleanupSync) {
  hook();
  const key = Symbol(label);
  pending.set(key, { label, cleanupSync });
  return () => {
    const entry = pending.get(key);
    if (!entry) return;
    pending.delete(key);
    entry.cleanupSync();
  };
}

function runAll() {
  for (const [key, { label, cleanupSync }] of [...pending].reverse()) {
    pending.delete(key);
    try {
      cleanupSync();
    } catch (error) {
      process.stderr.write(`bench: cleaning up ${label} failed: ${error.message}\n`);
    }
  }
}

function hook() {
  if (hooked) return;
  hooked = true;
  process.once("exit", runAll);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping servers and removing scratch files…\n`);
      runAll();
      process.exit(code);
    });
  }
}
