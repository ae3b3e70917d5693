// A day field in the page's language, not the browser's: Chromium draws <input type=date> in
// its own locale (mm/dd/yyyy in an English browser even on the Korean page), so the field is
// a text input in the page's format (Korean "2026. 12. 07.", English ISO "2026-12-07") that
// also reads ISO and loose forms, with a button that opens the browser's calendar.

import { h } from "./dom";
import type { Lang } from "./format";
import { t } from "./i18n";

const LOOSE = /^\s*(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\s*\.?\s*$/;

/** A typed day as YYYY-MM-DD: "2026. 12. 7.", "2026-12-07", "2026/12/07"; "" for anything
 * that is not a real calendar day (the form then refuses it before any request). */
export function parseDayText(text: string): string {
  const match = LOOSE.exec(text);
  if (!match) return "";
  const [y, m, d] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return "";
  return date.toISOString().slice(0, 10);
}

/** A YYYY-MM-DD as the field shows it in a language. */
export function formatDayText(iso: string, lang: Lang): string {
  if (!iso) return "";
  const [y, m, d] = iso.split("-");
  return lang === "ko" ? `${y}. ${m}. ${d}.` : iso;
}

export interface DayInput {
  /** The text field (its id and data-testid are the ones given). */
  input: HTMLInputElement;
  /** The field with its calendar button, to put in the form. */
  node: HTMLElement;
  /** The day as YYYY-MM-DD ("" when empty or not a day). */
  day(): string;
  set(iso: string): void;
}

export function dayInput(id: string, testid: string, iso: string, lang: Lang, required = false): DayInput {
  const placeholder = lang === "ko" ? "yyyy. mm. dd." : "yyyy-mm-dd";
  const input = h("input", { id, name: id, "data-testid": testid, type: "text", inputmode: "numeric", autocomplete: "off", placeholder, required, lang, class: "day-text" });
  input.value = formatDayText(iso, lang);
  // The browser's own calendar, reached through the button only (hidden from the reading
  // order and from assistive technology, which use the text field).
  const calendar = h("input", { type: "date", tabindex: -1, "aria-hidden": "true", class: "day-calendar", "aria-label": placeholder });
  const button = h("button", { type: "button", class: "secondary day-button", "aria-label": t("common.calendar"), title: t("common.calendar") }, "📅");
  const check = () => input.setCustomValidity(input.value.trim() && !parseDayText(input.value) ? t("common.badDay", { format: placeholder }) : "");
  input.addEventListener("input", check);
  input.addEventListener("blur", () => {
    const day = parseDayText(input.value);
    if (day) input.value = formatDayText(day, lang); // typed loosely or as ISO: shown the page's way
    check();
  });
  button.addEventListener("click", () => {
    calendar.value = parseDayText(input.value);
    try {
      calendar.showPicker();
    } catch {
      calendar.focus(); // an older browser: the date field itself
    }
  });
  calendar.addEventListener("change", () => {
    input.value = formatDayText(calendar.value, lang);
    check();
    input.focus();
  });
  return {
    input,
    node: h("span", { class: "day-input" }, input, button, calendar),
    day: () => parseDayText(input.value),
    set: (day: string) => {
      input.value = formatDayText(day, lang);
      check();
    },
  };
}

/** A labelled day field (the label names the text field). */
export function dayField(label: string, control: DayInput): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: control.input.id }, label), control.node);
}
