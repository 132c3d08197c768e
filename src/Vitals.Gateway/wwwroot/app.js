// Vitals chair overview: renders the SSE stream from /api/stream. No polling.
'use strict';

const TREND_MS = 30 * 60 * 1000;
const { isStale, isSilenced, PAUSE_RULE, fmtAge } = alarmUi;
const PRIORITY_RANK = alarmUi.RANK;
const PRIORITY_ICON = alarmUi.ICON;
// Signs shown in each value cell: an alarm on any of them marks the cell.
const CELL_SIGNS = { hr: ['hr', 'pr'], spo2: ['spo2'], rr: ['rr'], nibp: ['nibp_sys', 'nibp_dia', 'nibp_map'], temp: ['temp'] };

const chairs = new Map();
let skewMs = 0;
let stream = null;
let live = false;
let allPauseUntil = 0;
let listSignature = '';

const el = (id) => document.getElementById(id);

function serverNow() { return Date.now() + skewMs; }
// A clock step restarts every trend from the readings on the new clock (README "What the gateway guarantees under faults").
const serverSkew = vitalsShell.serverClock(() => { for (const c of chairs.values()) { c.rows = []; c.dirty = true; } });

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
  node.querySelector('.ack').setAttribute('aria-label', `Acknowledge all alarms at ${view.name}`);
  node.querySelector('.pause').setAttribute('aria-label', `Pause 2 min: audio at ${view.name}`);
  chair.plot = makePlot(node.querySelector('.trend'));
  new ResizeObserver(() => sizePlot(chair)).observe(node.querySelector('.trend'));
  return chair;
}

// A low chart gets fewer axis labels, so they never overlap.
const short = (u) => u.bbox.height / devicePixelRatio < 90;

function makePlot(container) {
  if (typeof uPlot === 'undefined') return null;
  const font = '12px system-ui';
  const opts = {
    width: Math.max(200, container.clientWidth || 400), height: Math.max(60, container.clientHeight || 120),
    legend: { show: false }, cursor: { show: false },
    scales: {
      // The window is always the last 30 min, however little data there is yet.
      x: { time: true, range: () => [(serverNow() - TREND_MS) / 1000, serverNow() / 1000] },
      v: { range: [30, 200] }, s: { range: [80, 100] },
    },
    axes: [
      alarmUi.timeAxis(font),
      { scale: 'v', stroke: '#aab4bf', grid: { stroke: '#243040' }, size: 40, font, splits: (u) => (short(u) ? [50, 150] : [50, 100, 150, 200]) },
      { scale: 's', side: 1, stroke: '#38c8f0', grid: { show: false }, size: 36, font, splits: (u) => (short(u) ? [80, 100] : [80, 90, 100]) },
    ],
    series: [
      {},
      { label: 'HR /min', scale: 'v', stroke: '#3ddc84', width: 2, points: { show: false } },
      { label: 'SpO2 %', scale: 's', stroke: '#38c8f0', width: 2, points: { show: false } },
      { label: 'NIBP sys mmHg', scale: 'v', stroke: '#f0f0f0', width: 1, spanGaps: true, points: { show: true, size: 6, fill: '#f0f0f0' } },
    ],
  };
  return new uPlot(opts, [[], [], [], []], container);
}

// Below this height a tile's chart has room for neither its lines nor two value labels above its time axis (they were
// drawn over each other at 1600x1000 with 8 chairs): the trend is left out rather than shown garbled.
const TREND_MIN_PX = 70;

