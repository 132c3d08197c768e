'use strict';

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
      const next = new URLSearchParams(location.search).get('ReturnUrl');
      location.href = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
      return;
    }
    if (res.status === 429) { error.textContent = 'Too many attempts from this device. Wait a minute and try again.'; return; }
    const problem = await res.json().catch(() => ({}));
    error.textContent = problem.detail || Object.values(problem.errors || {}).flat()[0] || 'Login failed.';
    form.password.value = '';
    form.password.focus();
  });
})();
