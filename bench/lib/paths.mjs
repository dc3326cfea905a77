import { fileURLToPath } from "node:url";

/** The repository root, the built CLI the bench drives, and the shipped policies it plans with. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
export const POLICIES = {
  example: fileURLToPath(new URL("../../policies/example.yaml", import.meta.url)),
  oeRemoveDuplicated: fileURLToPath(new URL("../../policies/oe-remove-duplicated.yaml", import.meta.url)),
};
