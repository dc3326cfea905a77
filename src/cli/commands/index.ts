import type { Command } from "../command.ts";
import { analyzeCommand } from "./analyze.ts";
import { applyCommand } from "./apply.ts";
import { demoCommand } from "./demo.ts";
import { diffCommand } from "./diff.ts";
import { infoCommand } from "./info.ts";
import { listCommand } from "./list.ts";
import { planCommand } from "./plan.ts";
import { showCommand } from "./show.ts";
import { stampsCommand } from "./stamps.ts";
import { uploadCommand } from "./upload.ts";
import { validateCommand } from "./validate.ts";
import { whyCommand } from "./why.ts";

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  validateCommand,
  listCommand,
  planCommand,
  showCommand,
  diffCommand,
  whyCommand,
  applyCommand,
  infoCommand,
  uploadCommand,
  analyzeCommand,
  stampsCommand,
  demoCommand,
];
