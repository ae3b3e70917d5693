// The signed-in session: sessionStorage["paysystem.session"], never the URL.

export const SESSION_KEY = "paysystem.session";

export interface Session {
  token: string;
  account_id: string;
  role: string;
  expires_at_ms: number;
  /** The name signed in with: the pages name a seller by it on its own pages. */
  username?: string;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** The stored session, or null when there is none or it has expired ("expired" then). */
export function loadSession(now: number = Date.now()): { session: Session | null; expired: boolean } {
  const text = sessionStorage.getItem(SESSION_KEY);
  if (!text) return { session: null, expired: false };
  let session: Session;
  try {
    session = JSON.parse(text) as Session;
  } catch {
    clearSession();
    return { session: null, expired: false };
  }
  if (typeof session.token !== "string" || typeof session.expires_at_ms !== "number") {
    clearSession();
    return { session: null, expired: false };
  }
  if (session.expires_at_ms <= now) {
    clearSession();
    return { session: null, expired: true };
  }
  return { session, expired: false };
}

/** The role name without the proto prefix ("ROLE_ADMIN" or "ADMIN" -> "ADMIN"). */
export function roleName(role: string): string {
  return role.replace(/^ROLE_/, "");
}
