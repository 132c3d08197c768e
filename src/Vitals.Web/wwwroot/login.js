'use strict';

// Same rule as the server (Pages.IsLocalUrl): a path on this site, never //host, /\host or anything with control characters.
function localPath(next) {
  if (!next || /[\u0000-\u001f\u007f]/.test(next) || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return '/';
  return next;
}

(async () => {
  vitalsShell.showAccount();
  const form = document.getElementById('login-form');
  const error = document.getElementById('error');
  const me = await vitalsApi.me();
  if (me.demoUsers) {
    const section = document.getElementById('demo-users');
    section.hidden = false;
    section.querySelector('tbody').replaceChildren(...me.demoUsers.map((u) => {
      const tr = document.createElement('tr');
      for (const v of [u.name, u.role, u.password]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); }
      return tr;
    }));
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const res = await vitalsApi.send('POST', '/api/auth/login', { name: form.name.value, password: form.password.value });
    if (res.status === 204) {
      location.href = localPath(new URLSearchParams(location.search).get('ReturnUrl'));
      return;
    }
    const problem = await res.json().catch(() => ({}));
    if (res.status === 429 && !problem.detail) { error.textContent = 'Too many attempts from this device. Wait a minute and try again.'; return; }
    error.textContent = problem.detail || Object.values(problem.errors || {}).flat()[0] || 'Login failed.';
    form.password.value = '';
    form.password.focus();
  });
})();
