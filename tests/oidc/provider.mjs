// A real OpenID Provider for the auditlog integration tests: the certified
// `oidc-provider` package with a small configuration of ours. Started (and
// restarted, for key rotation) by tests/src/oidc.rs; never used in production.
//
// Environment:
//   OIDC_PORT           loopback port to listen on (the issuer is http://127.0.0.1:<port>)
//   OIDC_KEYS           path of a private JWKS file; generated (one RS256 key) if missing,
//                       so a restart with another file rotates the signing key
//   OIDC_ACCOUNTS_FILE  JSON file: login -> extra claims (org_id, roles, name, email, ...);
//                       read at every use, so tests may change it while the provider runs
//   OIDC_CLIENT_SECRET  secret of the confidential client `auditlog-console`
//   OIDC_SHORT_TTL      seconds an access token for https://short.auditlog.test lives
//
// Clients (application_type native: a loopback redirect URI matches any port, RFC 8252):
//   auditlog-console  confidential; the server under test (browser login, introspection)
//   test-spa          public + PKCE; the tests' own token source
//
// Resource indicators (RFC 8707) choose the access-token format:
//   https://api.auditlog.test    JWT,    aud https://api.auditlog.test
//   https://opaque.auditlog.test opaque, aud https://api.auditlog.test (introspection)
//   https://short.auditlog.test  JWT,    aud https://api.auditlog.test, lives OIDC_SHORT_TTL s
//   https://other.example.test   JWT,    aud https://other.example.test (wrong audience)

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT ?? 0);
const issuer = `http://127.0.0.1:${port}`;
function account(id) {
  const path = process.env.OIDC_ACCOUNTS_FILE;
  const accounts = path && existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  return accounts[id] ?? {};
}
const shortTtl = Number(process.env.OIDC_SHORT_TTL ?? 3);
const API = 'https://api.auditlog.test';

async function signingKeys(path) {
  if (path && existsSync(path)) {
    return JSON.parse(readFileSync(path, 'utf8'));
  }
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const jwks = {
    keys: [{ ...jwk, kid: `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, alg: 'RS256', use: 'sig' }],
  };
  if (path) writeFileSync(path, JSON.stringify(jwks));
  return jwks;
}

function resourceServer(indicator) {
  const base = { scope: 'audit:read', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } };
  switch (indicator) {
    case API:
      return { ...base, audience: API, accessTokenFormat: 'jwt' };
    case 'https://opaque.auditlog.test':
      return { ...base, audience: API, accessTokenFormat: 'opaque' };
    case 'https://short.auditlog.test':
      return { ...base, audience: API, accessTokenFormat: 'jwt', accessTokenTTL: shortTtl };
    case 'https://other.example.test':
      return { ...base, audience: indicator, accessTokenFormat: 'jwt' };
    default:
      throw new errors.InvalidTarget();
  }
}

const configuration = {
  jwks: await signingKeys(process.env.OIDC_KEYS),
  cookies: { keys: ['auditlog-test-provider-cookie-key'] },
  clients: [
    {
      client_id: 'auditlog-console',
      client_secret: process.env.OIDC_CLIENT_SECRET ?? 'console-secret',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/auth/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'test-spa',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/test/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
  ],
  scopes: ['openid', 'profile', 'email', 'org'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
    org: ['org_id', 'roles'],
  },
  // Scope claims go into the ID token too (the console reads identity from it).
  conformIdTokenClaims: false,
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account(id) };
      },
    };
  },
  // Access tokens carry the person's tenant, roles, name and email (the claims an
  // Auth0 Action or a Keycloak mapper would add).
  async extraTokenClaims(_ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    const { org_id, roles, name, email } = account(token.accountId);
    return { org_id, roles, name, email };
  },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => resourceServer(indicator),
    },
  },
  ttl: {
    // Per resource server (the short-lived resource's TTL), else 5 minutes.
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    AuthorizationCode: 60,
    IdToken: 300,
    Interaction: 300,
    Session: 600,
    Grant: 600,
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, error) => console.error('provider server_error', error));

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
