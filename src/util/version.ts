/** Kept equal to package.json's version by a test (reading package.json at run time differs between Node and Deno). */
export const TOOL = { name: "sstate-keeper", version: "0.1.0" } as const;

/** What the backends send as User-Agent, so that access logs tell the tool's own requests from builds' (policy `uses:`). */
export const USER_AGENT = `${TOOL.name}/${TOOL.version}`;
