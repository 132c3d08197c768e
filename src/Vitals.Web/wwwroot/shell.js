// Shared by every page: the account links, the offline page (service worker) and the live stream with its watchdog.
'use strict';

const vitalsShell = (() => {
  const el = (id) => document.getElementById(id);
  const show = (id, visible) => { const e = el(id); if (e) e.hidden = !visible; };

  // A reload while the gateway is down gets a page that retries by itself instead of the browser's error page.
  // Browsers allow service workers only on https or localhost; elsewhere the page still works without it.
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => { /* not a secure context */ });

  /** Fills whichever account links the page has (who, Log in, Admin, Log out); a viewer (wall display) is read-only. */
  async function showAccount() {
    let me = {};
    try { me = await vitalsApi.me(); } catch { /* gateway down: links stay as they are */ }
    if (el('who')) el('who').textContent = me.name ? `${me.name} (${me.role})` : '';
    show('login-link', !me.name);
    show('admin-link', me.role === 'admin');
    show('logout', !!me.name);
    document.body.classList.toggle('read-only', me.role === 'viewer');
    return me;
  }

  if (el('logout')) el('logout').addEventListener('click', async () => { await vitalsApi.logout(); location.href = '/login'; });

  /**
   * Opens /api/stream and calls handlers[type](data) per event. onLiveChange(live) fires when the stream is lost
   * (an error, or no message, not even the 1 s heartbeat, for HEARTBEAT_LOST_MS) and when it is back. A stream the
   * server closed because this page fell behind ends with a `closed` event: its reason is shown in #stream-closed
   * (inside the connection-lost banner) until the stream is live again.
   */
  function stream(handlers, onLiveChange) {
    let source = null;
    let lastMessage = 0;
    let wasLive = false;
    const live = () => source !== null && Date.now() - lastMessage < alarmUi.HEARTBEAT_LOST_MS;
    const closedReason = (text) => { const r = el('stream-closed'); if (r) { r.textContent = text; r.hidden = !text; } };
    const check = () => {
      const now = live();
      if (now !== wasLive) { wasLive = now; if (now && source.readyState === EventSource.OPEN) closedReason(''); onLiveChange(now); }
    };
    function open() {
      source = new EventSource('/api/stream');
      for (const [type, handle] of Object.entries(handlers)) {
        source.addEventListener(type, (e) => { lastMessage = Date.now(); handle(JSON.parse(e.data)); check(); });
      }
      source.addEventListener('closed', (e) => { lastMessage = 0; closedReason(JSON.parse(e.data).reason); check(); });
      source.onerror = () => {
        lastMessage = 0;
        check();
        // The browser retries a dropped stream itself, but gives up on an HTTP error (a proxy's 502, a restart's
        // 503): then open a new one, so a wall display recovers without a touch.
        if (source.readyState === EventSource.CLOSED) setTimeout(open, 2000);
        alarmUi.redirectIfSignedOut();
      };
    }
    setInterval(check, 200);
    open();
    return { live };
  }

  // Bigger than a heartbeat's delivery jitter, smaller than any clock step worth a trend's attention.
  const CLOCK_STEP_MS = 10000;

  /**
   * The server's clock against this browser's, from each snapshot's and heartbeat's serverTime: the returned function
   * takes one and gives the offset to add to Date.now(). onStep() fires when the offset jumps (the gateway's clock
   * stepped by NTP or an admin, or this device's own): append-only trends would otherwise drop every reading for as
   * long as the gateway's clock was set back.
   */
  function serverClock(onStep) {
    let skew = null;
    return (serverTime) => {
      const next = new Date(serverTime).getTime() - Date.now();
      if (skew !== null && Math.abs(next - skew) > CLOCK_STEP_MS) onStep();
      skew = next;
      return skew;
    };
  }

  return { showAccount, stream, serverClock };
})();
