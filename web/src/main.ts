// The dashboard's shell: hash routes, the session, the navigation and the language.

import "./app.css";
import { ApiError, configureApi } from "./api";
import { PageContext, errorNode, type AppConfig } from "./context";
import { h } from "./dom";
import type { Lang } from "./format";
import { loadLang, setLang, t } from "./i18n";
import { adminPage } from "./pages/admin";
import { auditPage } from "./pages/finance/audit";
import { closingsPage } from "./pages/finance/closings";
import { payoutsPage } from "./pages/finance/payouts";
import { tablesPage } from "./pages/finance/tables";
import { webhooksPage } from "./pages/finance/webhooks";
import { payoutProfilePage } from "./pages/payout-profile";
import { chartsPage } from "./pages/charts";
import { ledgerPage } from "./pages/ledger";
import { overviewPage } from "./pages/overview";
import { signInPage } from "./pages/signin";
import { statementsPage } from "./pages/statements";
import { topPage } from "./pages/top";
import { videoPage } from "./pages/video";
import { clearSession, loadSession, type Session } from "./session";

type Route = { name: "signin" } | { name: "admin" } | { name: "finance"; page: FinancePage } | { name: "seller"; sellerId: string; page: SellerPage } | { name: "video"; videoId: string } | { name: "home" } | { name: "unknown" };
type SellerPage = "overview" | "charts" | "top" | "statements" | "ledger" | "profile";
type FinancePage = "closings" | "payouts" | "tables" | "audit" | "webhooks";

const SELLER_PAGES: Record<SellerPage, (ctx: PageContext) => Promise<void>> = {
  overview: overviewPage,
  charts: chartsPage,
  top: topPage,
  statements: statementsPage,
  ledger: ledgerPage,
  profile: payoutProfilePage,
};

// The admin's finance pages (issue 31, item 8), after the admin page in the navigation.
const FINANCE_PAGES: Record<FinancePage, (ctx: PageContext) => Promise<void>> = {
  closings: closingsPage,
  payouts: payoutsPage,
  tables: tablesPage,
  audit: auditPage,
  webhooks: webhooksPage,
};

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  if (path === "" || path === "/") return { name: "home" };
  if (path === "/signin") return { name: "signin" };
  if (path === "/admin") return { name: "admin" };
  const finance = /^\/(closings|payouts|tables|audit|webhooks)$/.exec(path);
  if (finance) return { name: "finance", page: finance[1] as FinancePage };
  const match = /^\/sellers\/(\d+)\/(overview|charts|top|statements|ledger|profile)$/.exec(path);
  if (match) return { name: "seller", sellerId: match[1], page: match[2] as SellerPage };
  const video = /^\/videos\/(\d+)$/.exec(path);
  if (video) return { name: "video", videoId: video[1] };
  return { name: "unknown" };
}

let config: AppConfig = { time_zone: "Asia/Seoul", api_base: "" };
let flash = "";
let generation = 0;

function homeOf(session: Session): string {
  return session.role === "ADMIN" ? "#/admin" : `#/sellers/${session.account_id}/overview`;
}

function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

function expired(): void {
  flash = t("signin.expired");
  go("#/signin");
}

function languageSelect(): HTMLElement {
  const select = h(
    "select",
    { id: "lang-select", "data-testid": "lang-select" },
    h("option", { value: "ko" }, t("lang.ko")),
    h("option", { value: "en" }, t("lang.en")),
  );
  select.value = document.documentElement.lang === "en" ? "en" : "ko";
  select.addEventListener("change", () => {
    setLang(select.value as Lang);
    void render();
    document.getElementById("lang-select")?.focus();
  });
  return h("div", { class: "lang" }, h("label", { for: "lang-select" }, t("nav.lang")), select);
}

