import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPercent, formatRpm } from "../src/format";
import { last28 } from "../src/pages/overview-compare";
import { linePoints } from "../src/sparkline";

test("a change's percent is the API's string with a sign and %, or the word for new", () => {
  assert.equal(formatPercent("12.5", "new!"), "+12.5%");
  assert.equal(formatPercent("-66.7", "new!"), "-66.7%");
  assert.equal(formatPercent("0.0", "new!"), "0.0%");
  assert.equal(formatPercent("new", "신규"), "신규");
});

test("an RPM is shown in whole won; none without views", () => {
  assert.equal(formatRpm("4433.3333"), "₩4,433");
  assert.equal(formatRpm("1100.0"), "₩1,100");
  assert.equal(formatRpm(""), "—");
  assert.equal(formatRpm(undefined), "—");
});

test("the overview compares the 28 days ending yesterday, across a month and a leap day", () => {
  assert.deepEqual(last28("2028-03-01"), { from: "2028-02-02", to: "2028-02-29" });
  assert.deepEqual(last28("2027-01-05"), { from: "2026-12-08", to: "2027-01-04" });
});

test("a sparkline spans the box: the highest value of both ranges at the top, 0 at the bottom", () => {
  assert.equal(linePoints([0, 5, 10], 10), "0.0,31.0 60.0,16.0 120.0,1.0");
  assert.equal(linePoints([3], 0), "0.0,31.0");
  assert.equal(linePoints([], 4), "");
});
