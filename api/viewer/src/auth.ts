// The credential the viewer sends, from one of three places:
// - a viewer token, from the URL fragment (#token=…, read once and removed)
//   or a postMessage of the embedding page; kept in sessionStorage;
// - in development mode only, an API key pasted by the person; sessionStorage;
// - otherwise the browser session cookie of /auth/login.
import type { ViewerConfig } from './config';

export type Credential =
  | { kind: 'token'; token: string }
  | { kind: 'apikey'; key: string }
  | { kind: 'cookie' };

const TOKEN_KEY = 'auditlog.viewerToken';
const API_KEY = 'auditlog.apiKey';

let current: Credential = { kind: 'cookie' };
const listeners = new Set<() => void>();

export function credential(): Credential {
  return current;
}

export function onCredentialChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function set(next: Credential) {
  current = next;
  for (const listener of listeners) listener();
}

function stored(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string | null) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage may be off (a sandboxed frame): the credential lives in memory only.
  }
}

/** Picks the credential at start; removes a token from the URL fragment. */
export function initCredential(config: ViewerConfig) {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromFragment = fragment.get('token');
  if (fromFragment) {
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    store(TOKEN_KEY, fromFragment);
    current = { kind: 'token', token: fromFragment };
    return;
  }
  const token = stored(TOKEN_KEY);
  if (token) {
    current = { kind: 'token', token };
    return;
  }
  const key = config.mode === 'development' ? stored(API_KEY) : null;
  current = key ? { kind: 'apikey', key } : { kind: 'cookie' };
}

export function chooseToken(token: string) {
  store(TOKEN_KEY, token);
  set({ kind: 'token', token });
}

export function chooseApiKey(key: string) {
  store(API_KEY, key);
  set({ kind: 'apikey', key });
}

/** Forgets a stored token or key (sign-out of those kinds). */
export function forget() {
  store(TOKEN_KEY, null);
  store(API_KEY, null);
  set({ kind: 'cookie' });
}

export function isEmbedded(): boolean {
  try {
    return window.parent !== window;
  } catch {
    return true;
  }
}

/** Posts `message` to the embedding page, if it has one of the configured origins. */
export function tellEmbedder(config: ViewerConfig, message: { type: string }) {
  if (!isEmbedded()) return;
  for (const origin of config.embedderOrigins) {
    window.parent.postMessage(message, origin);
  }
}

/** Accepts `{type:'auditlog:token', token}` from the configured embedder origins only. */
export function listenToEmbedder(config: ViewerConfig) {
  window.addEventListener('message', (event: MessageEvent) => {
    if (!config.embedderOrigins.includes(event.origin)) return;
    const data = event.data as { type?: unknown; token?: unknown } | null;
    if (data && data.type === 'auditlog:token' && typeof data.token === 'string' && data.token) {
      chooseToken(data.token);
    }
  });
}

/** Headers for fetch: the bearer credential, or what the cookie's CSRF check wants. */
export function authHeaders(): Record<string, string> {
  const headers: Record<string, string> = { 'X-Requested-With': 'auditlog-viewer' };
  if (current.kind === 'token') headers.Authorization = `Bearer ${current.token}`;
  if (current.kind === 'apikey') headers.Authorization = `Bearer ${current.key}`;
  return headers;
}

/** The WebSocket's connection_init payload (the cookie travels with the upgrade). */
export function connectionParams(): Record<string, string> {
  if (current.kind === 'token') return { Authorization: `Bearer ${current.token}` };
  if (current.kind === 'apikey') return { Authorization: `Bearer ${current.key}` };
  return {};
}
