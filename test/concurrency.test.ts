import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ByteBudget, mapConcurrent } from "../src/util/concurrency.ts";

describe("ByteBudget", () => {
  it("keeps the bytes in flight within the budget, runs an oversized item alone, and admits in order", async () => {
    const budget = new ByteBudget(100);
    const sizes = [40, 40, 40, 250, 10, 10, 60, 30, 30, 90, 5];
    const running = new Set<number>();
    let peakBytes = 0;
    let peakCount = 0;
    const started: number[] = [];
    await mapConcurrent(sizes, 8, (size, index) =>
      budget.use(size, async () => {
        started.push(index);
        running.add(index);
        peakCount = Math.max(peakCount, running.size);
        peakBytes = Math.max(peakBytes, [...running].reduce((sum, i) => sum + Math.min(sizes[i]!, 100), 0));
        if (size > 100) expect(running.size).toBe(1);
        await sleep(5);
        running.delete(index);
      }));
    expect(peakBytes).toBeLessThanOrEqual(100);
    expect(peakCount).toBeGreaterThan(1);
    expect(started).toEqual(sizes.map((_, index) => index));
  });
});
