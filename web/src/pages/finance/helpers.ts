// Pure helpers of the finance pages (no DOM): idempotency keys, error codes to messages,
// the field an API error names, months. Unit-tested in test/finance.test.ts.

import type { MessageKey } from "../../messages";
import type { Closing } from "../../types";

/** 32 random hex digits (getRandomValues works on plain-HTTP origins, randomUUID does not). */
export function randomKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The Idempotency-Key of a money-moving button: a new key for each new request, the same key
 * when the same request is sent again after a failure (a lost answer must not cause a second
 * effect), and a new one once an attempt succeeded or the request changed.
 */
export class IdempotencyKeys {
  private pending: { request: string; key: string } | null = null;

  constructor(private readonly generate: () => string = randomKey) {}

  keyFor(request: string): string {
    if (this.pending?.request !== request) this.pending = { request, key: this.generate() };
    return this.pending.key;
  }

  succeeded(): void {
    this.pending = null;
  }
}

/** The message of an HTTP status the API (or Envoy) answered; 0 is a network failure. */
export function statusMessageKey(status: number): MessageKey {
  if (status === 0) return "err.network";
  if (status === 400) return "err.invalid";
  if (status === 403) return "err.forbidden";
  if (status === 404) return "err.notFound";
  if (status === 409) return "err.conflict";
  if (status === 429) return "err.busy";
  if (status >= 500) return "err.unavailable";
  return "err.other";
}

/** The field an API error names ("bank_code: must be 3 digits" -> bank_code), if any. */
export function errorField(message: string, fields: readonly string[]): { field: string; text: string } | null {
  const match = /^([a-z_]+): (.*)$/s.exec(message);
  if (!match || !fields.includes(match[1])) return null;
  return { field: match[1], text: match[2] };
}

/** The YYYY-MM before the month of a YYYY-MM-DD (the month a finance team closes next). */
export function previousMonth(isoDay: string): string {
  const [y, m] = isoDay.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

/** A query string of the non-empty values, in the given order. */
export function queryOf(values: [string, string][]): string {
  const kept = values.filter(([, v]) => v !== "");
  return kept.length ? "?" + kept.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&") : "";
}

/**
 * Tiers typed as "lower_bound=unit_price" pairs separated by commas or new lines
 * ("0=1, 1000=1.2"): the API's list, prices kept as the exact strings typed. Throws on a pair
 * that is not two numbers (the API checks the rest: order, the first bound 0, decimals).
 */
export function parseTiers(text: string): { lower_bound: string; unit_price: string }[] {
  const pairs = text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== "");
  return pairs.map((pair) => {
    const match = /^(\d+)\s*=\s*(\d+(?:\.\d+)?)$/.exec(pair);
    if (!match) throw new Error(pair);
    return { lower_bound: match[1], unit_price: match[2] };
  });
}

/** The API's tiers back as the text parseTiers reads. */
export function tiersText(tiers: { lower_bound: string; unit_price: string }[]): string {
  return tiers.map((tier) => `${tier.lower_bound}=${tier.unit_price}`).join(", ");
}

/** The bank file parts of a month: those downloaded already, and the next one when approved
 * payouts are in none yet (part 1 when the month has no file). */
export function bankFileParts(closing: Pick<Closing, "transfer_files" | "approved_not_in_file"> | undefined): string[] {
  const parts = (closing?.transfer_files ?? []).map((f) => f.part).sort((a, b) => a - b);
  if (parts.length === 0) return ["1"];
  const waiting = BigInt(closing?.approved_not_in_file || "0") > 0n;
  return [...parts, ...(waiting ? [parts[parts.length - 1] + 1] : [])].map(String);
}
