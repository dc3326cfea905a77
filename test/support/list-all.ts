import type { Backend, RemoteFile } from "../../src/backends/backend.ts";

/** Every object a backend lists, sorted by path (code-unit order, as plans sort). */
export async function listAll(backend: Backend): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  for await (const batch of backend.list()) files.push(...batch);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
