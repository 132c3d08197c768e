// Vitals chair overview: renders the SSE stream from /api/stream. No polling.
'use strict';

const TREND_MS = 30 * 60 * 1000;
const { isStale, HEARTBEAT_LOST_MS, isSilenced } = alarmUi;
const PRIORITY_RANK = alarmUi.RANK;
const PRIORITY_ICON = alarmUi.ICON;
const PAUSE_RULE = 'audio.pause';

const chairs = new Map();
let skewMs = 0;
let lastMessage = 0;
let source = null;
let allPauseUntil = 0;
let listSignature = '';

const el = (id) => document.getElementById(id);

function serverNow() { return Date.now() + skewMs; }

function fmtAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.floor(m / 60)} h ${m % 60} min ago`;
}

function createTile(view) {
  const node = el('tile-template').content.firstElementChild.cloneNode(true);
  node.dataset.chair = view.id;
  const link = node.querySelector('.chair-link');
  link.textContent = view.name;
  link.href = `/chairs/${encodeURIComponent(view.id)}`;
  link.title = `${view.name}: trends, alarm history, baseline, session`;
  node.setAttribute('aria-label', view.name);
  el('grid').appendChild(node);
  const chair = { view, node, values: {}, alarms: [], feeds: view.feeds, rows: [], plot: null, dirty: true, status: null, pauseUntil: 0, breakAll: false };
  node.querySelector('.ack').addEventListener('click', () => action('POST', `/api/chairs/${encodeURIComponent(view.id)}/acknowledge`, null, `${view.name}: alarms acknowledged`));
  node.querySelector('.pause').addEventListener('click', () => pauseChair(chair));
  chair.plot = makePlot(node.querySelector('.trend'));
  return chair;
}

function makePlot(container) {
  if (typeof uPlot === 'undefined') return null;
  const opts = {
    width: Math.max(300, container.clientWidth || 400), height: 130,
    legend: { show: false }, cursor: { show: false },
    scales: { x: { time: true }, v: { range: [30, 200] }, s: { range: [80, 100] } },
    axes: [
      { stroke: '#8a96a3', grid: { stroke: '#243040' }, size: 24, font: '11px system-ui' },
      { scale: 'v', stroke: '#8a96a3', grid: { stroke: '#243040' }, size: 40, font: '11px system-ui' },
      { scale: 's', side: 1, stroke: '#38c8f0', grid: { show: false }, size: 36, font: '11px system-ui' },
    ],
    series: [
      {},
      { label: 'HR', scale: 'v', stroke: '#3ddc84', width: 1.5, points: { show: false } },
      { label: 'SpO2', scale: 's', stroke: '#38c8f0', width: 1.5, points: { show: false } },
      { label: 'SBP', scale: 'v', stroke: '#f0f0f0', width: 1, spanGaps: true, points: { show: true, size: 5, fill: '#f0f0f0' } },
    ],
  };
  return new uPlot(opts, [[], [], [], []], container);
}

function addToTrend(chair, o) {
  const col = { hr: 1, spo2: 2, nibp_sys: 3 }[o.sign];
  if (!col) return;
  const t = Math.floor(new Date(o.at).getTime() / 1000);
  let row = chair.rows.length ? chair.rows[chair.rows.length - 1] : null;
  if (!row || row[0] !== t) {
    if (row && t < row[0]) return; // late reading: the trend is append-only
    row = [t, null, null, null];
    chair.rows.push(row);
  }
  row[col] = o.value;
  chair.dirty = true;
}

function applyObs(o) {
  const chair = chairs.get(o.chair);
  if (!chair) return;
  // A new cuff reading can complete a session's baseline proposal, which the engine does not push: ask once.
  if (o.sign === 'nibp_sys' && chair.status && chair.status.session && chair.status.baseline.state !== 'confirmed') refreshStatus(chair);
  const prev = chair.values[o.sign];
  if (!prev || new Date(prev.at) <= new Date(o.at)) chair.values[o.sign] = o;
  addToTrend(chair, o);
}

// Store and forwarding faults belong to no chair; they join the alarm list under "Gateway".
const gatewayChair = { view: { id: 'gateway', name: 'Gateway' }, alarms: [] };

function applyAlarm(a) {
  if (a.rule === PAUSE_RULE) { applyPause(a); return; }
  const chair = a.chair === gatewayChair.view.id ? gatewayChair : chairs.get(a.chair);
  if (!chair) return;
  chair.alarms = chair.alarms.filter((x) => x.rule !== a.rule);
  if (a.state !== 'cleared') chair.alarms.push(a);
  chair.alarms.sort((x, y) => PRIORITY_RANK[y.priority] - PRIORITY_RANK[x.priority]);
}

// Pause and resume events carry the pause length in value; a breakthrough ends one chair's share of an all-chairs pause.
function applyPause(a) {
  const until = a.state === 'paused' ? new Date(a.at).getTime() + (a.value || 0) * 1000 : 0;
  if (a.chair === '*') {
    allPauseUntil = until;
    if (until) for (const c of chairs.values()) c.breakAll = false;
    return;
  }
  const chair = chairs.get(a.chair);
  if (!chair) return;
  chair.pauseUntil = until;
  if (!until && !a.user) chair.breakAll = true;
}

function applyStatus(st) {
  const chair = chairs.get(st.chair);
  if (!chair) return;
  chair.status = st;
  chair.pauseUntil = st.pauseRemainingSeconds > 0 ? serverNow() + st.pauseRemainingSeconds * 1000 : 0;
  if (st.pauseRemainingSeconds > 0 && allPauseUntil > chair.pauseUntil) chair.pauseUntil = 0; // the all-chairs pause shows instead
}

function pauseLeft(chair, now) {
  const own = chair.pauseUntil > now ? chair.pauseUntil - now : 0;
  const all = !chair.breakAll && allPauseUntil > now ? allPauseUntil - now : 0;
  return Math.max(own, all);
}


async function action(method, url, body, done) {
  const result = await alarmUi.act(method, url, body);
  const msg = el('action-msg');
  msg.hidden = false;
  msg.className = `action-msg ${result.ok ? 'ok' : 'err'}`;
  msg.textContent = result.ok ? done : result.message;
  clearTimeout(action.timer);
  action.timer = setTimeout(() => { msg.hidden = true; }, 6000);
  if (result.ok && result.data && result.data.status) applyStatus(result.data.status);
  render();
  return result;
}

async function pauseChair(chair) {
  const result = await action('POST', `/api/chairs/${encodeURIComponent(chair.view.id)}/pause`, { seconds: 120 }, `${chair.view.name}: audio paused for 2 min`);
  if (result.ok) { chair.pauseUntil = serverNow() + result.data.remainingSeconds * 1000; render(); }
}

function feedState(chair, now) {
  if (chair.alarms.some((a) => a.rule === 'feed.lost')) return ['lost', 'FEED LOST'];
  const last = Math.max(0, ...chair.feeds.map((f) => (f.lastFrameAt ? new Date(f.lastFrameAt).getTime() : 0)),
    ...Object.values(chair.values).map((v) => new Date(v.at).getTime()));
  if (!last) return ['waiting', 'WAITING'];
  return now - last > 10000 ? ['stale', `NO DATA ${fmtAge(now - last)}`] : ['live', 'LIVE'];
}

function setValue(tile, cls, text, sub, stale) {
  const v = tile.querySelector(`.v.${cls}`);
  v.querySelector('.num').textContent = text;
  v.querySelector('.sub').textContent = sub || '';
  v.classList.toggle('stale', !!stale);
}

function renderChair(chair, now) {
  const { node, values } = chair;
  const show = (sign, digits = 0) => {
    const o = values[sign];
    if (!o) return ['--', '', false];
    const age = now - new Date(o.at).getTime();
    const stale = isStale(sign, age);
    return [o.value.toFixed(digits), stale ? `${fmtAge(age)}` : '', stale];
  };
  const [hr, hrSub, hrStale] = show('hr');
  const pr = values.pr ? `PR ${values.pr.value.toFixed(0)}` : '';
  setValue(node, 'hr', hr, hrStale ? hrSub : pr, hrStale);
  setValue(node, 'spo2', ...show('spo2'));
  setValue(node, 'rr', ...show('rr'));
  setValue(node, 'temp', ...show('temp', 1));

  const sys = values.nibp_sys, dia = values.nibp_dia, map = values.nibp_map;
  if (sys) {
    const age = now - new Date(sys.at).getTime();
    const text = `${sys.value.toFixed(0)}/${dia ? dia.value.toFixed(0) : '--'}`;
    setValue(node, 'nibp', text, `measured ${fmtAge(age)}`, isStale('nibp_sys', age));
    node.querySelector('.nibp .map').textContent = map ? `(${map.value.toFixed(0)})` : '';
  } else {
    setValue(node, 'nibp', '--/--', 'no cuff reading yet', false);
    node.querySelector('.nibp .map').textContent = '';
  }

  const [state, label] = feedState(chair, now);
  const badge = node.querySelector('.feed-state');
  badge.className = `feed-state ${state}`;
  badge.textContent = label;

  const st = chair.status;
  const session = st && st.session;
  node.querySelector('.session').textContent = session
    ? `${session.patientPseudonym} \u00B7 ${session.drug} \u00B7 ${alarmUi.fmtElapsed(now - new Date(session.startedAt).getTime())}`
    : 'No infusion session';
  const baseline = node.querySelector('.baseline');
  const bstate = session && st.baseline ? st.baseline.state : null;
  baseline.textContent = !bstate ? '' : bstate === 'confirmed' ? 'Baseline confirmed' : bstate === 'proposed' ? 'Baseline awaits nurse' : 'Baseline: collecting';
  baseline.className = `baseline ${bstate || ''}`;
  const left = pauseLeft(chair, now);
  const pauseState = node.querySelector('.pause-state');
  pauseState.hidden = left <= 0;
  pauseState.textContent = left > 0 ? `AUDIO PAUSED ${alarmUi.fmtCountdown(left)}` : '';
  const actions = node.querySelector('.tile-actions');
  actions.hidden = chair.alarms.length === 0;
  node.querySelector('.ack').hidden = !chair.alarms.some((a) => !isSilenced(a));
  node.querySelector('.pause').hidden = left > 0;

  const top = chair.alarms[0];
  node.classList.remove('alarm-high', 'alarm-medium', 'alarm-low');
  const strip = node.querySelector('.alarm-strip');
  if (top) {
    node.classList.add(`alarm-${top.priority}`);
    strip.hidden = false;
    strip.className = `alarm-strip ${top.priority}`;
    strip.textContent = `${PRIORITY_ICON[top.priority]} ${top.priority.toUpperCase()}${stateLabel(top)}: ${top.message}` +
      (chair.alarms.length > 1 ? ` (+${chair.alarms.length - 1} more)` : '');
  } else {
    strip.hidden = true;
  }
  for (const cls of ['hr', 'spo2', 'nibp', 'rr', 'temp']) {
    const signs = cls === 'nibp' ? ['nibp_sys', 'nibp_dia', 'nibp_map'] : cls === 'hr' ? ['hr', 'pr'] : [cls];
    node.querySelector(`.v.${cls}`).classList.toggle('out', chair.alarms.some((a) => signs.includes(a.sign)));
  }

  if (chair.plot && chair.dirty) {
    const cutoff = (now - TREND_MS) / 1000;
    while (chair.rows.length && chair.rows[0][0] < cutoff) chair.rows.shift();
    const cols = [[], [], [], []];
    for (const r of chair.rows) for (let i = 0; i < 4; i++) cols[i].push(r[i]);
    chair.plot.setData(cols);
    chair.dirty = false;
  }
}

function stateLabel(a) {
  return { acknowledged: ' (acknowledged)', latched: ' (LATCHED: condition ended, acknowledge)', escalated: ' (ESCALATED)', reannounced: ' (re-announced)' }[a.state] || '';
}

function renderBanner(now) {
  const all = [...chairs.values(), gatewayChair].flatMap((c) => c.alarms.map((a) => ({ a, chair: c })));
  all.sort((x, y) => alarmUi.byPriority(x.a, y.a));
  const banner = el('banner');
  banner.hidden = all.length === 0;
  // Rebuild only when the alarms change, so keyboard focus on a button survives the 1 s refresh.
  const signature = all.map(({ a }) => `${a.chair}|${a.rule}|${a.state}|${a.priority}|${a.message}`).join(';');
  if (signature !== listSignature) {
    const hadFocus = el('alarm-list').contains(document.activeElement);
    listSignature = signature;
    el('alarm-list').replaceChildren(...all.map(({ a, chair }) => {
      const li = document.createElement('li');
      li.className = `b ${a.priority}${isSilenced(a) ? ' silenced' : ''}`;
      li.dataset.chair = a.chair;
      li.dataset.rule = a.rule;
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = `${PRIORITY_ICON[a.priority]} ${a.priority.toUpperCase()}${a.kind === 'technical' ? ' (technical)' : ''} - ${chair.view.name}: ${a.message}${stateLabel(a)}`;
      li.appendChild(text);
      if (!isSilenced(a)) {
        const ack = document.createElement('button');
        ack.type = 'button';
        ack.className = 'act ack';
        ack.textContent = 'Acknowledge';
        ack.setAttribute('aria-label', `Acknowledge ${a.priority} alarm at ${chair.view.name}: ${a.message}`);
        ack.addEventListener('click', () => action('POST', `/api/chairs/${encodeURIComponent(a.chair)}/alarms/${encodeURIComponent(a.rule)}/acknowledge`, null, `${chair.view.name}: ${a.rule} acknowledged`));
        li.appendChild(ack);
      }
      const pause = document.createElement('button');
      pause.type = 'button';
      pause.className = 'act pause';
      pause.textContent = 'Pause 2 min';
      pause.setAttribute('aria-label', `Pause audio at ${chair.view.name} for 2 minutes`);
      pause.addEventListener('click', () => pauseChair(chair));
      li.appendChild(pause);
      return li;
    }));
    if (hadFocus) (el('alarm-list').querySelector('button') || el('grid')).focus();
  }
  const unsilenced = all.filter(({ a }) => !isSilenced(a)).length;
  el('counts').textContent = all.length ? `${all.length} active alarm${all.length > 1 ? 's' : ''}${unsilenced < all.length ? ` (${all.length - unsilenced} acknowledged)` : ''}` : 'No active alarms';

  const allLeft = allPauseUntil > now ? allPauseUntil - now : 0;
  el('pause-all-state').hidden = allLeft <= 0;
  el('pause-all-state').textContent = allLeft > 0 ? `AUDIO PAUSED, all chairs: ${alarmUi.fmtCountdown(allLeft)}` : '';
  el('pause-all').hidden = allLeft > 0;
  el('resume-all').hidden = allLeft <= 0;

  // Sound: the highest unsilenced alarm at a chair whose audio is not paused.
  alarmUi.update(all.filter(({ a, chair }) => !isSilenced(a) && pauseLeft(chair, now) <= 0 && source !== null && Date.now() - lastMessage < HEARTBEAT_LOST_MS).map(({ a }) => a));
  renderSound();
}

function renderSound() {
  const on = alarmUi.isEnabled();
  el('sound-toggle').textContent = on ? 'Turn alarm sound off' : 'Turn alarm sound on';
  el('sound-toggle').setAttribute('aria-pressed', String(on));
  el('sound-note').textContent = on
    ? 'Alarm sound on: high = 10 pulses, medium = 3 pulses, low = 2 pulses.'
    : 'Alarm sound is OFF: browsers play sound only after you click or press a key on this page.';
  el('sound').classList.toggle('muted', !on);
}

function render() {
  const now = serverNow();
  for (const chair of chairs.values()) renderChair(chair, now);
  renderBanner(now);
  el('clock').textContent = new Date(now).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  el('connection').hidden = source !== null && Date.now() - lastMessage < HEARTBEAT_LOST_MS;
}

async function loadHistory(chair) {
  try {
    const res = await fetch(`/api/chairs/${encodeURIComponent(chair.view.id)}/history?minutes=30`);
    if (!res.ok) return;
    const history = await res.json();
    const live = chair.rows;
    chair.rows = [];
    for (const o of history) addToTrend(chair, o);
    for (const r of live) if (!chair.rows.length || r[0] > chair.rows[chair.rows.length - 1][0]) chair.rows.push(r);
    chair.dirty = true;
  } catch { /* the live stream still fills the trend */ }
}

async function refreshStatus(chair) {
  try {
    const res = await fetch(`/api/chairs/${encodeURIComponent(chair.view.id)}/status`, { credentials: 'same-origin' });
    if (res.ok) applyStatus(await res.json());
  } catch { /* the next status event brings it */ }
}

async function loadStatus() {
  try {
    const res = await fetch('/api/chair-status', { credentials: 'same-origin' });
    if (!res.ok) return;
    for (const st of await res.json()) applyStatus(st);
    render();
  } catch { /* shown again on the next status event */ }
}

function onSnapshot(snap) {
  skewMs = new Date(snap.serverTime).getTime() - Date.now();
  el('site').textContent = `- ${snap.site}`;
  el('demo-flag').hidden = !snap.demo;
  alarmUi.setStaleLimits(snap.staleSeconds);
  for (const view of snap.chairs) {
    let chair = chairs.get(view.id);
    if (!chair) { chair = createTile(view); chairs.set(view.id, chair); loadHistory(chair); }
    chair.view = view;
    chair.feeds = view.feeds;
    chair.alarms = [...view.alarms];
    for (const [sign, v] of Object.entries(view.values)) chair.values[sign] = { chair: view.id, sign, ...v };
  }
  gatewayChair.alarms = [...(snap.gatewayAlarms || [])];
  loadStatus();
}

function connect() {
  source = new EventSource('/api/stream');
  const seen = () => { lastMessage = Date.now(); };
  source.addEventListener('snapshot', (e) => { seen(); onSnapshot(JSON.parse(e.data)); render(); });
  source.addEventListener('obs', (e) => { seen(); for (const o of JSON.parse(e.data)) applyObs(o); });
  source.addEventListener('alarm', (e) => { seen(); applyAlarm(JSON.parse(e.data)); render(); });
  source.addEventListener('status', (e) => { seen(); applyStatus(JSON.parse(e.data)); render(); });
  source.addEventListener('tick', (e) => { seen(); skewMs = new Date(JSON.parse(e.data).serverTime).getTime() - Date.now(); });
  source.onerror = () => { lastMessage = 0; render(); alarmUi.redirectIfSignedOut(); };
}

window.addEventListener('resize', () => {
  for (const c of chairs.values()) if (c.plot) c.plot.setSize({ width: c.node.querySelector('.trend').clientWidth, height: 130 });
});

async function showAccount() {
  const me = await vitalsApi.me();
  el('who').textContent = me.name ? `${me.name} (${me.role})` : '';
  el('login-link').hidden = !!me.name;
  el('logout').hidden = !me.name;
  el('admin-link').hidden = me.role !== 'admin';
  // A wall display (viewer) is read-only: no buttons that would only be refused.
  document.body.classList.toggle('read-only', me.role === 'viewer');
}

el('logout').addEventListener('click', async () => { await vitalsApi.logout(); location.href = '/login'; });
el('sound-toggle').addEventListener('click', () => { if (alarmUi.isEnabled()) alarmUi.disable(); else alarmUi.enable(); renderSound(); });
el('pause-all').addEventListener('click', async () => {
  const result = await action('POST', '/api/pause', { seconds: 120 }, 'Audio paused at all chairs for 2 min');
  if (result.ok) { allPauseUntil = serverNow() + result.data.remainingSeconds * 1000; for (const c of chairs.values()) c.breakAll = false; render(); }
});
el('resume-all').addEventListener('click', () => action('POST', '/api/resume', null, 'Audio resumed at all chairs'));
// Any interaction unlocks audio (autoplay rules), except the explicit "off" button itself.
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, (e) => { if (e.target !== el('sound-toggle') && !alarmUi.isEnabled() && !soundOffByUser) { alarmUi.enable(); setTimeout(renderSound, 100); } }, { once: false });
}
let soundOffByUser = false;
el('sound-toggle').addEventListener('click', () => { soundOffByUser = !alarmUi.isEnabled(); });

connect();
showAccount();
setInterval(render, 1000);