function header(session: Session | null, route: Route): HTMLElement {
  const links: HTMLElement[] = [];
  const sellerId = route.name === "seller" ? route.sellerId : session && session.role !== "ADMIN" ? session.account_id : "";
  const active = route.name === "seller" || route.name === "finance" ? route.page : route.name;
  if (session && sellerId) {
    for (const page of Object.keys(SELLER_PAGES) as SellerPage[]) {
      links.push(
        h("a", { href: `#/sellers/${sellerId}/${page}`, "data-testid": `nav-${page}`, "aria-current": active === page ? "page" : null }, t(`nav.${page}`)),
      );
    }
  }
  if (session?.role === "ADMIN") {
    for (const page of ["admin", ...Object.keys(FINANCE_PAGES)] as ("admin" | FinancePage)[]) {
      links.push(h("a", { href: `#/${page}`, "data-testid": `nav-${page}`, "aria-current": active === page ? "page" : null }, t(`nav.${page}`)));
    }
  }
  const signout = session ? h("button", { type: "button", "data-testid": "signout", class: "secondary" }, t("nav.signout")) : null;
  signout?.addEventListener("click", () => {
    clearSession();
    flash = t("signin.signedOut");
    go("#/signin");
  });
  return h(
    "header",
    { class: "top" },
    h("a", { href: "#main", class: "skip" }, t("app.skip")),
    h("span", { class: "brand" }, "PaySystem"),
    h("nav", { "aria-label": t("nav.label") }, ...links),
    h("div", { class: "tools" }, languageSelect(), signout),
  );
}

async function render(): Promise<void> {
  const mine = ++generation;
  const route = parseRoute(location.hash);
  const { session, expired: wasExpired } = loadSession();
  if (wasExpired) flash = t("signin.expired");
  if (!session && route.name !== "signin") {
    go("#/signin");
    return;
  }
  if (session && (route.name === "home" || route.name === "signin")) {
    go(homeOf(session));
    return;
  }
  document.title = t("app.title");
  const root = document.getElementById("app")!;
  const main = h("main", { id: "main", tabindex: -1, "data-loading": "true" });
  root.replaceChildren(header(session, route), main);
  if (route.name === "signin" || !session) {
    // The message stays until a sign-in succeeds: several calls of one page can each get a 401,
    // and every render of the sign-in page they cause must still say why the user is here.
    signInPage(main, flash, () => {
      flash = "";
      go(homeOf(loadSession().session!));
    });
    return;
  }
  const isCurrent = () => mine === generation;
  if (route.name === "unknown") {
    main.replaceChildren(h("p", { class: "error", role: "alert" }, t("common.notFound")));
    main.removeAttribute("data-loading");
    return;
  }
  const ctx = new PageContext(main, session, route.name === "seller" ? route.sellerId : "", config, isCurrent);
  main.replaceChildren(h("p", { class: "note" }, t("common.loading")));
  try {
    if (route.name === "admin") {
      if (session.role !== "ADMIN") throw new ApiError(403, "admin only");
      await adminPage(ctx);
    } else if (route.name === "finance") {
      if (session.role !== "ADMIN") throw new ApiError(403, "admin only");
      await FINANCE_PAGES[route.page](ctx);
    } else if (route.name === "seller") {
      await SELLER_PAGES[route.page](ctx);
    } else if (route.name === "video") {
      await videoPage(ctx, route.videoId);
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) ctx.fail(error);
  }
}

async function start(): Promise<void> {
  loadLang();
  try {
    const response = await fetch("config.json");
    if (response.ok) config = { ...config, ...((await response.json()) as Partial<AppConfig>) };
  } catch {
    // keep the defaults: the platform's default zone, the same origin
  }
  configureApi(config.api_base, expired);
  window.addEventListener("hashchange", () => void render());
  // A session that expires while the page is open sends the user back to sign-in.
  setInterval(() => {
    const stored = sessionStorage.getItem("paysystem.session");
    if (stored && !loadSession().session) expired();
  }, 1000);
  await render();
}

start().catch((error) => {
  document.getElementById("app")?.replaceChildren(errorNode(error));
});
