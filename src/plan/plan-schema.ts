import { PLAN_FORMAT_VERSION } from "./plan-file.ts";

const tally = { type: "object", required: ["files", "bytes"], additionalProperties: false, properties: { files: { type: "integer", minimum: 0 }, bytes: { type: "number", minimum: 0 } } };
const plannedFile = {
  type: "object",
  required: ["path", "size", "mtime", "rules", "decidedBy"],
  additionalProperties: false,
  properties: {
    path: { type: "string", minLength: 1, description: "Relative to the target root, POSIX separators." },
    size: { type: "number", minimum: 0 },
    mtime: { type: "string", format: "date-time" },
    etag: { type: "string" },
    rules: { type: "array", items: { type: "string" }, description: "Every rule that selected the file." },
    decidedBy: { type: "string", description: "The rule that decided, or @default, @min-age, @follows-archive." },
    after: { type: "string", minLength: 1, description: "The planned archive this file's deletion depends on: if that archive is not deleted, this file stays too." },
    lastUse: { type: "string", format: "date-time", description: "The latest use a log of the policy's uses: records, when later than the mtime." },
    lastUseFrom: { type: "string", minLength: 1, description: "Where that use is recorded: a log and its line, e.g. access.log.1:1234." },
  },
};

/** schemas/plan.schema.json, checked in and kept equal to this by a test. */
export function planSchema(): Record<string, unknown> {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "sstate-keeper plan",
    type: "object",
    required: ["formatVersion", "tool", "createdAt", "now", "expiresAt", "target", "policy", "listing", "summary", "guards", "refused", "delete", "integrity"],
    additionalProperties: false,
    properties: {
      formatVersion: { const: PLAN_FORMAT_VERSION },
      tool: { type: "object", required: ["name", "version"], properties: { name: { type: "string" }, version: { type: "string" } } },
      createdAt: { type: "string", format: "date-time" },
      now: { type: "string", format: "date-time" },
      expiresAt: { type: "string", format: "date-time" },
      target: { type: "string", minLength: 1, description: "Cache URL, never with credentials." },
      policy: { type: "object", required: ["path", "sha256"], properties: { path: { type: "string" }, sha256: { type: "string", pattern: "^[0-9a-f]{64}$" } } },
      listing: {
        type: "object",
        required: ["files", "bytes", "sha256"],
        properties: {
          files: { type: "integer" },
          bytes: { type: "number" },
          sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
          source: {
            type: "object",
            description: "Optional: where the listing came from when plan did not list the target (plan --listing): apply still checks every object against the live target.",
            required: ["kind", "location", "listedAt", "sha256"],
            additionalProperties: false,
            properties: {
              kind: { enum: ["saved-listing", "s3-inventory"] },
              location: { type: "string", minLength: 1, description: "The saved listing or manifest.json: a path relative to where plan ran, or an s3:// URL." },
              listedAt: { type: "string", format: "date-time", description: "When the target was listed: the saved listing's time, or the inventory's creationTimestamp." },
              sha256: { type: "string", pattern: "^[0-9a-f]{64}$", description: "sha256 of the saved listing file or of manifest.json." },
            },
          },
        },
      },
      summary: {
        type: "object",
        required: ["delete", "keep", "keepByReason", "unmanaged", "byRule"],
        properties: {
          delete: tally,
          keep: tally,
          unmanaged: tally,
          keepByReason: {
            type: "array",
            description: "Kept files by reason: each keep rule, then @min-age and @default.",
            items: {
              type: "object",
              required: ["reason", "files", "bytes"],
              properties: { reason: { type: "string" }, files: { type: "integer", minimum: 0 }, bytes: { type: "number", minimum: 0 } },
            },
          },
          warnings: {
            type: "array",
            description:
              "Optional: what the reviewer should know (a rule that can never match or matched nothing, a stamps directory or manifest naming no hash, an unclosed '[' in a glob), at its place in the policy file.",
            items: {
              type: "object",
              required: ["code", "message", "file", "line", "col", "severity"],
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                file: { type: "string" },
                line: { type: "integer", minimum: 1 },
                col: { type: "integer", minimum: 1 },
                hint: { type: "string" },
                severity: { const: "warning" },
              },
            },
          },
          byRule: {
            type: "array",
            items: {
              type: "object",
              required: ["rule", "action", "matched", "decided"],
              properties: { rule: { type: "string" }, action: { enum: ["keep", "delete"] }, matched: tally, decided: tally },
            },
          },
          budgets: {
            type: "array",
            description: "Each over-budget rule: its budget, the managed bytes before and after it, and by how much it falls short (0: it fits).",
            items: {
              type: "object",
              required: ["rule", "limitBytes", "beforeBytes", "afterBytes", "shortfallBytes"],
              properties: {
                rule: { type: "string" },
                limitBytes: { type: "number", minimum: 0 },
                beforeBytes: { type: "number", minimum: 0 },
                afterBytes: { type: "number", minimum: 0 },
                shortfallBytes: { type: "number", minimum: 0 },
              },
            },
          },
        },
      },
      guards: {
        type: "array",
        items: {
          type: "object",
          required: ["name", "limit", "value", "verdict", "message"],
          properties: { name: { type: "string" }, limit: { type: "string" }, value: { type: "string" }, verdict: { enum: ["ok", "refused"] }, message: { type: "string" } },
        },
      },
      refused: { type: "boolean" },
      delete: { type: "array", items: plannedFile },
      keep: { type: "array", items: plannedFile },
      integrity: { type: "string", pattern: "^sha256:[0-9a-f]{64}$", description: "The plan digest: sha256 over the canonical JSON of everything but itself and the signature." },
      signature: { type: "string", pattern: "^hmac-sha256:[0-9a-f]{64}$", description: "HMAC-SHA256 of the digest with the plan key (SSTATE_KEEPER_PLAN_KEY)." },
    },
  };
}
