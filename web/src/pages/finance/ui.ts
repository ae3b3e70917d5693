// DOM plumbing shared by the finance pages: localized errors by status, money cells, the
// buttons that send a money-moving request with its Idempotency-Key.

import { ApiError, sendJson } from "../../api";
import type { PageContext } from "../../context";
import { figure, h } from "../../dom";
import { formatKrw, formatTimestamp } from "../../format";
import { t } from "../../i18n";
import type { MessageKey } from "../../messages";
import { IdempotencyKeys, statusMessageKey } from "./helpers";

/**
 * An API failure as a localized sentence (by its HTTP status) followed by the API's own
 * message; `refusalKey` replaces the generic 403 sentence where a page knows why (self-approval).
 */
export function financeError(error: unknown, refusalKey?: MessageKey): HTMLElement {
  const status = error instanceof ApiError ? error.status : -1;
  const message = error instanceof Error ? error.message : String(error);
  const key = status === 403 && refusalKey ? refusalKey : status >= 0 ? statusMessageKey(status) : "err.other";
  return h(
    "p",
    { "data-testid": status === 403 ? "refusal" : "error", "data-status": String(status), class: status === 403 ? "refusal" : "error", role: "alert" },
    `${t(key)} (${message})`,
  );
}

/** A cell of whole or exact KRW, readable as text, exact in data-exact. */
export function krwCell(field: string, exact: string | undefined): HTMLElement {
  return figure("td", exact === undefined || exact === "" ? "–" : formatKrw(exact), exact, { "data-field": field });
}

export function textCell(field: string, text: string, exact?: string): HTMLElement {
  return figure("td", text, exact ?? text, { "data-field": field });
}

export function timeCell(ctx: PageContext, field: string, rfc3339: string | undefined): HTMLElement {
  return figure("td", rfc3339 ? formatTimestamp(rfc3339, ctx.config.time_zone, ctx.lang) : "–", rfc3339, { "data-field": field });
}

export function headers(...fields: string[]): string[] {
  return fields.map((f) => t(`fin.${f}` as MessageKey));
}

/**
 * Wires a button to a money-moving POST: one Idempotency-Key per request (reused when the same
 * request is retried after a failure), the button disabled while it runs, the outcome in `out`.
 */
export function keyedAction<T>(
  button: HTMLButtonElement,
  out: HTMLElement,
  request: () => { method?: "POST" | "PUT"; path: string; body: unknown },
  done: (answer: T) => Promise<void> | void,
  refusalKey?: MessageKey,
): void {
  const keys = new IdempotencyKeys();
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    button.disabled = true;
    out.replaceChildren();
    try {
      const { method = "POST", path, body } = request();
      const key = keys.keyFor(`${method} ${path} ${JSON.stringify(body)}`);
      const answer = await sendJson<T>(method, path, body, { "Idempotency-Key": key });
      keys.succeeded();
      await done(answer);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) out.replaceChildren(financeError(error, refusalKey));
    } finally {
      button.disabled = false;
    }
  });
}

/** A button's accessible name: its visible label first (WCAG 2.5.3), then what it acts on. */
export function named(label: string, target: string): string {
  return `${label} – ${target}`;
}

export function button(testid: string, label: string, attrs: Record<string, string> = {}): HTMLButtonElement {
  return h("button", { type: "button", "data-testid": testid, ...attrs }, label);
}

/** A live region for an action's outcome (errors, confirmations). */
export function outcome(testid: string): HTMLElement {
  return h("div", { "data-testid": testid, role: "status", "aria-live": "polite" });
}

/** A results loader whose failures become localized errors in place (a 401 or 403 still ends the page). */
export function guarded(draw: () => Promise<(Node | string)[]>): () => Promise<(Node | string)[]> {
  return async () => {
    try {
      return await draw();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) throw error;
      return [financeError(error)];
    }
  };
}
