import { SELECTORS } from "./selectors/registry.ts";

export const RULE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
const DURATION = { type: "string", pattern: "^([0-9]+[smhdw])+$", description: "e.g. 30d, 12h, 1w2d (units s m h d w)" };

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
        properties: {
          "min-age": { ...DURATION, description: "Never delete files younger than this (default 1h)." },
          "max-delete-percent": { type: "number", minimum: 0, maximum: 100, description: "Refuse a plan that deletes more than this percentage of the managed files." },
          "max-delete-bytes": {
            type: "string",
            pattern: "^[0-9]+(\\.[0-9]+)? ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
            description: "Refuse a plan that deletes more bytes than this, e.g. 2TiB.",
          },
          "allow-empty": { type: "boolean", description: "Allow a plan that deletes every archive (default false)." },
        },
      },
      rules: { type: "array", items: { $ref: "#/definitions/rule" } },
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
