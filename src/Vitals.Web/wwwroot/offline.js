// The offline page (served by the service worker when the gateway is down): poll, then reload the page asked for.
'use strict';

(() => {
  let tries = 0;
  async function attempt() {
    tries++;
    try {
      const res = await fetch('/healthz', { cache: 'no-store' });
      if (res.ok) { location.reload(); return; }
    } catch { /* still down */ }
    const at = new Date();
    const two = (n) => String(n).padStart(2, '0');
    document.getElementById('attempt').textContent =
      `Not reachable at ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} (attempt ${tries}); trying again in 3 s.`;
    setTimeout(attempt, 3000);
  }
  attempt();
})();
