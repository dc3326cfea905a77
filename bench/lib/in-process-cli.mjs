import { subscribe } from "node:diagnostics_channel";
import { wrapOpenedBackends } from "../../dist/backends/registry.js";
import { run } from "../../dist/cli/main.js";
import { timed } from "./measure.mjs";

/**
 * Runs CLI commands inside this process, exactly as `sstate-keeper …` would run them, so that
 * the remote backends they open can be inspected afterwards: their own request counters
 * (requestCounts(), S3's peakRequestsInFlight()) and, independently, what went over the wire.
 */

const remoteBackends = [];
// Each backend the CLI opens is seen as it is opened; the remote ones count their requests, read
// once the command has finished.
wrapOpenedBackends((backend) => {
  if (typeof backend.requestCounts === "function") remoteBackends.push(backend);
  return backend;
});

/**
 * HTTP requests at the node:http layer (both backends use it: the AWS SDK through its Node
 * handler), counted by method and Depth header; one is in flight from its end of request
 * until the answer's headers arrive or it fails. Peaks are kept overall and per kind.
 */
const wire = { counts: {}, peaks: {}, inFlight: new Map(), peakInFlight: 0 };
const inFlightOfKind = (kind) => [...wire.inFlight.values()].filter((k) => k === kind).length;
subscribe("http.client.request.start", ({ request }) => {
  const depth = request.getHeader("depth");
  const kind = depth === undefined ? request.method : `${request.method} depth=${depth}`;
  wire.counts[kind] = (wire.counts[kind] ?? 0) + 1;
  wire.inFlight.set(request, kind);
  wire.peakInFlight = Math.max(wire.peakInFlight, wire.inFlight.size);
  wire.peaks[kind] = Math.max(wire.peaks[kind] ?? 0, inFlightOfKind(kind));
});
subscribe("http.client.response.finish", ({ request }) => wire.inFlight.delete(request));
subscribe("http.client.request.error", ({ request }) => wire.inFlight.delete(request));

/**
 * Runs one CLI command in-process (an exit code other than 0 rejects, with its stderr);
 * resolves with its wall time, the request counters of the remote backend it opened and the
 * wire-level figures of its requests.
 */
export async function runCli(argv, { cwd, env }) {
  let stderr = "";
  const io = {
    stdout: () => {},
    stderr: (text) => void (stderr += text),
    progressEnabled: false,
    env,
    cwd,
    clock: () => new Date(),
  };
  remoteBackends.length = 0;
  wire.counts = {};
  wire.peaks = {};
  wire.inFlight.clear();
  wire.peakInFlight = 0;
  const { value: exitCode, wallMs } = await timed(() => run(argv, io));
  if (exitCode !== 0) throw new Error(`sstate-keeper ${argv.join(" ")} exited with ${exitCode}\n${stderr.trim()}`);
  const [backend, ...others] = remoteBackends;
  if (!backend || others.length > 0) throw new Error(`sstate-keeper ${argv[0]} opened ${remoteBackends.length} remote backends; expected one`);
  return {
    wallMs,
    requestCounts: backend.requestCounts(),
    backendPeakInFlight: typeof backend.peakRequestsInFlight === "function" ? backend.peakRequestsInFlight() : undefined,
    wire: { counts: { ...wire.counts }, peakInFlight: wire.peakInFlight, peakInFlightByKind: { ...wire.peaks } },
  };
}
