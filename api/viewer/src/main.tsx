// Start-up: the server's configuration, the credential (fragment, storage,
// embedding page or cookie), then the app.
import { render } from 'preact';

import { App } from './app';
import { initCredential, listenToEmbedder } from './auth';
import { loadConfig } from './config';
import './styles.css';

async function start() {
  const root = document.getElementById('app');
  if (!root) return;
  try {
    const config = await loadConfig();
    initCredential(config);
    listenToEmbedder(config);
    root.textContent = '';
    render(<App config={config} />, root);
  } catch {
    root.textContent = 'The audit log cannot start: the service did not answer. Reload to try again.';
  }
}

void start();
