import { GUARD_DEFINITIONS } from "./guards.ts";
import { SELECTORS } from "./selectors/registry.ts";
import { USES_SCHEMA } from "./uses.ts";

export const RULE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

/** The policy JSON schema, assembled from the selector registry (checked in as schemas/policy.schema.json). */
export function policySchema(): Record<string, unknown> {
  const selectorProperties = Object.fromEntries(
    SELECTORS.map((s) => [s.name, { ...s.schema, description: `${s.description}${s.allowedIn.length === 1 ? ` (${s.allowedIn[0]} rules only)` : ""}` }]),
  );
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "sstate-keeper policy",
    description: "Retention policy for a Yocto / OpenEmbedded / Isar sstate cache (see README).",
    type: "object",
    required: ["version", "rules"],
    additionalProperties: false,
    properties: {
      version: { const: 1, description: "Policy language version; this tool reads version 1." },
      description: { type: "string" },
      target: { type: "string", minLength: 1, description: "Cache URL or path (file://, s3://, http(s):// WebDAV); --target overrides it." },
      guards: {
        type: "object",
        additionalProperties: false,
        properties: Object.fromEntries(GUARD_DEFINITIONS.map((guard) => [guard.name, { ...guard.schema, description: guard.description }])),
      },
      rules: { type: "array", items: { $ref: "#/definitions/rule" } },
      uses: USES_SCHEMA,
    },
    definitions: {
      rule: {
        type: "object",
        required: ["name"],
        additionalProperties: false,
        properties: {
          name: { type: "string", pattern: RULE_NAME_PATTERN, description: "Unique rule name, shown as the reason in plans." },
          description: { type: "string" },
          keep: { $ref: "#/definitions/selectors" },
          delete: { $ref: "#/definitions/selectors" },
        },
      },
      selectors: { type: "object", additionalProperties: false, properties: selectorProperties },
    },
  };
}
