// A real OpenID Connect provider for Silo's sign-in tests: panva's `oidc-provider` (the
// certified Node.js implementation) on loopback, with one confidential client for Silo, two
// test people with passwords and a `groups` claim, and a small login + consent UI of our own
// (so a wrong password is refused, as at a real provider).
//
// Usage: OIDC_PORT=18610 SILO_CALLBACK=http://127.0.0.1:18611/auth/callback/testidp \
//        node end2end/oidc/provider.mjs
// Env:
//   OIDC_PORT           port on 127.0.0.1 (default 18610); the issuer is http://127.0.0.1:<port>
//   SILO_CALLBACK       redirect URI(s) of the client, comma-separated (required)
//   OIDC_CLIENT_ID      default "silo";  OIDC_CLIENT_SECRET default "silo-oidc-test-secret"
// Prints "oidc-provider ready <issuer>" on stdout once listening.
//
// People (login / password → sub, groups):
//   ada   / ada-password   → ada-0001,   [hpc-users, registry-admins]
//   grace / grace-password → grace-0002, [hpc-users]
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 18610);
const issuer = `http://127.0.0.1:${port}`;
const callbacks = (process.env.SILO_CALLBACK || '').split(',').filter(Boolean);
if (callbacks.length === 0) {
  console.error('SILO_CALLBACK is required');
  process.exit(2);
}

export const people = {
  ada: {
    password: 'ada-password',
    claims: {
      sub: 'ada-0001',
      preferred_username: 'ada',
      name: 'Ada Lovelace',
      email: 'ada@example.org',
      email_verified: true,
      groups: ['hpc-users', 'registry-admins'],
    },
  },
  grace: {
    password: 'grace-password',
    claims: {
      sub: 'grace-0002',
      preferred_username: 'grace',
      name: 'Grace Hopper',
      email: 'grace@example.org',
      email_verified: true,
      groups: ['hpc-users'],
    },
  },
};
const bySub = Object.fromEntries(Object.values(people).map((p) => [p.claims.sub, p]));

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'silo-e2e', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'silo',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'silo-oidc-test-secret',
      redirect_uris: callbacks,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Every client must use PKCE (S256), as Silo does.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const person = bySub[sub];
    if (!person) return undefined;
    return { accountId: sub, claims: async () => ({ ...person.claims }) };
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function page(res, title, body) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><title>${escape(title)}</title></head>
<body><main><h1>Test identity provider</h1><h2>${escape(title)}</h2>${body}</main></body></html>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; if (body.length > 10_000) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function loginForm(res, uid, error = '') {
  page(res, 'Sign in', `
<form method="post" action="/interaction/${escape(uid)}/login">
  ${error ? `<p role="alert">${escape(error)}</p>` : ''}
  <label>Username <input name="login" autocomplete="off" required></label>
  <label>Password <input name="password" type="password" required></label>
  <button type="submit">Sign in</button>
</form>`);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { prompt, params, session } = details;
  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return loginForm(res, uid);
    const person = bySub[session?.accountId];
    return page(res, 'Authorize', `
<p>Allow <strong>${escape(params.client_id)}</strong> to know that you are
<strong>${escape(person?.claims.preferred_username)}</strong>, with your e-mail and groups?</p>
<p>Scopes: ${escape(params.scope)}</p>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Deny</button></form>`);
  }
  if (req.method !== 'POST') throw new Error('unexpected method');
  if (action === 'login') {
    const form = await readForm(req);
    const person = people[form.get('login') || ''];
    if (!person || person.password !== form.get('password')) {
      return loginForm(res, uid, 'Wrong username or password.');
    }
    return provider.interactionFinished(req, res, { login: { accountId: person.claims.sub } },
      { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return provider.interactionFinished(req, res,
    { error: 'access_denied', error_description: 'The person denied the request' },
    { mergeWithLastSubmission: false });
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  const match = new URL(req.url, issuer).pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/);
  if (!match) return handle(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${err.message}`);
  });
});
server.listen(port, '127.0.0.1', () => console.log(`oidc-provider ready ${issuer}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
