// Shared by the nurse view and the chair page: priorities, alarm tones, nurse actions with login prompts, staleness.
'use strict';

const alarmUi = (() => {
  const RANK = { high: 3, medium: 2, low: 1 };
  // Shapes differ as well as colours, so colour is never the only cue.
  const ICON = { high: '\u25B2\u25B2\u25B2', medium: '\u25B2\u25B2', low: '\u25B2' };
  const SILENT_STATES = new Set(['acknowledged']);
  const isSilenced = (a) => SILENT_STATES.has(a.state);
  // A value older than its sign's limit is stale and must not look live. The limits come from the stream's snapshot
  // (staleSeconds: the server's StalePolicy with its config), so the page and the API's staleSigns agree; a sign
  // missing from them is not checked (its check is turned off).
  let staleMs = {};
  function setStaleLimits(seconds) {
    staleMs = Object.fromEntries(Object.entries(seconds || {}).map(([sign, s]) => [sign, s * 1000]));
  }
  const isStale = (sign, ageMs) => sign in staleMs && ageMs > staleMs[sign];
  // No stream message (the server ticks every second) for this long: every tile shows NOT LIVE (within 2 s).
  const HEARTBEAT_LOST_MS = 1800;

  // A stream refused with 401 (session expired or logged out elsewhere) never recovers by itself: go to the login page.
  async function redirectIfSignedOut() {
    try {
      const res = await fetch('/api/info', { credentials: 'same-origin' });
      if (res.status === 401) location.href = `/login?ReturnUrl=${encodeURIComponent(location.pathname)}`;
    } catch { /* server down: the connection-lost banner says so */ }
  }

  function byPriority(x, y) {
    return RANK[y.priority] - RANK[x.priority] || new Date(x.at || x.raisedAt) - new Date(y.at || y.raisedAt);
  }

  function fmtCountdown(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  /** How long ago a value arrived, as the tiles say it: "42 s ago", "3 min ago", "1 h 5 min ago". */
  function fmtAge(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s ago`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ago` : `${Math.floor(m / 60)} h ${m % 60} min ago`;
  }

  function fmtElapsed(ms) {
    const m = Math.max(0, Math.floor(ms / 60000));
    return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  // --- sound -------------------------------------------------------------------------------------
  // Tones follow the IEC 60601-1-8 pattern idea: high = two bursts of five pulses (3 + 2), medium = three
  // pulses, low = two pulses. Browsers block audio until the user interacts with the page, hence enable().
  const PATTERNS = {
    high: { pitch: 880, pulses: [0, 0.25, 0.5, 1.0, 1.25, 2.5, 2.75, 3.0, 3.5, 3.75], repeatMs: 10000 },
    medium: { pitch: 660, pulses: [0, 0.3, 0.6], repeatMs: 15000 },
    low: { pitch: 520, pulses: [0, 0.4], repeatMs: 0 },
    // Connection lost (a technical alarm of this display): a falling pair, unlike any patient alarm.
    lost: { pitch: 392, pulses: [0, 0.35], falling: true, repeatMs: 20000 },
  };
  let ctx = null;
  let enabled = false;
  let lastPlayed = { priority: null, at: 0 };
  const lowPlayed = new Set();

  function enable() {
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    if (!AudioCtx) return false;
    ctx = ctx || new AudioCtx();
    if (ctx.state === 'suspended') ctx.resume();
    enabled = true;
    return true;
  }

  function disable() { enabled = false; }

  function isEnabled() { return enabled && ctx !== null && ctx.state === 'running'; }

  function pulse(at, pitch) {
    // A pulse with a few harmonics is easier to localise than a pure sine (IEC 60601-1-8 asks for >= 4 harmonics).
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.25, at + 0.02);
    gain.gain.setValueAtTime(0.25, at + 0.14);
    gain.gain.linearRampToValueAtTime(0, at + 0.18);
    gain.connect(ctx.destination);
    for (const [mult, level] of [[1, 1], [2, 0.5], [3, 0.33], [4, 0.25], [5, 0.2]]) {
      const osc = ctx.createOscillator();
      const g = ctx.createGain();
      osc.frequency.value = pitch * mult;
      g.gain.value = level;
      osc.connect(g).connect(gain);
      osc.start(at);
      osc.stop(at + 0.2);
    }
  }

  function play(priority) {
    if (!isEnabled()) return;
    const p = PATTERNS[priority];
    const t0 = ctx.currentTime + 0.05;
    p.pulses.forEach((offset, i) => pulse(t0 + offset, p.falling ? p.pitch / (1 + i * 0.26) : p.pitch));
    // Kept on the page so a test (or a curious engineer) can tell which pattern last sounded.
    document.documentElement.dataset.tone = priority;
  }

  /** Called about once a second with the audible alarms (unsilenced, chair not paused); connectionLost sounds its own tone instead. */
  function update(audible, connectionLost) {
    if (connectionLost) audible = [{ priority: 'lost' }];
    if (!audible.length) { lastPlayed = { priority: null, at: 0 }; return; }
    const top = connectionLost ? audible[0] : audible.slice().sort(byPriority)[0];
    const now = Date.now();
    if (top.priority === 'low') {
      // Low priority sounds once per occurrence, not repeatedly.
      const key = `${top.chair}/${top.rule}/${top.raisedAt || ''}`;
      if (!lowPlayed.has(key)) { lowPlayed.add(key); play('low'); }
      return;
    }
    const p = PATTERNS[top.priority];
    if (lastPlayed.priority !== top.priority || now - lastPlayed.at >= p.repeatMs) {
      play(top.priority);
      lastPlayed = { priority: top.priority, at: now };
    }
  }

  // --- words for nurses ---------------------------------------------------------------------------
  // One state label per alarm, taken from its state. The engine's message may repeat the state as a suffix
  // ("(unacknowledged for 2 min)"); the nurse reads it once, so the suffix is dropped from the text.
  const STATE_SUFFIX = /( \((unacknowledged for \d+ min|condition ended; acknowledge to clear|acknowledged after the condition ended)\))+$/;
  const condition = (a) => String(a.message || '').replace(STATE_SUFFIX, '');
  // "Escalated" means one thing: raised to high priority because nobody acknowledged it. A worse band of the
  // same condition also arrives as state "escalated"; its priority word already says it, so it gets no label.
  const unacknowledgedEscalation = (a) => a.state === 'escalated' && /\(unacknowledged for \d+ min\)/.test(a.message || '');

  function stateLabel(a) {
    if (a.state === 'escalated') return unacknowledgedEscalation(a) ? 'ESCALATED: not acknowledged' : '';
    return { acknowledged: 'ACKNOWLEDGED', latched: 'ENDED: acknowledge to clear', reannounced: 'STILL PRESENT' }[a.state] || '';
  }

  const PRIORITY_WORD = { high: 'High', medium: 'Medium', low: 'Low' };
  const PAUSE_RULE = 'audio.pause';

  /** History row words: [priority, event] with no rule ids; audio pauses are not alarms and carry no priority. */
  function historyWords(a) {
    if (a.rule === PAUSE_RULE) return ['\u2014', a.state === 'paused' ? `Audio paused${a.value ? ` ${Math.round(a.value / 60 * 10) / 10} min` : ''}` : 'Audio resumed'];
    const event = a.state === 'escalated'
      ? (unacknowledgedEscalation(a) ? 'Escalated (not acknowledged)' : 'Worse: priority raised')
      : { raised: 'Raised', acknowledged: 'Acknowledged', reannounced: 'Re-announced (still present)', cleared: 'Ended', latched: 'Condition ended, awaiting acknowledgement' }[a.state] || a.state;
    return [PRIORITY_WORD[a.priority] || a.priority, event];
  }

  // --- time --------------------------------------------------------------------------------------
  const two = (n) => String(n).padStart(2, '0');
  /** 24-hour HH:MM (and :SS) in the display's local time, whatever the browser's locale. */
  function clockText(ms, seconds) {
    const d = new Date(ms);
    return `${two(d.getHours())}:${two(d.getMinutes())}${seconds ? `:${two(d.getSeconds())}` : ''}`;
  }

  /** A uPlot time axis labelled in 24-hour HH:MM, ticks on whole minutes only. */
  function timeAxis(font) {
    return {
      stroke: '#aab4bf', grid: { stroke: '#243040' }, size: 28, font, space: 90,
      incrs: [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400],
      values: (u, splits) => splits.map((s) => clockText(s * 1000)),
    };
  }

  // --- actions -----------------------------------------------------------------------------------
  let me = null;

  async function account() {
    if (!me) me = await vitalsApi.me();
    return me;
  }

  function canAct(user) { return user && (user.role === 'nurse' || user.role === 'admin'); }

  /** Sends a nurse action. Anonymous users are offered the login page; viewers are told why not. */
  async function act(method, url, body) {
    const user = await account();
    if (!user.name) {
      if (window.confirm('Handling alarms needs a nurse login. Go to the login page now?')) {
        location.href = `/login?ReturnUrl=${encodeURIComponent(location.pathname)}`;
      }
      return { ok: false, message: 'Log in as a nurse to handle alarms.' };
    }
    if (!canAct(user)) return { ok: false, message: `The ${user.role} role cannot handle alarms; log in as a nurse.` };
    const res = await vitalsApi.send(method, url, body);
    let data = null;
    try { data = await res.json(); } catch { /* 204 or empty */ }
    if (res.ok) return { ok: true, data };
    const errors = data && data.errors ? data.errors : null;
    const message = (errors && Object.values(errors).flat()[0]) || (data && (data.detail || data.title)) || `Request failed (${res.status}).`;
    return { ok: false, status: res.status, errors, message };
  }

  return {
    RANK, ICON, SILENT_STATES, isSilenced, setStaleLimits, isStale, HEARTBEAT_LOST_MS, PAUSE_RULE, redirectIfSignedOut, byPriority, fmtCountdown, fmtAge, fmtElapsed,
    enable, disable, isEnabled, update, act, account, canAct, condition, stateLabel, historyWords, clockText, timeAxis,
  };
})();
