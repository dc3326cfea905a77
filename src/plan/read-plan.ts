import { Ajv } from "ajv";
import { TOOL } from "../util/version.ts";
import { integrityOf, PLAN_FORMAT_VERSION, type StoredPlan } from "./plan-file.ts";
import { planSchema } from "./plan-schema.ts";

/** Why a plan file can't be used; always "invalid input" (exit 2). */
export class PlanFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanFileError";
  }
}

let validatePlan: ReturnType<Ajv["compile"]> | undefined;

/** The only reader of plan files: version first, then shape, then integrity. */
export function parsePlan(text: string, source: string): StoredPlan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(`${source}: not a plan file (invalid JSON: ${(error as Error).message})`);
  }
  const version = (data as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== PLAN_FORMAT_VERSION) {
    const older = typeof version === "number" && version < PLAN_FORMAT_VERSION;
    throw new PlanFileError(
      `${source}: plan format version ${JSON.stringify(version)} is not supported by ${TOOL.name} ${TOOL.version} (it reads version ${PLAN_FORMAT_VERSION}${
        older ? ", which records what each deletion depends on" : ""
      }); re-plan: make a new plan with this version, review it and apply that`,
    );
  }
  validatePlan ??= new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(planSchema());
  if (!validatePlan(data)) {
    const problems = (validatePlan.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || "/"} ${e.message}`);
    throw new PlanFileError(`${source}: not a valid plan: ${problems.join("; ")}`);
  }
  const plan = data as StoredPlan;
  for (const field of ["createdAt", "now", "expiresAt"] as const) {
    if (Number.isNaN(Date.parse(plan[field]))) throw new PlanFileError(`${source}: not a valid plan: ${field} is not a date`);
  }
  for (const list of [plan.delete, plan.keep ?? []]) {
    const undated = list.findIndex((file) => Number.isNaN(Date.parse(file.mtime)));
    if (undated >= 0) throw new PlanFileError(`${source}: not a valid plan: the mtime of ${JSON.stringify(list[undated]!.path).slice(0, 200)} is not a date`);
  }
  const { integrity, signature: _signature, ...body } = plan;
  if (integrityOf(body) !== integrity) {
    throw new PlanFileError(`${source}: the plan was changed after it was made (integrity check failed); plans must be applied exactly as reviewed — make a new plan`);
  }
  return plan;
}
