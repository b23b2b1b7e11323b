// A STAND-IN for GitLab's OAuth 2 provider and REST API v4 — NOT GitLab. gitlab.com (and any
// real GitLab) is unreachable from the test machines, so end2end/run-oauth.sh starts this small
// `node:http` server on loopback instead, and Silo is configured with it as an `[[auth.oauth]]`
// table of kind "gitlab" (base_url = this server). It implements only the calls Silo makes
// (server/src/auth/oauth/gitlab.rs), with the checks a real GitLab applies:
//
//   GET  /oauth/authorize  response_type=code, a known client_id and its redirect_uri, state,
//                          PKCE S256 challenge → a page with an "Authorize" button (a form that
//                          POSTs back here), which redirects to redirect_uri?code=…&state=…
//   POST /oauth/token      grant_type=authorization_code, client_id + client_secret as form
//                          fields, the code (single use, 60 s), the same redirect_uri and a
//                          code_verifier matching the challenge → {"access_token": …}
//   GET  /api/v4/user      Authorization: Bearer <token> → the person (id, username, name,
//                          email, confirmed_at, state)
//   GET  /api/v4/groups    Authorization: Bearer <token> → the person's groups (full_path)
//
// Usage: GITLAB_PORT=18902 SILO_CALLBACK=http://127.0.0.1:18901/auth/callback/gitlab \
//        node end2end/oidc/gitlab-standin.mjs
// Env: GITLAB_CLIENT_ID (default "silo-gitlab"), GITLAB_CLIENT_SECRET (default
//      "silo-gitlab-test-secret"). Prints "gitlab-standin ready <base_url>" once listening.
//
// The one person: margaret (id 4242, Margaret Hamilton, groups apollo, apollo/guidance).
import http from 'node:http';
import crypto from 'node:crypto';

const port = Number(process.env.GITLAB_PORT || 18902);
const base = `http://127.0.0.1:${port}`;
const clientId = process.env.GITLAB_CLIENT_ID || 'silo-gitlab';
const clientSecret = process.env.GITLAB_CLIENT_SECRET || 'silo-gitlab-test-secret';
const callbacks = (process.env.SILO_CALLBACK || '').split(',').filter(Boolean);
if (callbacks.length === 0) {
  console.error('SILO_CALLBACK is required');
  process.exit(2);
}

const person = {
  id: 4242,
  username: 'margaret',
  name: 'Margaret Hamilton',
  email: 'margaret@example.org',
  confirmed_at: '2024-01-01T00:00:00.000Z',
  state: 'active',
  groups: ['apollo', 'apollo/guidance'],
};

/** code → { redirect_uri, challenge, expires }; token → true. */
const codes = new Map();
const tokens = new Set();

const random = () => crypto.randomBytes(24).toString('base64url');
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 64 * 1024) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

/** The checks of GET /oauth/authorize; an error text or null. */
function authorizeProblem(q) {
  if (q.get('response_type') !== 'code') return 'response_type must be code';
  if (q.get('client_id') !== clientId) return 'unknown client_id';
  if (!callbacks.includes(q.get('redirect_uri') || '')) return 'redirect_uri is not registered';
  if (!q.get('state')) return 'state is missing';
  if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return 'PKCE S256 is required';
  return null;
}

function authorizePage(q) {
  const hidden = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'response_type', 'scope']
    .map((k) => `<input type="hidden" name="${k}" value="${escape(q.get(k) || '')}">`)
    .join('');
  return `<!doctype html><html><head><title>GitLab stand-in</title></head><body>
<h1>GitLab stand-in</h1>
<p>Signed in as ${escape(person.username)}. Authorize the application ${escape(clientId)}
to use your account? Scopes: ${escape(q.get('scope') || '')}</p>
<form method="post" action="/oauth/authorize">${hidden}<button type="submit">Authorize</button></form>
</body></html>`;
}

function bearer(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  return m && tokens.has(m[1]);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, base);
  try {
    if (url.pathname === '/oauth/authorize' && req.method === 'GET') {
      const problem = authorizeProblem(url.searchParams);
      if (problem) return send(res, 400, `<p>${escape(problem)}</p>`, 'text/html');
      return send(res, 200, authorizePage(url.searchParams), 'text/html');
    }
    if (url.pathname === '/oauth/authorize' && req.method === 'POST') {
      const q = await readForm(req);
      const problem = authorizeProblem(q);
      if (problem) return send(res, 400, `<p>${escape(problem)}</p>`, 'text/html');
      const code = random();
      codes.set(code, {
        redirectUri: q.get('redirect_uri'),
        challenge: q.get('code_challenge'),
        expires: Date.now() + 60_000,
      });
      const target = new URL(q.get('redirect_uri'));
      target.searchParams.set('code', code);
      target.searchParams.set('state', q.get('state'));
      res.writeHead(302, { location: target.toString() });
      return res.end();
    }
    if (url.pathname === '/oauth/token' && req.method === 'POST') {
      const f = await readForm(req);
      if (f.get('client_id') !== clientId || f.get('client_secret') !== clientSecret) {
        return send(res, 401, { error: 'invalid_client' });
      }
      if (f.get('grant_type') !== 'authorization_code') return send(res, 400, { error: 'unsupported_grant_type' });
      const grant = codes.get(f.get('code') || '');
      codes.delete(f.get('code') || '');
      const verifier = f.get('code_verifier') || '';
      const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
      if (!grant || grant.expires < Date.now() || grant.redirectUri !== f.get('redirect_uri') || grant.challenge !== challenge) {
        return send(res, 400, { error: 'invalid_grant' });
      }
      const token = random();
      tokens.add(token);
      return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 7200, scope: 'read_user' });
    }
    if (url.pathname === '/api/v4/user' && req.method === 'GET') {
      if (!bearer(req)) return send(res, 401, { message: '401 Unauthorized' });
      const { groups, ...user } = person;
      return send(res, 200, user);
    }
    if (url.pathname === '/api/v4/groups' && req.method === 'GET') {
      if (!bearer(req)) return send(res, 401, { message: '401 Unauthorized' });
      return send(res, 200, person.groups.map((full_path, i) => ({ id: i + 1, full_path })));
    }
    send(res, 404, { message: '404 Not Found' });
  } catch (err) {
    send(res, 400, { error: String(err) });
  }
});

server.listen(port, '127.0.0.1', () => console.log(`gitlab-standin ready ${base}`));
