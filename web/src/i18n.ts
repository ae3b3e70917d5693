import { ApiError } from "./api";
import type { Lang } from "./format";
import { en, ko, type MessageKey } from "./messages";

export const LANG_KEY = "paysystem.lang";
const tables: Record<Lang, Record<MessageKey, string>> = { ko, en };

let current: Lang = "ko";

export function loadLang(): Lang {
  const stored = localStorage.getItem(LANG_KEY);
  current = stored === "en" ? "en" : "ko";
  document.documentElement.lang = current;
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
}

export function lang(): Lang {
  return current;
}

export function translate(table: Record<MessageKey, string>, key: MessageKey, values: Record<string, string> = {}): string {
  return table[key].replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

export function t(key: MessageKey, values: Record<string, string> = {}): string {
  return translate(tables[current], key, values);
}

/** A label for an API enum value (PENDING, CLOSED, ...) when there is one, else the value. */
export function tEnum(prefix: string, value: string): string {
  const key = `${prefix}.${value}` as MessageKey;
  return key in tables[current] ? t(key) : value;
}

/** An error for people, in the page's language: an API error by its HTTP status (and the
 * field it names), never the server's English text inside the Korean page; in English the
 * server's words follow, as the precise reason. Other errors are the page's own messages. */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const table = tables[current];
  const fieldKey = `error.fieldName.${error.field}`;
  const field = !error.field ? "" : fieldKey in table ? t(fieldKey as MessageKey) : error.field;
  const statusKey = `error.http.${error.status}`;
  let text: string;
  if (error.status === 400 && field) text = t("error.http.400.field", { field });
  else if (statusKey in table) text = t(statusKey as MessageKey);
  else text = t("error.http.other", { status: String(error.status) });
  return current === "en" && error.message ? `${text} (${error.message})` : text;
}
