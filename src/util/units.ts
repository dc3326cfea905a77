/** Durations (`30d`, `12h`, `1w2d`) and sizes (`500MB`, `2TiB`) as written in policies. */

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** The one pattern of a duration: the parser's and the JSON schema's. */
export const DURATION_PATTERN = "^(?:[0-9]+[smhdw])+$";
const DURATION = new RegExp(DURATION_PATTERN);
const DURATION_PART = /([0-9]+)([smhdw])/g;

export const DURATION_HELP = "a duration such as 30d, 12h or 1w2d (units s m h d w)";

/** Milliseconds, or undefined when the text is not a duration (a bare number is not). */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * DURATION_UNITS[unit!]!;
  return total;
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};
/** The one pattern of a size: the parser's and the JSON schema's. */
export const SIZE_PATTERN = "^([0-9]+(?:\\.[0-9]+)?) ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$";
const SIZE = new RegExp(SIZE_PATTERN);

export const SIZE_HELP = "a size such as 500MB or 2TiB (units B KB MB GB TB, KiB MiB GiB TiB)";

export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!]!);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.length ? parts.slice(0, 2).join("") : "0s";
}

/** For a value written as a bare number where a duration or a size is needed. */
export function bareNumberHint(unit: "duration" | "size", value: unknown): string | undefined {
  if (typeof value !== "number") return undefined;
  return unit === "duration" ? `a bare number has no unit: write e.g. ${value}d or ${value}h` : `a bare number has no unit: write e.g. ${value}MB or ${value}GiB`;
}
