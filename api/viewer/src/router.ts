// A tiny history router: the path picks the page, the query string holds the
// list's filters.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'list' }
  | { page: 'event'; id: string }
  | { page: 'settings' }
  | { page: 'streams' }
  | { page: 'unknown' };

export function parseRoute(path: string): Route {
  if (path === '/' || path === '') return { page: 'list' };
  if (path === '/settings') return { page: 'settings' };
  if (path === '/settings/streams') return { page: 'streams' };
  const event = /^\/events\/([^/]+)$/.exec(path);
  if (event) return { page: 'event', id: decodeURIComponent(event[1]) };
  return { page: 'unknown' };
}

const listeners = new Set<() => void>();

export function navigate(url: string, replace = false) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const listener of listeners) listener();
}

/** The current path and query string, re-rendered on navigation. */
export function useLocation(): { path: string; query: string } {
  const read = () => ({ path: location.pathname, query: location.search });
  const [here, setHere] = useState(read);
  useEffect(() => {
    const update = () => setHere(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return here;
}

/** A same-app link: navigates without reloading. */
export function linkClick(event: MouseEvent, url: string) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(url);
}
