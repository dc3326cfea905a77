/**
 * Schema fragments of the values policies write in units, and the annotation keywords the
 * editor schema carries for yaml-language-server. The loader validates with the same schema.
 */
import { DURATION_HELP, DURATION_PATTERN, SIZE_HELP, SIZE_PATTERN } from "../util/units.ts";

/**
 * Annotations yaml-language-server reads (hover and completion text, its own messages for a
 * wrong type or a pattern that does not match); ajv knows them as keywords without meaning.
 */
export const EDITOR_KEYWORDS = ["markdownDescription", "enumDescriptions", "markdownEnumDescriptions", "errorMessage", "patternErrorMessage", "doNotSuggest"] as const;

/** Editors show `errorMessage` for a value of the wrong type (a bare number, most often) and `patternErrorMessage` for text that is not a duration. */
export const DURATION_SCHEMA: Record<string, unknown> = {
  type: "string",
  pattern: DURATION_PATTERN,
  errorMessage: `Expected ${DURATION_HELP}; a bare number has no unit (write 30d, not 30).`,
  patternErrorMessage: `Not ${DURATION_HELP}.`,
};

export const SIZE_SCHEMA: Record<string, unknown> = {
  type: "string",
  pattern: SIZE_PATTERN,
  errorMessage: `Expected ${SIZE_HELP}; a bare number has no unit (write 500MB, not 500).`,
  patternErrorMessage: `Not ${SIZE_HELP}.`,
};

/** A value with several documented choices: completion and hover show each choice's description. */
export function documentedEnum(values: readonly string[], describe: (value: string) => string): Record<string, unknown> {
  const descriptions = values.map(describe);
  return { type: "string", enum: [...values], enumDescriptions: descriptions, markdownEnumDescriptions: descriptions };
}

/** A key editors describe on hover and complete with examples. */
export function documented(description: string, examples: readonly unknown[], schema: Record<string, unknown> = {}): Record<string, unknown> {
  const shownExamples = examples.map((example) => `\`${typeof example === "string" ? example : JSON.stringify(example)}\``).join(", ");
  return { ...schema, description, markdownDescription: `${description}\n\nExample: ${shownExamples}`, examples: [...examples] };
}
