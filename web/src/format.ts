// Formatting for people: money, counts, watch time, dates. Exact values arrive as decimal
// strings and are never turned into floating-point numbers here: whole won are cut from the
// string (truncated toward zero, the rule the API's payable_krw uses) and digits are grouped
// by string operations, so any size is shown exactly.

export type Lang = "ko" | "en";

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

interface Decimal {
  negative: boolean;
  whole: string; // digits, no leading zeros (except "0")
  fraction: string; // digits, may be empty
}

export function parseDecimal(exact: string): Decimal {
  const match = DECIMAL.exec(exact.trim());
  if (!match) throw new Error(`not an exact decimal: ${JSON.stringify(exact)}`);
  const whole = match[2].replace(/^0+(?=\d)/, "");
  const fraction = (match[3] ?? "").replace(/0+$/, "");
  const zero = whole === "0" && fraction === "";
  return { negative: match[1] === "-" && !zero, whole, fraction };
}

/** "1234567" -> "1,234,567" (digits only). */
export function groupDigits(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Whole won of an exact amount, truncated toward zero: "14650.9" -> "14650", "-0.5" -> "0". */
export function wholeWon(exact: string): string {
  const d = parseDecimal(exact);
  if (d.whole === "0") return "0";
  return (d.negative ? "-" : "") + d.whole;
}

/** An exact KRW amount for people: "14650.4" -> "₩14,650", "-1234.9" -> "-₩1,234". */
export function formatKrw(exact: string): string {
  const won = wholeWon(exact);
  const negative = won.startsWith("-");
  return (negative ? "-" : "") + "₩" + groupDigits(negative ? won.slice(1) : won);
}

/** An exact integer (int64 as a JSON string) with grouped digits: "1234567" -> "1,234,567". */
export function formatCount(exact: string): string {
  const d = parseDecimal(exact);
  return (d.negative ? "-" : "") + groupDigits(d.whole) + (d.fraction ? "." + d.fraction : "");
}

/** An RPM (exact decimal string; "" when there were no views) for people: whole won, or "—". */
export function formatRpm(exact: string | undefined): string {
  return exact ? formatKrw(exact) : "—";
}

/** A change's percent from the API ("12.5", "-3.0", "0.0" or "new") for people: "+12.5%",
 * "-3.0%", "0.0%", or `newLabel`. The API rounded it; nothing is computed here. */
export function formatPercent(percent: string, newLabel: string): string {
  if (percent === "new") return newLabel;
  if (percent.startsWith("-") || percent === "0.0") return `${percent}%`;
  return `+${percent}%`;
}

/** Exact sum of decimal strings (BigInt on a common scale), as a decimal string. */
export function addDecimals(...values: string[]): string {
  const parsed = values.map(parseDecimal);
  const scale = Math.max(0, ...parsed.map((d) => d.fraction.length));
  let total = 0n;
  for (const d of parsed) {
    const units = BigInt(d.whole + d.fraction.padEnd(scale, "0"));
    total += d.negative ? -units : units;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale ? digits.slice(digits.length - scale).replace(/0+$/, "") : "";
  return (negative ? "-" : "") + whole + (fraction ? "." + fraction : "");
}

/** Watch time in seconds (int64 string) as h:mm:ss: "3725" -> "1:02:05". */
export function formatClock(secondsExact: string): string {
  const total = BigInt(wholeWon(secondsExact));
  const negative = total < 0n;
  const s = negative ? -total : total;
  const hours = s / 3600n;
  const minutes = (s % 3600n) / 60n;
  const seconds = s % 60n;
  const two = (n: bigint) => n.toString().padStart(2, "0");
  return `${negative ? "-" : ""}${groupDigits(hours.toString())}:${two(minutes)}:${two(seconds)}`;
}

/** Watch time in words, to the minute: "11040" -> "3시간 4분" / "3 h 4 min". */
export function formatDuration(secondsExact: string, lang: Lang): string {
  const s = BigInt(wholeWon(secondsExact));
  const hours = s / 3600n;
  const minutes = (s % 3600n) / 60n;
  const h = groupDigits(hours.toString());
  if (lang === "ko") return hours > 0n ? `${h}시간 ${minutes}분` : `${minutes}분`;
  return hours > 0n ? `${h} h ${minutes} min` : `${minutes} min`;
}

const locales: Record<Lang, string> = { ko: "ko-KR", en: "en-US" };

function utcDate(iso: string): Date {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

/** A local day (YYYY-MM-DD, already a day of the platform time zone) for people. */
export function formatDay(iso: string, lang: Lang): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locales[lang], { timeZone: "UTC", year: "numeric", month: "short", day: "numeric", weekday: "short" }).format(utcDate(iso));
}

/** A month (YYYY-MM or a day in it) for people: "2026년 11월" / "Nov 2026". */
export function formatMonth(iso: string, lang: Lang): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locales[lang], { timeZone: "UTC", year: "numeric", month: "long" }).format(utcDate(iso.length === 7 ? iso + "-01" : iso));
}

/** An instant (RFC 3339) in the platform time zone; "" for none (the API leaves an unset one out). */
export function formatTimestamp(rfc3339: string | undefined, timeZone: string, lang: Lang): string {
  if (!rfc3339) return "";
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return new Intl.DateTimeFormat(locales[lang], {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

/** The day (YYYY-MM-DD) an instant falls on in a time zone. */
export function dayIn(timeZone: string, instant: Date): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** Days added to a YYYY-MM-DD (calendar arithmetic, no time zone involved). */
export function addDays(iso: string, days: number): string {
  const date = utcDate(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The Monday of a day's ISO week (the API's WEEKLY period_start). */
export function weekStart(iso: string): string {
  const weekday = (utcDate(iso).getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  return addDays(iso, -weekday);
}

/** The first day of a day's month (the API's MONTHLY period_start). */
export function monthStart(iso: string): string {
  return iso.slice(0, 8) + "01";
}

/** The first day of the period a day belongs to, as the API computes period_start. */
export function periodStart(period: string, iso: string): string {
  if (period === "WEEKLY") return weekStart(iso);
  if (period === "MONTHLY") return monthStart(iso);
  return iso;
}

/** A period (its API period_start and period_end) for people. */
export function formatPeriod(period: string, start: string, end: string, lang: Lang): string {
  if (period === "MONTHLY") return formatMonth(start, lang);
  if (period === "WEEKLY") return `${formatDay(start, lang)} – ${formatDay(end, lang)}`;
  return formatDay(start, lang);
}

/** The YYYY-MM a number of months before a YYYY-MM(-DD). */
export function monthsBefore(iso: string, months: number): string {
  const [y, m] = iso.split("-").map(Number);
  const index = y * 12 + (m - 1) - months;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** A short label of a period for a chart's axis: "11. 3." / "11/3", months "2026. 11." / "11/2026". */
export function formatPeriodShort(period: string, start: string, lang: Lang): string {
  if (!start) return "";
  const options: Intl.DateTimeFormatOptions = period === "MONTHLY" ? { timeZone: "UTC", year: "numeric", month: "numeric" } : { timeZone: "UTC", month: "numeric", day: "numeric" };
  return new Intl.DateTimeFormat(locales[lang], options).format(utcDate(start));
}

/** How much of a period the batch has computed, from the answer's data_through (its last
 * computed day, "" for none): "done" (every day), "partial" (the current week or month:
 * some days) or "pending" (none: today, a future day; its zeros mean "not computed yet"). */
export function periodState(start: string, end: string, dataThrough: string): "done" | "partial" | "pending" {
  if (!dataThrough || dataThrough < start) return "pending";
  return dataThrough < end ? "partial" : "done";
}
