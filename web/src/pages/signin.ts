import { postJson } from "../api";
import { field, h, input } from "../dom";
import { errorText, t } from "../i18n";
import { roleName, saveSession } from "../session";
import type { AccessToken } from "../types";

/** The sign-in form; `message` is shown in signin-message (expiry, sign-out). */
export function signInPage(main: HTMLElement, message: string, onSignedIn: () => void): void {
  const username = input("signin-username", "signin-username", "text", "", { autocomplete: "username", required: true });
  const password = input("signin-password", "signin-password", "password", "", { autocomplete: "current-password", required: true });
  const status = h("p", { "data-testid": "signin-message", class: message ? "notice" : "notice empty", role: "status", "aria-live": "polite" }, message);
  const submit = h("button", { type: "submit", "data-testid": "signin-submit" }, t("signin.submit"));
  const form = h("form", { class: "card signin", novalidate: true }, h("h1", {}, t("signin.title")), status, field(t("signin.username"), username), field(t("signin.password"), password), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const answer = await postJson<AccessToken>("/v1/auth/token", { username: username.value, password: password.value }, true);
      saveSession({
        token: answer.access_token,
        account_id: answer.account_id,
        role: roleName(answer.role),
        expires_at_ms: Date.now() + Number(answer.expires_in) * 1000,
        username: username.value,
      });
      onSignedIn();
    } catch (error) {
      status.className = "notice error";
      status.textContent = t("signin.failed", { message: errorText(error) });
      submit.disabled = false;
      password.focus();
    }
  });
  main.replaceChildren(form);
  main.removeAttribute("data-loading");
  username.focus();
}
