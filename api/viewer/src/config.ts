// What the server tells the viewer before anyone signs in
// (GET /viewer/config.json; no inline script may carry it under the CSP).

export interface ViewerConfig {
  mode: 'development' | 'production';
  browserLogin: boolean;
  publicOrigin: string | null;
  /** Origins whose postMessage may hand the viewer a token. */
  embedderOrigins: string[];
}

export async function loadConfig(): Promise<ViewerConfig> {
  const response = await fetch('/viewer/config.json', { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`/viewer/config.json answered ${response.status}`);
  return (await response.json()) as ViewerConfig;
}
