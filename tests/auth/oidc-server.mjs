// A real OAuth 2.1 / OpenID Connect authorization server for the auth integration tests:
// oidc-provider (pinned in tests/auth/package.json), on 127.0.0.1 with a random port.
//
//   node oidc-server.mjs            prints one JSON line {"issuer": "...", "port": N} when ready
//
// - Resource indicators (RFC 8707) on: every access token is a JWT (RFC 9068, typ at+jwt) for
//   the requested resource; the signing algorithm follows the resource's last path segment
//   (/es256 -> ES256, /eddsa -> EdDSA, anything else RS256); a resource ending in /opaque gets
//   opaque tokens (for introspection).
// - Grants: authorization_code (PKCE S256 required) and client_credentials; dynamic client
//   registration open; introspection on. A pre-registered client `m2m` / `m2m-secret`
//   (client_secret_basic) does client_credentials.
// - The login and consent steps approve at once (user "alice", every requested scope): the
//   tests drive them with plain HTTP requests as a browser would, cookies included.
// - POST /admin/rotate replaces the signing keys (new kids), as an issuer rotating its JWKS.
// Exits when stdin closes (the test process died) or on SIGTERM.
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// The pinned package lives in AUTH_NPM_DIR (.cache/auth-npm), not next to this file.
const npmDir = process.env.AUTH_NPM_DIR ?? path.resolve(import.meta.dirname, '..', '..', '.cache', 'auth-npm');
const { default: Provider } = await import(
  pathToFileURL(path.join(npmDir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href);

// stdout carries only the ready line (the test stops reading it then): every log goes to stderr.
for (const level of ['log', 'info', 'warn', 'debug']) console[level] = console.error;
process.stdout.on('error', () => {});

const SCOPES = ['mcp:read', 'mcp:write', 'mcp:destructive'];
let generation = 0;

function keys() {
  generation += 1;
  const make = (type, options, alg, kid) => {
    const { privateKey } = crypto.generateKeyPairSync(type, options);
    return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
  };
  return [
    make('rsa', { modulusLength: 2048 }, 'RS256', `rsa-${generation}`),
    make('ec', { namedCurve: 'P-256' }, 'ES256', `ec-${generation}`),
    make('ed25519', {}, 'EdDSA', `ed-${generation}`),
  ];
}

function algFor(resource) {
  if (resource.endsWith('/es256')) return 'ES256';
  if (resource.endsWith('/eddsa')) return 'EdDSA';
  return 'RS256';
}

function makeProvider(issuer) {
  const provider = new Provider(issuer, {
    jwks: { keys: keys() },
    clients: [
      {
        client_id: 'm2m',
        client_secret: 'm2m-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    scopes: ['openid', 'offline_access', ...SCOPES],
    pkce: { required: () => true },
    cookies: { keys: ['mcpproxy-test-cookie-key'] },
    ttl: { AccessToken: 600, ClientCredentials: 600, Interaction: 600, Session: 600, Grant: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (resource.endsWith('/opaque')) {
            return { scope: SCOPES.join(' '), audience: resource, accessTokenFormat: 'opaque', accessTokenTTL: 600 };
          }
          return {
            scope: SCOPES.join(' '),
            audience: resource,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: algFor(resource) } },
          };
        },
      },
    },
    // Refresh tokens for every client registered with the refresh_token grant (plain OAuth
    // requests carry no OIDC prompt=consent, which the default policy would want).
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // The login step below always names alice.
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  provider.proxy = false;
  return provider;
}

// Approves the interaction at once: login as alice, then consent to everything asked for.
async function interaction(provider, req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: 'alice' } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details || {};
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${error.message}`);
  }
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  let provider = makeProvider(issuer);
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url === '/admin/rotate') {
      provider = makeProvider(issuer);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ generation }));
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res);
      return;
    }
    provider.callback()(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
