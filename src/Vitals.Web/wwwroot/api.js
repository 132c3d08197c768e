// Shared helpers for pages: JSON calls with the antiforgery token on every state-changing request.
'use strict';

const vitalsApi = (() => {
  let csrf = null;

  async function token(refresh) {
    if (!csrf || refresh) {
      const res = await fetch('/api/auth/csrf', { credentials: 'same-origin' });
      csrf = (await res.json()).token;
    }
    return csrf;
  }

  async function send(method, url, body) {
    const attempt = async (refresh) => fetch(url, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-TOKEN': await token(refresh) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let res = await attempt(false);
    // The token is bound to the signed-in user: after a login or logout it must be fetched again.
    if (res.status === 400 && (res.headers.get('content-type') || '').includes('problem')) {
      const problem = await res.clone().json();
      if ((problem.title || '').startsWith('Antiforgery')) res = await attempt(true);
    }
    return res;
  }

  async function me() {
    const res = await fetch('/api/auth/me', { credentials: 'same-origin' });
    return res.json();
  }

  async function logout() {
    await send('POST', '/api/auth/logout');
    csrf = null;
  }

  return { send, me, logout, token };
})();
