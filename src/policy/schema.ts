import { parse } from "yaml";
import { GUARD_DEFINITIONS } from "./guards.ts";
import { SELECTORS, SELECTORS_BY_NAME } from "./selectors/registry.ts";
import type { RuleAction, SelectorDefinition } from "./selectors/selector.ts";
import { USES_SCHEMA } from "./uses.ts";
import { documented } from "./value-schemas.ts";

export const RULE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

const ACTIONS: readonly RuleAction[] = ["keep", "delete"];

const ONE_ACTION_MESSAGE = "A rule has exactly one of 'keep' or 'delete'.";

/** The keywords of a rule that say it has exactly one of keep or delete (the loader reports that itself, naming the rule). */
function exactlyOneAction(): Record<string, unknown> {
  // ajv checks these before the rule's `properties`; in strict mode a required key must be declared where it is required.
  const has = (action: RuleAction) => ({ required: [action], properties: { [action]: true } });
  return {
    // Neither: each alternative misses its key. Both: the second key is refused, where the loader points too.
    anyOf: ACTIONS.map((action) => ({ ...has(action), errorMessage: ONE_ACTION_MESSAGE })),
    if: has("keep"),
    then: { properties: { delete: false }, errorMessage: ONE_ACTION_MESSAGE },
  };
}

/** `description` for any JSON schema tool, `markdownDescription` for editors that render it (yaml-language-server prefers it). */
/** The selector's examples are whole `keep:`/`delete:` mappings; the schema offers the selector's own value from each, and one whole mapping that fits the action. */
function selectorProperty(selector: SelectorDefinition, action: RuleAction): Record<string, unknown> {
  const examples = selector.examples.map((example) => parse(example) as Record<string, unknown>);
  const values = [...new Map(examples.map((example) => [JSON.stringify(example[selector.name]), example[selector.name]])).values()];
  const property = documented(selector.description, values, selector.schema);
  const inRule = selector.examples.find((_, index) => Object.keys(examples[index]!).every((key) => SELECTORS_BY_NAME.get(key)?.allowedIn.includes(action)));
  if (inRule) property.markdownDescription = `${property.markdownDescription as string} — in a ${action} rule: \`${inRule}\``;
  return property;
}

/** A selector refused in this set when `if` its key is present: editors show `errorMessage` at the key. */
function refuseWhenPresent(name: string, partnersMissing: readonly string[], message: string): Record<string, unknown> {
  return {
    if: { required: [name], properties: { [name]: true, ...Object.fromEntries(partnersMissing.map((other) => [other, false])) } },
    then: { properties: { [name]: false }, errorMessage: message },
  };
}

/**
 * The selectors a rule of one action may use. Those whose `allowedIn` does not name it are
 * refused with the loader's hint and never offered (`doNotSuggest`); a selector that needs a
 * partner (`per` needs `newest`) is refused at its own key without one, where the loader points.
 */
function selectorSet(action: RuleAction): Record<string, unknown> {
  const allowed = SELECTORS.filter((selector) => selector.allowedIn.includes(action));
  const refused = SELECTORS.filter((selector) => !selector.allowedIn.includes(action));
  const names = new Set(allowed.map((selector) => selector.name));
  const needs = allowed.flatMap((selector) => {
    const partners = selector.needsOneOf?.filter((other) => names.has(other));
    return partners ? [refuseWhenPresent(selector.name, partners, `'${selector.name}' needs ${partners.map((other) => `'${other}'`).join(" or ")} in a ${action} rule.`)] : [];
  });
  const placements = refused.map((selector) =>
    refuseWhenPresent(selector.name, [], `'${selector.name}' can only be used in a ${selector.allowedIn[0]} rule${selector.placementHint ? `: ${selector.placementHint}` : ""}.`)
  );
  return {
    // Editors name the expected type by its title: "Incorrect type. Expected "mapping of keep-rule selectors"".
    title: `mapping of ${action}-rule selectors`,
    type: "object",
    description: `The selectors of a ${action} rule: a file is selected when all of them match.`,
    markdownDescription: `The selectors of a ${action} rule: a file is selected when **all** of them match. ${action === "keep" ? "Keep" : "Delete"} rules may use ${
      allowed.map((selector) => `\`${selector.name}\``).join(", ")
    }.`,
    minProperties: 1,
    additionalProperties: false,
    properties: Object.fromEntries([
      ...allowed.map((selector) => [selector.name, selectorProperty(selector, action)]),
      ...refused.map((selector) => [selector.name, { doNotSuggest: true, description: `Not in a ${action} rule (${selector.allowedIn[0]} rules only).` }]),
    ]),
    allOf: [...needs, ...placements],
  };
}

/**
 * The policy JSON schema, assembled from the selector registry (checked in as
 * schemas/policy.schema.json). The loader validates with it too, so what editors flag and what
 * `validate` reports come from one place.
 */
export function policySchema(): Record<string, unknown> {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "sstate-keeper policy",
    description: "Retention policy for a Yocto / OpenEmbedded / Isar sstate cache (see README).",
    type: "object",
    required: ["version", "rules"],
    additionalProperties: false,
    properties: {
      version: documented("Policy language version; this tool reads version 1.", [1], {
        const: 1,
        errorMessage: "This sstate-keeper reads policy version 1: write 'version: 1'.",
      }),
      description: documented("What the policy is for; shown in plans.", ["nightly cleanup of the CI mirror"], { type: "string" }),
      target: documented("Cache URL or path (file://, s3://, http(s):// WebDAV); --target overrides it.", ["s3://yocto-sstate/ci", "/srv/sstate-cache"], {
        type: "string",
        minLength: 1,
      }),
      guards: documented("Plan-level limits that refuse or restrain a plan.", [{ "min-age": "1h", "max-delete-percent": 60 }], {
        type: "object",
        additionalProperties: false,
        properties: Object.fromEntries(GUARD_DEFINITIONS.map((guard) => [guard.name, documented(guard.description, guard.examples, guard.schema)])),
      }),
      rules: documented(
        "Rules, each with a name and exactly one of keep or delete. A file any keep rule selects is kept; else one a delete rule selects is deleted; else it is kept.",
        [[{ name: "expire-archives", delete: { kind: "archive", "older-than": "30d" } }]],
        { type: "array", items: { $ref: "#/definitions/rule" } },
      ),
      uses: USES_SCHEMA,
    },
    definitions: {
      rule: {
        title: "rule (a mapping with name and keep or delete)",
        type: "object",
        description: "A rule: a name and exactly one of keep or delete.",
        required: ["name"],
        additionalProperties: false,
        properties: {
          name: documented("Unique rule name, shown as the reason in plans.", ["expire-archives"], {
            type: "string",
            pattern: RULE_NAME_PATTERN,
            patternErrorMessage: "A rule name is letters, digits, '.', '_' or '-', starting with a letter or digit.",
          }),
          description: documented("What the rule is for.", ["archives nobody fetched for a month"], { type: "string" }),
          ...Object.fromEntries(
            ACTIONS.map((action) => [
              action,
              documented(
                action === "keep" ? "Files these selectors select are kept, whatever a delete rule says." : "Files these selectors select are deleted, unless a keep rule selects them.",
                [action === "keep" ? { kind: "archive", newest: 1, per: ["pn", "arch", "task"] } : { kind: "archive", "older-than": "30d" }],
                { $ref: `#/definitions/${action}-selectors` },
              ),
            ]),
          ),
        },
        ...exactlyOneAction(),
      },
      ...Object.fromEntries(ACTIONS.map((action) => [`${action}-selectors`, selectorSet(action)])),
    },
  };
}
