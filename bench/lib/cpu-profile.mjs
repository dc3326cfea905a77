import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { REPO } from "./paths.mjs";

/**
 * The functions with the most self time in the V8 CPU profile(s) that `node --cpu-prof
 * --cpu-prof-dir DIR` wrote: where a slow command spends its time, summed over every
 * function of the same name and place, with V8's own buckets kept as they are ("(idle)" is
 * the main thread waiting, e.g. for the libuv threads doing file system calls). Percentages
 * are of the whole profiled time.
 */
export async function topSelfTime(profileDir, limit) {
  const selfMicros = new Map();
  let totalMicros = 0;
  for (const name of (await readdir(profileDir)).filter((file) => file.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(await readFile(join(profileDir, name), "utf8"));
    const frameOf = new Map(profile.nodes.map((node) => [node.id, frameLabel(node.callFrame)]));
    // timeDeltas[i] is the time between sample i - 1 and sample i: the time sample i stands for.
    profile.samples.forEach((nodeId, index) => {
      const micros = profile.timeDeltas[index] ?? 0;
      const label = frameOf.get(nodeId);
      selfMicros.set(label, (selfMicros.get(label) ?? 0) + micros);
      totalMicros += micros;
    });
  }
  return [...selfMicros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([label, micros]) => ({ function: label, selfMs: Math.round(micros / 1000), percent: Math.round((1000 * micros) / totalMicros) / 10 }));
}

function frameLabel({ functionName, url, lineNumber }) {
  if (!url) return functionName || "(anonymous)";
  const place = url.startsWith("file://") ? relative(REPO, new URL(url).pathname) : url;
  return `${functionName || "(anonymous)"} ${place}:${lineNumber + 1}`;
}
