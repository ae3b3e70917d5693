import assert from "node:assert/strict";
import { test } from "node:test";
import { HEIGHT, WIDTH, curvePath, percentOf, retentionPercents } from "../src/retention";

test("a point's percent of the views is exact to a tenth, rounded half up", () => {
  assert.equal(percentOf("3", "3"), "100.0");
  assert.equal(percentOf("0", "7"), "0.0");
  assert.equal(percentOf("1", "3"), "33.3");
  assert.equal(percentOf("2", "3"), "66.7");
  assert.equal(percentOf("1", "8"), "12.5"); // exactly 12.5
  assert.equal(percentOf("1", "16"), "6.3"); // 6.25 rounds up
  assert.equal(percentOf(1, 2000), "0.1"); // 0.05 rounds up
  assert.equal(percentOf("1", "2001"), "0.0"); // 0.049975 rounds down
  // int64 counts beyond a double's exact range stay exact
  assert.equal(percentOf("9007199254740993", "18014398509481986"), "50.0");
  assert.throws(() => percentOf("1", "0"));
});

test("the 100 points become percents; a range without views has no curve", () => {
  const points = Array.from({ length: 100 }, (_, i) => String(100 - i));
  const percents = retentionPercents({ points, views: "100" });
  assert.equal(percents.length, 100);
  assert.equal(percents[0], "100.0");
  assert.equal(percents[99], "1.0");
  assert.deepEqual(retentionPercents({ points: Array(100).fill("0"), views: "0" }), []);
  assert.deepEqual(retentionPercents({}), []);
});

test("the curve spans the box: 100% at the top, 0% at the bottom, first and last point at the edges", () => {
  assert.equal(curvePath([100, 50, 0]), `M0.0,0.0 L${(WIDTH / 2).toFixed(1)},${(HEIGHT / 2).toFixed(1)} L${WIDTH.toFixed(1)},${HEIGHT.toFixed(1)}`);
  assert.equal(curvePath([120, -5], 10, 10), "M0.0,0.0 L10.0,10.0"); // clamped to the box
  assert.equal(curvePath([]), "");
});
