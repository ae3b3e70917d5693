// Elements built with textContent and attributes only: API text never becomes markup.

import { t } from "./i18n";

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** A figure for people, with the API's exact value beside it (title and data-exact; none when the API left the field out). */
export function figure(tag: "span" | "td" | "dd", text: string | Node, exact: string | undefined, attrs: Attrs = {}): HTMLElement {
  // An amount shown in whole won hides its fraction: a tap or the keyboard focuses it and
  // shows the exact value under it (app.css), since a phone has no hover for the title.
  const rounded = exact !== undefined && exact !== "" && typeof text === "string" && text.includes("₩");
  return h(tag, { ...attrs, title: exact, "data-exact": exact, tabindex: rounded ? 0 : null, class: rounded ? [attrs.class, "exact-on-focus"].filter(Boolean).join(" ") : attrs.class }, text);
}

/** A link to a video's own page (#/videos/{id}). */
export function videoLink(videoId: string, text: string): HTMLAnchorElement {
  return h("a", { href: `#/videos/${encodeURIComponent(videoId)}`, "data-testid": "video-link", "data-video-id": videoId }, text);
}

/** A table with a caption, a header row and body rows. */
export function table(testid: string, caption: string, headers: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    "div",
    { class: "table-scroll", tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      { "data-testid": testid },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, ...(rows.length ? rows : [h("tr", { class: "empty" }, h("td", { colspan: headers.length }, t("common.empty")))])),
    ),
  );
}

/** A labelled control: <label for> and the control. */
export function field(label: string, control: HTMLElement): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

export function select(id: string, testid: string, options: [string, string][], value: string): HTMLSelectElement {
  const element = h("select", { id, name: id, "data-testid": testid }, ...options.map(([v, text]) => h("option", { value: v }, text)));
  element.value = value;
  return element;
}

export function input(id: string, testid: string, type: string, value: string, attrs: Attrs = {}): HTMLInputElement {
  const element = h("input", { id, name: id, "data-testid": testid, type, ...attrs });
  element.value = value;
  return element;
}

/** Saves a Blob as a file (a temporary <a download>). */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A card of the figure list: its label and its value (and a note under it). */
export function card(label: string, value: HTMLElement, note?: string): HTMLElement {
  // A <div> in a <dl> may hold only <dt> and <dd> (axe's definition-list rule): the note is a <dd>.
  return h("div", { class: "card figure" }, h("dt", {}, label), value, note ? h("dd", { class: "note" }, note) : null);
}