function sizePlot(chair) {
  const box = chair.node.querySelector('.trend');
  // Hidden, not removed: the box keeps its share of the tile, so a larger window shows the trend again.
  box.parentElement.classList.toggle('cramped', box.clientHeight < TREND_MIN_PX);
  if (chair.plot && box.clientWidth > 0 && box.clientHeight > 0) chair.plot.setSize({ width: box.clientWidth, height: box.clientHeight });
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
  chair.values[o.sign] = o; // the most recently received, as on the server (LiveState)
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
  chair.alarms.sort(alarmUi.byPriority);
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
  if (!live) return ['not-live', 'NOT LIVE'];
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

/** "▲▲▲ HIGH · message · STATE" for one alarm, the state said once. */
function alarmLine(a) {
  const label = alarmUi.stateLabel(a);
  return `${PRIORITY_ICON[a.priority]} ${a.priority.toUpperCase()}${a.kind === 'technical' ? ' (technical)' : ''}: ${alarmUi.condition(a)}${label ? ` \u00B7 ${label}` : ''}`;
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
  node.querySelector('.tile-actions').hidden = chair.alarms.length === 0;
  node.querySelector('.ack').hidden = !chair.alarms.some((a) => !isSilenced(a));
  node.querySelector('.pause').hidden = left > 0;

  const top = chair.alarms[0];
  node.classList.remove('alarm-high', 'alarm-medium', 'alarm-low');
  const strip = node.querySelector('.alarm-strip');
  if (top) {
    node.classList.add(`alarm-${top.priority}`);
    strip.className = `alarm-strip ${top.priority}${isSilenced(top) ? ' silenced' : ''}`;
    strip.textContent = alarmLine(top) + (chair.alarms.length > 1 ? ` (+${chair.alarms.length - 1})` : '');
  } else {
    strip.className = 'alarm-strip none';
    strip.textContent = 'No active alarm';
  }
  for (const [cls, signs] of Object.entries(CELL_SIGNS)) {
    // The highest alarm on the cell's signs inverts its value onto that priority's colour.
    const worst = chair.alarms.find((a) => signs.includes(a.sign));
    const cell = node.querySelector(`.v.${cls}`);
    cell.classList.remove('out-high', 'out-medium', 'out-low', 'out-silenced');
    if (worst) cell.classList.add(`out-${worst.priority}`, ...(isSilenced(worst) ? ['out-silenced'] : []));
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

function allAlarms() {
  const all = [...chairs.values(), gatewayChair].flatMap((c) => c.alarms.map((a) => ({ a, chair: c })));
  return all.sort((x, y) => alarmUi.byPriority(x.a, y.a));
}

function alarmItem({ a, chair }) {
  const li = document.createElement('li');
  li.className = `b ${a.priority}${isSilenced(a) ? ' silenced' : ''}`;
  li.dataset.chair = a.chair;
  li.dataset.rule = a.rule;
  const text = document.createElement('span');
  text.className = 'text';
  const where = document.createElement('strong');
  where.textContent = `${chair.view.name} `;
  text.append(where, alarmLine(a));
  li.appendChild(text);
  if (!isSilenced(a)) {
    const ack = document.createElement('button');
    ack.type = 'button';
    ack.className = 'act ack';
    ack.textContent = 'Acknowledge';
    ack.setAttribute('aria-label', `Acknowledge ${a.priority} alarm at ${chair.view.name}: ${alarmUi.condition(a)}`);
    ack.addEventListener('click', () => action('POST', `/api/chairs/${encodeURIComponent(a.chair)}/alarms/${encodeURIComponent(a.rule)}/acknowledge`, null,
      `${chair.view.name}: alarm acknowledged (${alarmUi.condition(a)})`));
    li.appendChild(ack);
  }
  return li;
}

// The strip keeps at most its CSS height of rows; what does not fit is counted on "+N more", which opens them all.
function fitStrip() {
  const list = el('alarm-list');
  const items = [...list.children];
  for (const li of items) li.hidden = false;
  // Measured with the button already taking its room (and its widest text): shown only afterwards, it narrowed the
  // list, and an alarm counted as shown wrapped into a row the strip cuts off. Hiding it afterwards only widens the list.
  const more = el('more-alarms');
  more.hidden = false;
  more.textContent = `+${items.length} more`;
  const limit = list.getBoundingClientRect().top + list.clientHeight;
  let hidden = 0;
  for (const li of items) {
    if (hidden || li.getBoundingClientRect().bottom > limit + 1) { li.hidden = true; hidden++; }
  }
  more.hidden = hidden === 0;
  more.textContent = `+${hidden} more`;
  more.setAttribute('aria-label', `+${hidden} more: show all ${items.length} active alarms`);
}

function renderBanner(now) {
  const all = allAlarms();
  const banner = el('banner');
  const wasHidden = banner.hidden;
  banner.hidden = all.length === 0;
  // Rebuild only when the alarms change, so keyboard focus on a button survives the 1 s refresh.
  const signature = all.map(({ a }) => `${a.chair}|${a.rule}|${a.state}|${a.priority}|${a.message}`).join(';');
  if (signature !== listSignature) {
    const hadFocus = el('alarm-list').contains(document.activeElement);
    listSignature = signature;
    el('alarm-list').replaceChildren(...all.map(alarmItem));
    el('all-alarm-list').replaceChildren(...all.map(alarmItem));
    fitStrip();
    if (hadFocus) (el('alarm-list').querySelector('li:not([hidden]) button') || el('grid')).focus();
  } else if (wasHidden !== banner.hidden) {
    fitStrip();
  }
  const unsilenced = all.filter(({ a }) => !isSilenced(a)).length;
  el('counts').textContent = all.length ? `${all.length} active alarm${all.length > 1 ? 's' : ''}${unsilenced < all.length ? ` (${all.length - unsilenced} acknowledged)` : ''}` : 'No active alarms';

  const allLeft = allPauseUntil > now ? allPauseUntil - now : 0;
  el('pause-all-state').hidden = allLeft <= 0;
  el('pause-all-state').textContent = allLeft > 0 ? `AUDIO PAUSED, all chairs: ${alarmUi.fmtCountdown(allLeft)}` : '';
  el('pause-all').hidden = allLeft > 0;
  el('resume-all').hidden = allLeft <= 0;

  // Sound: the highest unsilenced alarm at a chair whose audio is not paused; a lost connection has its own tone.
  alarmUi.update(all.filter(({ a, chair }) => !isSilenced(a) && pauseLeft(chair, now) <= 0).map(({ a }) => a), !live && chairs.size > 0);
  renderSound();
}

function renderSound() {
  const on = alarmUi.isEnabled();
  el('sound-toggle').textContent = on ? 'Turn alarm sound off' : 'Turn alarm sound on';
  el('sound-toggle').setAttribute('aria-pressed', String(on));
  el('sound-note').textContent = on
    ? 'Sound on: high 10 pulses, medium 3, low 2; connection lost 2 falling tones.'
    : 'Alarm sound is OFF: click or press a key to allow it.';
  el('sound').classList.toggle('muted', !on);
}

function render() {
  const now = serverNow();
  live = stream !== null && stream.live();
  // Not live: every value is frozen, so nothing on the page may look live or invite an action.
  document.body.classList.toggle('offline', !live);
  for (const chair of chairs.values()) renderChair(chair, now);
  renderBanner(now);
  for (const b of document.querySelectorAll('button.act')) b.disabled = !live;
  el('clock').textContent = alarmUi.clockText(now, true);
  el('connection').hidden = live;
}

// Tiles fill the screen: the column count that gives the largest tiles for the chairs there are.
function layout() {
  const grid = el('grid');
  const n = chairs.size;
  if (!n || !grid.clientWidth) return;
  let best = null;
  for (let c = 1; c <= n; c++) {
    const r = Math.ceil(n / c);
    const score = Math.min(grid.clientWidth / c / 460, grid.clientHeight / r / 400);
    if (!best || score > best.score + 1e-6) best = { c, r, score };
  }
  grid.className = `grid cols-${best.c} rows-${best.r}`;
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
    const [statuses, pause] = await Promise.all(['/api/chair-status', '/api/pause'].map((u) => fetch(u, { credentials: 'same-origin' })));
    // The all-chairs pause first, so each chair's status can tell its own pause from the shared one.
    if (pause.ok) { const p = await pause.json(); allPauseUntil = p.remainingSeconds > 0 ? serverNow() + p.remainingSeconds * 1000 : 0; }
    if (statuses.ok) for (const st of await statuses.json()) applyStatus(st);
    render();
  } catch { /* shown again on the next status event */ }
}

function onSnapshot(snap) {
  skewMs = serverSkew(snap.serverTime);
  el('site').textContent = `- ${snap.site}`;
  el('demo-flag').hidden = !snap.demo;
  alarmUi.setStaleLimits(snap.staleSeconds);
  for (const view of snap.chairs) {
    let chair = chairs.get(view.id);
    if (!chair) { chair = createTile(view); chairs.set(view.id, chair); loadHistory(chair); }
    chair.view = view;
    chair.feeds = view.feeds;
    chair.alarms = [...view.alarms].sort(alarmUi.byPriority);
    for (const [sign, v] of Object.entries(view.values)) chair.values[sign] = { chair: view.id, sign, ...v };
  }
  gatewayChair.alarms = [...(snap.gatewayAlarms || [])];
  layout();
  loadStatus();
}

new ResizeObserver(layout).observe(el('grid'));
window.addEventListener('resize', fitStrip);
el('more-alarms').addEventListener('click', () => el('all-alarms').showModal());
el('sound-toggle').addEventListener('click', () => { if (alarmUi.isEnabled()) alarmUi.disable(); else alarmUi.enable(); renderSound(); });
el('pause-all').addEventListener('click', async () => {
  const result = await action('POST', '/api/pause', { seconds: 120 }, 'Audio paused at all chairs for 2 min');
  if (result.ok) { allPauseUntil = serverNow() + result.data.remainingSeconds * 1000; for (const c of chairs.values()) c.breakAll = false; render(); }
});
el('resume-all').addEventListener('click', async () => {
  const result = await action('POST', '/api/resume', null, 'Audio resumed at all chairs');
  if (result.ok) { allPauseUntil = 0; render(); }
});
// Any interaction unlocks audio (autoplay rules), except the explicit "off" button itself.
let soundOffByUser = false;
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, (e) => { if (e.target !== el('sound-toggle') && !alarmUi.isEnabled() && !soundOffByUser) { alarmUi.enable(); setTimeout(renderSound, 100); } });
}
el('sound-toggle').addEventListener('click', () => { soundOffByUser = !alarmUi.isEnabled(); });

stream = vitalsShell.stream({
  snapshot: (snap) => { onSnapshot(snap); render(); },
  obs: (list) => { for (const o of list) applyObs(o); },
  alarm: (a) => { applyAlarm(a); render(); },
  status: (st) => { applyStatus(st); render(); },
  tick: (t) => { skewMs = serverSkew(t.serverTime); },
}, render);
vitalsShell.showAccount();
setInterval(render, 1000);
