// Runs graphql-http's GraphQL-over-HTTP server audit suite against a running
// auditlog server and prints one line per audit:
//   <status> <id> <name>[ -- <reason>: <status code> <body>]
// where status is `ok`, `error` (a failed MUST), `warn` (a failed SHOULD) or
// `notice` (a failed MAY). Exits 1 when a MUST fails, unless its id is listed in
// AUDIT_EXPECTED_FAILURES (comma-separated), which the Rust test uses for MUSTs
// that depend on a switched-off feature.
//
// Environment: AUDITLOG_HTTP_URL (the /graphql URL), AUDITLOG_KEY (an API key,
// sent as `Authorization: Bearer <key>` on every request).
import { serverAudits } from 'graphql-http';

const url = process.env.AUDITLOG_HTTP_URL;
const key = process.env.AUDITLOG_KEY;
if (!url || !key) {
  console.error('set AUDITLOG_HTTP_URL and AUDITLOG_KEY');
  process.exit(2);
}
const expectedFailures = new Set(
  (process.env.AUDIT_EXPECTED_FAILURES ?? '').split(',').filter(Boolean),
);

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};

async function describe(response) {
  try {
    const body = await response.clone().text();
    return `${response.status} ${body.slice(0, 300)}`;
  } catch {
    return `${response.status}`;
  }
}

let failedMusts = 0;
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  let line = `${result.status} ${result.id} ${result.name}`;
  if (result.status !== 'ok') {
    line += ` -- ${result.reason}: ${await describe(result.response)}`;
  }
  console.log(line);
  if (result.status === 'error' && !expectedFailures.has(result.id)) {
    failedMusts += 1;
  }
}
for (const id of expectedFailures) {
  console.log(`expected-failure ${id}`);
}
console.log(`MUST audits failed: ${failedMusts}`);
process.exit(failedMusts === 0 ? 0 : 1);
