/** Kept equal to package.json's version by a test (reading package.json at run time differs between Node and Deno). */
export const TOOL = { name: "sstate-keeper", version: "0.1.0" } as const;
