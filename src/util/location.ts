/** A target or evidence location with a scheme (`s3://`, `https://`, `file://` …); anything else is a local path. */
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The location's scheme in lower case, or undefined for a local path. */
export function schemeOf(location: string): string | undefined {
  return URL_SCHEME.exec(location)?.[1]!.toLowerCase();
}

export function isUrlLocation(location: string): boolean {
  return URL_SCHEME.test(location);
}
