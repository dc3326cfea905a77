import { Buffer } from "node:buffer";

/** Where a secret that a component learns (a netrc password, an Authorization value) is registered so that it is never printed. */
export interface SecretSink {
  add(secret: string | undefined): void;
}

/** Secrets shorter than this are not masked as text: masking a two-letter word would garble every message. */
const MIN_SECRET_LENGTH = 4;
const MASK = "***";

/** Environment variables whose values are secrets, whatever they hold. */
const SECRET_VARIABLE = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|_KEY$|^SSTATE_KEEPER_PLAN_KEY$)/i;

/**
 * `scheme://user:password@host` and `scheme://user@host`: the userinfo is masked wherever a URL
 * appears, whether the user typed it, a policy held it or a server echoed it.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
/**
 * Credential-bearing headers as servers reflect them in error bodies, `name: value` or
 * `name=value` (an Authorization value may have a scheme word before its token).
 */
const CREDENTIAL_HEADER =
  /\b(authorization|proxy-authorization|x-amz-security-token|x-amz-credential|x-amz-signature|cookie|set-cookie)(["']?\s*[:=]\s*["']?)((?:basic|bearer|digest|aws4-hmac-sha256)\s+)?[^\s"'<>&,;]+/gi;
/** `name=value` as in query strings and signed headers (`Signature=…`, `X-Amz-Security-Token=…`, `password=…`). */
const CREDENTIAL_PARAMETER = /\b(signature|credential|password|passwd|secret|token|x-amz-security-token)=[^\s"'<>&,;]+/gi;

/**
 * Masks credentials in any text before it is printed or written: the known secret values (and
 * their base64 and percent-encoded forms, as they travel in headers and URLs), URL userinfo,
 * and credential-bearing fields.
 */
export class Redactor implements SecretSink {
  readonly #secrets = new Set<string>();

  /** Every secret-named variable of the environment (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, SSTATE_KEEPER_WEBDAV_PASSWORD …). */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): Redactor {
    const redactor = new Redactor();
    for (const [name, value] of Object.entries(env)) if (SECRET_VARIABLE.test(name) && !/ACCESS_KEY_ID$/i.test(name)) redactor.add(value);
    return redactor;
  }

  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return;
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]) this.#secrets.add(form);
  }

  redact(text: string): string {
    return maskCredentialText(this.redactKnown(text));
  }

  /** Only the known secret values: one literal search each. */
  redactKnown(text: string): string {
    let out = text;
    // Longest first: a secret that contains another is masked whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }
}

/** The masking that needs no known secret: URL userinfo and credential-bearing fields. */
export function maskCredentialText(text: string): string {
  return text
    .replace(URL_USERINFO, `$1${MASK}@`)
    .replace(CREDENTIAL_HEADER, (_whole, name: string, separator: string, scheme: string | undefined) => `${name}${separator}${scheme ?? ""}${MASK}`)
    .replace(CREDENTIAL_PARAMETER, (_whole, name: string) => `${name}=${MASK}`);
}
