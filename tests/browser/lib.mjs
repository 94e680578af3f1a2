// Shared by the viewer's browser tests: Chromium (Debian's, driven by
// playwright-core), axe-core, screenshots, GraphQL calls, and demo data.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
/** target/viewer-screenshots/, for review (not committed). */
export const SCREENSHOTS = process.env.AUDITLOG_SCREENSHOTS ?? join(here, '..', '..', 'target', 'viewer-screenshots');

/**
 * The flags this offline machine needs. The fresh profile: Playwright's
 * launch() starts Chromium with a new temporary --user-data-dir of its own
 * (and refuses one among the args), removed on close; each newContext() is
 * a separate, empty profile in it (no cookies, storage or cache).
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.AUDITLOG_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    headless: true,
  });
}

/**
 * A page that fails the test on any JavaScript dialog (alert, confirm,
 * prompt), uncaught error or CSP violation report in the console.
 */
export async function strictPage(context, problems) {
  const page = await context.newPage();
  page.on('dialog', async (dialog) => {
    problems.push(`a ${dialog.type()} dialog opened: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return page;
}

/** Runs axe-core on the page; throws on any serious or critical violation. */
export async function axe(page, name) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`).join('\n');
    throw new Error(`axe-core on ${name}:\n${text}`);
  }
  return results.violations.length;
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** POST /graphql with a bearer credential; throws on errors. */
export async function gql(url, bearer, query, variables = {}, headers = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export const RECORD = `mutation($events: [AuditEventInput!]!) { recordAuditEvents(events: $events) { events { id sequence action } } }`;

export async function record(url, key, events, headers = {}) {
  const data = await gql(url, key, RECORD, { events }, headers);
  return data.recordAuditEvents.events;
}

const ago = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Demo events of a small SaaS, newest last (what the README screenshot shows). */
export function demoEvents() {
  const people = [
    { type: 'USER', id: 'u-1001', name: 'Ada Lovelace', email: 'ada@example.com' },
    { type: 'USER', id: 'u-1002', name: 'Grace Hopper', email: 'grace@example.com' },
    { type: 'USER', id: 'u-1003', name: 'Alan Turing', email: 'alan@example.com' },
    { type: 'API_KEY', id: 'k-ci', name: 'CI deploy key' },
  ];
  const steps = [
    ['user.login', 0, null, 'SUCCESS'],
    ['project.create', 0, { type: 'project', id: 'p-42', name: 'Billing revamp' }, 'SUCCESS'],
    ['member.invite', 0, { type: 'user', id: 'u-1002', name: 'Grace Hopper' }, 'SUCCESS'],
    ['user.login', 1, null, 'SUCCESS'],
    ['document.update', 1, { type: 'document', id: 'd-7', name: 'Q4 plan' }, 'SUCCESS'],
    ['user.login_failed', 2, null, 'FAILURE'],
    ['user.login', 2, null, 'SUCCESS'],
    ['document.share', 2, { type: 'document', id: 'd-7', name: 'Q4 plan' }, 'SUCCESS'],
    ['deploy.start', 3, { type: 'service', id: 'svc-api', name: 'api' }, 'SUCCESS'],
    ['deploy.finish', 3, { type: 'service', id: 'svc-api', name: 'api' }, 'FAILURE'],
    ['role.update', 0, { type: 'user', id: 'u-1003', name: 'Alan Turing' }, 'SUCCESS'],
    ['document.delete', 1, { type: 'document', id: 'd-3', name: 'Old notes' }, 'SUCCESS'],
  ];
  return steps.map(([action, who, target, outcome], index) => ({
    action,
    actor: people[who],
    ...(target ? { target } : {}),
    outcome,
    occurredAt: ago((steps.length - index) * 17),
    context: { ipAddress: `203.0.113.${10 + who}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', requestId: `req-${1000 + index}` },
    payload: { index, changes: { before: { status: 'draft' }, after: { status: 'published' } }, tags: ['demo', action.split('.')[0]] },
  }));
}

/**
 * Signs in at the OpenID Provider of tests/oidc: its login form (any
 * password), then its consent form when it shows one, until the viewer is
 * back (a provider that remembers the person skips its forms).
 */
export async function providerSignIn(page, login) {
  const loginForm = page.locator('input[name="login"]');
  const consent = page.locator('input[name="prompt"][value="consent"]');
  const app = page.locator('header.top');
  for (let step = 0; step < 4; step++) {
    await loginForm.or(consent).or(app).first().waitFor({ state: 'attached' });
    if (await app.count()) return;
    const form = (await loginForm.count()) ? loginForm : consent;
    if (form === loginForm) {
      await loginForm.fill(login);
      await page.locator('input[name="password"]').fill('any');
    }
    await page.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
  }
  await app.waitFor();
}

/** The ids of the event rows shown, top to bottom. */
export async function rowIds(page) {
  return page.locator('table.events tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-event-id')));
}

/** RFC 4180 records of a CSV text. */
export function parseCsv(text) {
  const records = [];
  let record = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}
