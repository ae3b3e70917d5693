// #/webhooks: the registered endpoints (register, list, delete), each endpoint's deliveries
// and redelivering one (docs/webhooks.md).

import { getJson, sendJson } from "../../api";
import type { PageContext } from "../../context";
import { field, h, input, table } from "../../dom";
import { t, tEnum } from "../../i18n";
import type { WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint } from "../../types";
import { button, financeError, headers, named, outcome, textCell, timeCell } from "./ui";

export const EVENTS = ["month.closed", "payouts.approved", "payout.paid", "payout.failed", "adjustment.posted"];
const DELIVERY_FIELDS = ["delivery_id", "event_id", "event_type", "status", "attempts", "last_status_code", "last_error", "next_attempt_at", "delivered_at", "created_at", "actions"];

async function showDeliveries(ctx: PageContext, endpoint: WebhookEndpoint, into: HTMLElement, out: HTMLElement): Promise<void> {
  try {
    const page = await getJson<WebhookDeliveryPage>(`/v1/webhooks/endpoints/${encodeURIComponent(endpoint.endpoint_id)}/deliveries?page_size=100`);
    const row = (d: WebhookDelivery) => {
      const again = button("delivery-redeliver", t("fin.redeliver"), { "aria-label": named(t("fin.redeliver"), t("fin.deliveryN", { id: d.delivery_id })), class: "secondary" });
      again.addEventListener("click", async () => {
        again.disabled = true;
        try {
          const sent = await sendJson<WebhookDelivery>("POST", `/v1/webhooks/deliveries/${encodeURIComponent(d.delivery_id)}:redeliver`);
          await showDeliveries(ctx, endpoint, into, out);
          out.replaceChildren(h("p", { "data-testid": "redeliver-done" }, t("fin.redelivered", { id: sent.delivery_id })));
        } catch (error) {
          out.replaceChildren(financeError(error));
          again.disabled = false;
        }
      });
      return h(
        "tr",
        { "data-testid": "delivery-row", "data-delivery-id": d.delivery_id },
        textCell("delivery_id", d.delivery_id),
        textCell("event_id", d.event_id),
        textCell("event_type", d.event_type),
        textCell("status", tEnum("delivery", d.status), d.status),
        textCell("attempts", d.attempts),
        textCell("last_status_code", String(d.last_status_code || "–"), String(d.last_status_code ?? 0)),
        textCell("last_error", d.last_error || "–", d.last_error),
        timeCell(ctx, "next_attempt_at", d.next_attempt_at),
        timeCell(ctx, "delivered_at", d.delivered_at),
        timeCell(ctx, "created_at", d.created_at),
        h("td", { "data-field": "actions", "data-exact": "" }, again),
      );
    };
    into.replaceChildren(table("deliveries", t("fin.deliveriesOf", { url: endpoint.url }), headers(...DELIVERY_FIELDS), (page.deliveries ?? []).map(row)));
  } catch (error) {
    into.replaceChildren(financeError(error));
  }
}

export async function webhooksPage(ctx: PageContext): Promise<void> {
  const url = input("webhook-url", "webhook-url", "url", "", { required: true, placeholder: "https://", maxlength: 2048 });
  const secret = input("webhook-secret", "webhook-secret", "password", "", { required: true, minlength: 16, maxlength: 128, autocomplete: "new-password" });
  const boxes = EVENTS.map((e) => input(`webhook-event-${e.replace(/\./g, "-")}`, "webhook-event", "checkbox", e, { checked: true }));
  const events = h("fieldset", { class: "events" }, h("legend", {}, t("fin.events")), ...boxes.map((box) => h("span", { class: "field check" }, box, h("label", { for: box.id }, box.value))));
  const register = h("button", { type: "submit", "data-testid": "webhook-register" }, t("fin.register"));
  const form = h("form", { class: "controls" }, field(t("fin.url"), url), field(t("fin.secret"), secret), events, register);
  const out = outcome("webhook-outcome");
  const list = h("section", { class: "results" });
  const deliveries = h("section", { class: "results", "data-testid": "deliveries-section" });

  const reload = async () => {
    const answer = await getJson<{ endpoints: WebhookEndpoint[] }>("/v1/webhooks/endpoints");
    const rows = (answer.endpoints ?? []).map((e) => {
      const show = button("endpoint-deliveries", t("fin.deliveries"), { "aria-label": named(t("fin.deliveries"), e.url), class: "secondary" });
      show.addEventListener("click", () => void showDeliveries(ctx, e, deliveries, out));
      const remove = button("endpoint-delete", t("fin.delete"), { "aria-label": named(t("fin.delete"), e.url), class: "secondary" });
      remove.addEventListener("click", async () => {
        remove.disabled = true;
        try {
          await sendJson("DELETE", `/v1/webhooks/endpoints/${encodeURIComponent(e.endpoint_id)}`);
          await reload();
          deliveries.replaceChildren();
          out.replaceChildren(h("p", { "data-testid": "delete-done" }, t("fin.deleted", { url: e.url })));
        } catch (error) {
          out.replaceChildren(financeError(error));
          remove.disabled = false;
        }
      });
      return h(
        "tr",
        { "data-testid": "endpoint-row", "data-endpoint-id": e.endpoint_id },
        textCell("endpoint_id", e.endpoint_id),
        textCell("url", e.url),
        textCell("events", (e.events ?? []).join(", ")),
        timeCell(ctx, "created_at", e.created_at),
        h("td", { "data-field": "actions", "data-exact": "" }, show, " ", remove),
      );
    });
    list.replaceChildren(table("endpoints", t("fin.endpoints"), headers("endpoint_id", "url", "events", "created_at", "actions"), rows));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    register.disabled = true;
    out.replaceChildren();
    try {
      const body = { url: url.value.trim(), secret: secret.value, events: boxes.filter((b) => b.checked).map((b) => b.value) };
      const created = await sendJson<WebhookEndpoint>("POST", "/v1/webhooks/endpoints", body);
      secret.value = "";
      await reload();
      out.replaceChildren(h("p", { "data-testid": "register-done" }, t("fin.registered", { url: created.url })));
    } catch (error) {
      out.replaceChildren(financeError(error));
    } finally {
      register.disabled = false;
    }
  });
  ctx.show(h("h1", {}, t("fin.webhooksTitle")), h("section", { class: "card" }, h("h2", {}, t("fin.registerTitle")), form, out), list, deliveries);
  ctx.loading();
  await reload();
  ctx.loaded();
}
