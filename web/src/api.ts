// Calls to the JSON API through Envoy (same origin), with the session's token.

import { clearSession, loadSession } from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request field the API's message names ("to_date: ..."), "" when none. */
    readonly field = "",
  ) {
    super(message);
  }
}

/** The field a domain error names: the API prefixes its message with it ("date: not a real date"). */
export function fieldOf(message: string): string {
  return /^([a-z][a-z_]*): /.exec(message)?.[1] ?? "";
}

let apiBase = "";
let onExpired: () => void = () => {};

export function configureApi(base: string, expired: () => void): void {
  apiBase = base;
  onExpired = expired;
}

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text();
  let message = text.trim() || response.statusText || `HTTP ${response.status}`;
  try {
    const body = JSON.parse(text) as { message?: string };
    if (body && typeof body.message === "string" && body.message) message = body.message;
  } catch {
    // Envoy's own replies may be text/plain
  }
  return new ApiError(response.status, message, fieldOf(message));
}

function expire(): never {
  clearSession();
  onExpired();
  throw new ApiError(401, "session expired");
}

async function call(method: string, path: string, body?: unknown, signIn = false, extra: Record<string, string> = {}): Promise<Response> {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (!signIn) {
    const { session } = loadSession();
    if (!session) expire();
    headers.authorization = `Bearer ${session.token}`;
  }
  let response: Response;
  try {
    response = await fetch(apiBase + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, error instanceof Error ? error.message : String(error));
  }
  if (response.status === 401 && !signIn) expire();
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call("GET", path)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown, signIn = false): Promise<T> {
  return (await (await call("POST", path, body, signIn)).json()) as T;
}

/** Any method with a JSON body (or none) and extra headers such as Idempotency-Key; the JSON answer. */
export async function sendJson<T>(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  return (await (await call(method, path, body, false, headers)).json()) as T;
}

export async function getBlob(path: string): Promise<Blob> {
  return (await call("GET", path)).blob();
}

/**
 * Splits a stream of JSON objects (one per line, or a JSON array of them) into whole objects,
 * whatever the chunk boundaries: feed text, get back the objects completed so far.
 */
export class JsonObjectSplitter {
  private buffer = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  push(text: string): unknown[] {
    this.buffer += text;
    const found: unknown[] = [];
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') {
        this.inString = true;
      } else if (c === "{") {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (c === "}") {
        this.depth--;
        if (this.depth === 0) found.push(JSON.parse(this.buffer.slice(this.start, i + 1)));
      }
    }
    if (this.depth === 0) {
      this.buffer = "";
      this.scanned = 0;
    } else {
      this.buffer = this.buffer.slice(this.start);
      this.scanned = this.buffer.length;
      this.start = 0;
    }
    return found;
  }
}

/** POSTs and hands each streamed JSON object to onEvent as it arrives. */
export async function postStream(path: string, body: unknown, onEvent: (event: unknown) => void): Promise<void> {
  const response = await call("POST", path, body);
  if (!response.body) throw new ApiError(0, "no response body");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const splitter = new JsonObjectSplitter();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const event of splitter.push(value)) onEvent(event);
  }
}
