import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { utf8Pieces } from "../src/cli/views/output.ts";

describe("utf8Pieces", () => {
  const line = (i: number) => `    {"path":"${(i % 256).toString(16).padStart(2, "0")}/sstate:caf\u00e9-${i}:core2-64:\u4e2d:${"f".repeat(64)}_package.tar.zst","size":${i}},\n`;
  it.each([
    ["no chunks", []],
    ["one short chunk", ["{}\n"]],
    ["plan lines with multibyte characters across many pieces", Array.from({ length: 20_000 }, (_, i) => line(i))],
    ["a chunk bigger than a piece, between small ones", ["[", "\u{1f600}".repeat(400_000), "]"]],
  ])("%s: the bytes are the chunks' UTF-8, in pieces of at most 1 MiB unless one chunk is bigger", (_, chunks) => {
    const pieces = [...utf8Pieces(chunks)];
    expect(Buffer.concat(pieces).toString("utf8")).toBe(chunks.join(""));
    for (const piece of pieces) expect(piece.length <= 1 << 20 || chunks.some((chunk) => Buffer.byteLength(chunk) === piece.length)).toBe(true);
    expect(pieces.every((piece) => piece.length > 0)).toBe(true);
  });
});
