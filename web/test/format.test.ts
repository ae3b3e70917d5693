import assert from "node:assert/strict";
import { test } from "node:test";
import {
  addDecimals,
  dayIn,
  formatClock,
  formatCount,
  formatDay,
  formatDuration,
  formatKrw,
  formatPeriod,
  formatPeriodShort,
  formatTimestamp,
  monthsBefore,
  periodStart,
  weekStart,
  wholeWon,
} from "../src/format";

test("KRW for people: whole won, truncated toward zero, digits grouped", () => {
  assert.equal(formatKrw("14650.4"), "₩14,650");
  assert.equal(formatKrw("14650.9999999"), "₩14,650");
  assert.equal(formatKrw("0"), "₩0");
  assert.equal(formatKrw("0.75"), "₩0");
  assert.equal(formatKrw("999"), "₩999");
  assert.equal(formatKrw("1000"), "₩1,000");
  assert.equal(formatKrw("1234567.000"), "₩1,234,567");
  assert.equal(formatKrw("007.5"), "₩7");
});

test("negative amounts keep their sign; a negative fraction of a won shows as ₩0", () => {
  assert.equal(formatKrw("-1234.9"), "-₩1,234");
  assert.equal(formatKrw("-0.5"), "₩0");
  assert.equal(formatKrw("-0"), "₩0");
  assert.equal(wholeWon("-0.5"), "0");
  assert.equal(wholeWon("-12.5"), "-12");
});

test("values beyond 2^53 stay exact (no floating point)", () => {
  assert.equal(formatKrw("9007199254740993.5"), "₩9,007,199,254,740,993");
  assert.equal(formatKrw("-123456789012345678901234567890.123456"), "-₩123,456,789,012,345,678,901,234,567,890");
  assert.equal(formatCount("9223372036854775807"), "9,223,372,036,854,775,807");
  assert.equal(addDecimals("9007199254740993.25", "0.75"), "9007199254740994");
  assert.equal(addDecimals("0.1", "0.2"), "0.3");
  assert.equal(addDecimals("-5.5", "2.25"), "-3.25");
  assert.equal(addDecimals("1", "-1"), "0");
});

test("anything that is not an exact decimal string is refused, not guessed", () => {
  for (const bad of ["", "1e5", "12,000", "abc", "1.2.3", "NaN"]) {
    assert.throws(() => formatKrw(bad), /not an exact decimal/);
  }
});

test("watch time as h:mm:ss and in words", () => {
  assert.equal(formatClock("0"), "0:00:00");
  assert.equal(formatClock("59"), "0:00:59");
  assert.equal(formatClock("3725"), "1:02:05");
  assert.equal(formatClock("36000000"), "10,000:00:00");
  assert.equal(formatClock("92233720368547758"), "25,620,477,880,152:09:18");
  assert.equal(formatDuration("11040", "ko"), "3시간 4분");
  assert.equal(formatDuration("11040", "en"), "3 h 4 min");
  assert.equal(formatDuration("300", "ko"), "5분");
  assert.equal(formatDuration("59", "en"), "0 min");
});

test("the day of an instant in Asia/Seoul across UTC midnight", () => {
  // 15:00 UTC is midnight in Seoul (UTC+9, no daylight saving time).
  assert.equal(dayIn("Asia/Seoul", new Date("2026-11-30T14:59:59Z")), "2026-11-30");
  assert.equal(dayIn("Asia/Seoul", new Date("2026-11-30T15:00:00Z")), "2026-12-01");
  assert.equal(dayIn("UTC", new Date("2026-11-30T15:00:00Z")), "2026-11-30");
  // New year in Seoul while it is still the old year in UTC.
  assert.equal(dayIn("Asia/Seoul", new Date("2026-12-31T15:30:00Z")), "2027-01-01");
});

test("timestamps are shown in the platform time zone", () => {
  const text = formatTimestamp("2026-11-30T15:30:00Z", "Asia/Seoul", "en");
  assert.match(text, /12\/01\/2026/);
  assert.match(text, /00:30:00/);
  const ko = formatTimestamp("2026-11-30T15:30:00Z", "Asia/Seoul", "ko");
  assert.match(ko, /2026\. 12\. 01\./);
  assert.match(ko, /00:30:00/);
  assert.match(formatTimestamp("2026-11-30T15:30:00Z", "UTC", "en"), /11\/30\/2026.*15:30:00/);
});

test("a local day is shown as that day, whatever the viewer's own zone", () => {
  assert.match(formatDay("2026-12-01", "en"), /Dec 1, 2026/);
  assert.match(formatDay("2026-12-01", "ko"), /2026년 12월 1일/);
});

test("periods start where the API's period_start does: ISO weeks on Monday, months on the 1st", () => {
  assert.equal(weekStart("2026-11-29"), "2026-11-23"); // a Sunday belongs to the week of the Monday before
  assert.equal(weekStart("2026-11-30"), "2026-11-30"); // a Monday starts its own week
  assert.equal(weekStart("2026-01-01"), "2025-12-29"); // weeks cross years
  assert.equal(periodStart("WEEKLY", "2026-12-02"), "2026-11-30");
  assert.equal(periodStart("MONTHLY", "2026-12-31"), "2026-12-01");
  assert.equal(periodStart("DAILY", "2026-12-31"), "2026-12-31");
  assert.equal(formatPeriod("MONTHLY", "2026-11-01", "2026-11-30", "en"), "November 2026");
  assert.equal(formatPeriod("MONTHLY", "2026-11-01", "2026-11-30", "ko"), "2026년 11월");
  assert.match(formatPeriod("WEEKLY", "2026-11-23", "2026-11-29", "en"), /Nov 23, 2026.*Nov 29, 2026/);
  assert.equal(monthsBefore("2026-03", 11), "2025-04");
  assert.equal(monthsBefore("2026-12-02", 0), "2026-12");
});

test("short axis labels of periods", () => {
  assert.equal(formatPeriodShort("DAILY", "2026-11-03", "en"), "11/3");
  assert.equal(formatPeriodShort("MONTHLY", "2026-11-01", "en"), "11/2026");
  assert.match(formatPeriodShort("DAILY", "2026-11-03", "ko"), /11\. 3\./);
});
