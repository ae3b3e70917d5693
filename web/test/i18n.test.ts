import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "../src/i18n";
import { en, ko, type MessageKey } from "../src/messages";

test("Korean and English have the same keys", () => {
  assert.deepEqual(Object.keys(en).sort(), Object.keys(ko).sort());
});

test("every message is filled in, and both languages use the same placeholders", () => {
  for (const key of Object.keys(ko) as MessageKey[]) {
    assert.ok(ko[key].trim(), `ko ${key} is empty`);
    assert.ok(en[key].trim(), `en ${key} is empty`);
    const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(names(en[key]), names(ko[key]), key);
  }
});

test("the expiry message is the contract's text in both languages", () => {
  assert.equal(ko["signin.expired"], "세션이 만료되었습니다. 다시 로그인하세요.");
  assert.equal(en["signin.expired"], "Your session has expired. Please sign in again.");
  assert.equal(translate(en, "signin.failed", { message: "bad password" }), "Could not sign in: bad password");
});
