import assert from "node:assert/strict";
import { test } from "node:test";
import { bankFileParts, errorField, IdempotencyKeys, parseTiers, previousMonth, queryOf, randomKey, statusMessageKey, tiersText } from "../src/pages/finance/helpers";

test("a retried request reuses its Idempotency-Key; a new or changed request gets a new one", () => {
  let n = 0;
  const keys = new IdempotencyKeys(() => `k${++n}`);
  assert.equal(keys.keyFor("POST /close {2026-10}"), "k1");
  assert.equal(keys.keyFor("POST /close {2026-10}"), "k1"); // retried after a failure
  assert.equal(keys.keyFor("POST /close {2026-11}"), "k2"); // another request
  keys.succeeded();
  assert.equal(keys.keyFor("POST /close {2026-11}"), "k3"); // a new click after a success
});

test("random keys are 32 hex digits and differ", () => {
  const a = randomKey();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, randomKey());
});

test("each HTTP status has its message", () => {
  assert.equal(statusMessageKey(0), "err.network");
  assert.equal(statusMessageKey(400), "err.invalid");
  assert.equal(statusMessageKey(403), "err.forbidden");
  assert.equal(statusMessageKey(404), "err.notFound");
  assert.equal(statusMessageKey(409), "err.conflict");
  assert.equal(statusMessageKey(429), "err.busy");
  assert.equal(statusMessageKey(503), "err.unavailable");
  assert.equal(statusMessageKey(418), "err.other");
});

test("an API error names its field only when it is one of the form's", () => {
  assert.deepEqual(errorField("bank_code: must be 3 digits", ["bank_code"]), { field: "bank_code", text: "must be 3 digits" });
  assert.equal(errorField("bank_code: must be 3 digits", ["legal_name"]), null);
  assert.equal(errorField("no field here", ["bank_code"]), null);
});

test("the month before, across a year", () => {
  assert.equal(previousMonth("2026-12-07"), "2026-11");
  assert.equal(previousMonth("2027-01-01"), "2026-12");
});

test("a query string keeps the non-empty values, encoded", () => {
  assert.equal(queryOf([["status", ""], ["page_size", "50"], ["action", "payout.mark"], ["page_token", "a b"]]), "?page_size=50&action=payout.mark&page_token=a%20b");
  assert.equal(queryOf([["status", ""]]), "");
});

test("tiers typed as pairs keep the exact prices, and back", () => {
  const tiers = parseTiers("0=1, 1000=1.2\n5000 = 0.7321");
  assert.deepEqual(tiers, [
    { lower_bound: "0", unit_price: "1" },
    { lower_bound: "1000", unit_price: "1.2" },
    { lower_bound: "5000", unit_price: "0.7321" },
  ]);
  assert.equal(tiersText(tiers), "0=1, 1000=1.2, 5000=0.7321");
  assert.throws(() => parseTiers("0=1, x=2"), /x=2/);
});

test("the bank file parts: part 1 before any download, then the files and the next part when payouts wait", () => {
  const file = (part: number) => ({ part, sha256: "", rows: "1", total_krw: "1", created_by: "1", filename: "" });
  assert.deepEqual(bankFileParts(undefined), ["1"]);
  assert.deepEqual(bankFileParts({ transfer_files: [], approved_not_in_file: "3" }), ["1"]);
  assert.deepEqual(bankFileParts({ transfer_files: [file(2), file(1)], approved_not_in_file: "0" }), ["1", "2"]);
  assert.deepEqual(bankFileParts({ transfer_files: [file(1)], approved_not_in_file: "2" }), ["1", "2"]);
});
