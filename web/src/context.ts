import { ApiError, getBlob } from "./api";
import { download, h } from "./dom";
import { errorText, lang, t } from "./i18n";
import type { Session } from "./session";

export interface AppConfig {
  time_zone: string;
  api_base: string;
}

/** What a page gets: where to draw, who is signed in, which seller, the platform's zone. */
export class PageContext {
  constructor(
    readonly main: HTMLElement,
    readonly session: Session,
    readonly sellerId: string,
    readonly config: AppConfig,
    private readonly isCurrent: () => boolean,
  ) {}

  get lang() {
    return lang();
  }

  get locale(): string {
    return this.lang === "ko" ? "ko-KR" : "en-US";
  }

  /** Replaces the page's content and marks it loaded (unless a newer page took over). */
  show(...nodes: Node[]): void {
    if (!this.isCurrent()) return;
    this.main.replaceChildren(...nodes);
    this.main.removeAttribute("data-loading");
  }

  loading(): void {
    this.main.setAttribute("data-loading", "true");
  }

  loaded(): void {
    if (this.isCurrent()) this.main.removeAttribute("data-loading");
  }

  current(): boolean {
    return this.isCurrent();
  }

  /**
   * Wires a page's query form: on submit (and now), `draw` fetches and returns the nodes shown
   * in `results`; a failure is shown there (a refusal replaces the whole page).
   */
  async query(form: HTMLFormElement, results: HTMLElement, draw: () => Promise<(Node | string)[]>): Promise<void> {
    const load = async () => {
      this.loading();
      try {
        const nodes = await draw();
        if (!this.isCurrent()) return;
        results.replaceChildren(...nodes);
        this.loaded();
      } catch (error) {
        this.fail(error, results);
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void load();
    });
    await load();
  }

  /** A button that downloads a CSV with the session's token (a Blob and <a download>). */
  csvButton(button: HTMLButtonElement, results: HTMLElement, source: () => { path: string; filename: string }): void {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const { path, filename } = source();
        download(await getBlob(path), filename);
      } catch (error) {
        this.fail(error, results);
      } finally {
        button.disabled = false;
      }
    });
  }

  /** An API failure: a 403 shows the refusal and an unknown seller the not-found page, with
   * no data; others a visible error where it happened. */
  fail(error: unknown, into?: HTMLElement): void {
    if (!this.isCurrent()) return;
    const node = errorNode(error, this.sellerId);
    if (error instanceof ApiError && error.status === 401) return; // sent to sign-in already
    const wholePage = (error instanceof ApiError && error.status === 403) || isUnknownSeller(error);
    if (into && !wholePage) {
      into.replaceChildren(node);
      this.loaded();
      return;
    }
    this.show(node);
  }
}

/** A seller id that names no seller (the API's 404 on seller_id): the page says so, no data. */
export function isUnknownSeller(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.field === "seller_id";
}

export function errorNode(error: unknown, sellerId = ""): HTMLElement {
  const message = errorText(error);
  // The server's own text, for support and tests; the page shows the localized message only.
  const server = error instanceof ApiError ? error.message : null;
  if (isUnknownSeller(error)) {
    return h(
      "section",
      { "data-testid": "not-found", class: "not-found", role: "alert", "data-server-message": server },
      h("h1", {}, t("notFound.seller", { id: sellerId })),
      h("p", {}, t("notFound.sellerHint")),
    );
  }
  if (error instanceof ApiError && error.status === 403) {
    return h("p", { "data-testid": "refusal", class: "refusal", role: "alert", "data-server-message": server }, t("common.refusal", { message }));
  }
  return h("p", { "data-testid": "error", class: "error", role: "alert", "data-server-message": server }, t("common.error", { message }));
}
