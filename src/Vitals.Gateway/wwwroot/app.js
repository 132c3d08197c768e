// Vitals chair overview: renders the SSE stream from /api/stream. No polling.
'use strict';

const TREND_MS = 30 * 60 * 1000;
// A continuous sign older than this is stale and must not look live; NIBP is episodic and shows its age instead.
const STALE_MS = { hr: 10000, pr: 10000, spo2: 10000, rr: 15000, temp: 120000, nibp_sys: 20 * 60000 };
const HEARTBEAT_LOST_MS = 5000;
const PRIORITY_RANK = { high: 3, medium: 2, low: 1 };
const PRIORITY_ICON = { high: '\u25B2\u25B2\u25B2', medium: '\u25B2\u25B2', low: '\u25B2' };

const chairs = new Map();
let skewMs = 0;
let lastMessage = 0;
let source = null;

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
  node.querySelector('.chair-name').textContent = view.name;
  el('grid').appendChild(node);
  const chair = { view, node, values: {}, alarms: [], feeds: view.feeds, rows: [], plot: null, dirty: true };
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
  const prev = chair.values[o.sign];
  if (!prev || new Date(prev.at) <= new Date(o.at)) chair.values[o.sign] = o;
  addToTrend(chair, o);
}

function applyAlarm(a) {
  const chair = chairs.get(a.chair);
  if (!chair) return;
  chair.alarms = chair.alarms.filter((x) => x.rule !== a.rule);
  if (a.state !== 'cleared') chair.alarms.push(a);
  chair.alarms.sort((x, y) => PRIORITY_RANK[y.priority] - PRIORITY_RANK[x.priority]);
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
    const stale = age > (STALE_MS[sign] || 10000);
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
    setValue(node, 'nibp', text, `measured ${fmtAge(age)}`, age > STALE_MS.nibp_sys);
    node.querySelector('.nibp .map').textContent = map ? `(${map.value.toFixed(0)})` : '';
  } else {
    setValue(node, 'nibp', '--/--', 'no cuff reading yet', false);
    node.querySelector('.nibp .map').textContent = '';
  }

  const [state, label] = feedState(chair, now);
  const badge = node.querySelector('.feed-state');
  badge.className = `feed-state ${state}`;
  badge.textContent = label;

  const top = chair.alarms[0];
  node.classList.remove('alarm-high', 'alarm-medium', 'alarm-low');
  const strip = node.querySelector('.alarm-strip');
  if (top) {
    node.classList.add(`alarm-${top.priority}`);
    strip.hidden = false;
    strip.className = `alarm-strip ${top.priority}`;
    strip.textContent = `${PRIORITY_ICON[top.priority]} ${top.priority.toUpperCase()}: ${top.message}` +
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

function renderBanner() {
  const all = [...chairs.values()].flatMap((c) => c.alarms.map((a) => ({ a, name: c.view.name })));
  all.sort((x, y) => PRIORITY_RANK[y.a.priority] - PRIORITY_RANK[x.a.priority] || new Date(x.a.at) - new Date(y.a.at));
  const banner = el('banner');
  banner.hidden = all.length === 0;
  banner.replaceChildren(...all.slice(0, 3).map(({ a, name }) => {
    const div = document.createElement('div');
    div.className = `b ${a.priority}`;
    div.textContent = `${PRIORITY_ICON[a.priority]} ${a.priority.toUpperCase()} ${a.kind === 'technical' ? '(technical) ' : ''}- ${name}: ${a.message}`;
    return div;
  }));
  el('counts').textContent = all.length ? `${all.length} active alarm${all.length > 1 ? 's' : ''}` : 'No active alarms';
}

function render() {
  const now = serverNow();
  for (const chair of chairs.values()) renderChair(chair, now);
  renderBanner();
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

function onSnapshot(snap) {
  skewMs = new Date(snap.serverTime).getTime() - Date.now();
  el('site').textContent = `- ${snap.site}`;
  el('demo-flag').hidden = !snap.demo;
  for (const view of snap.chairs) {
    let chair = chairs.get(view.id);
    if (!chair) { chair = createTile(view); chairs.set(view.id, chair); loadHistory(chair); }
    chair.view = view;
    chair.feeds = view.feeds;
    chair.alarms = [...view.alarms];
    for (const [sign, v] of Object.entries(view.values)) chair.values[sign] = { chair: view.id, sign, ...v };
  }
}

function connect() {
  source = new EventSource('/api/stream');
  const seen = () => { lastMessage = Date.now(); };
  source.addEventListener('snapshot', (e) => { seen(); onSnapshot(JSON.parse(e.data)); render(); });
  source.addEventListener('obs', (e) => { seen(); for (const o of JSON.parse(e.data)) applyObs(o); });
  source.addEventListener('alarm', (e) => { seen(); applyAlarm(JSON.parse(e.data)); render(); });
  source.addEventListener('tick', (e) => { seen(); skewMs = new Date(JSON.parse(e.data).serverTime).getTime() - Date.now(); });
  source.onerror = () => { lastMessage = 0; render(); };
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
}

el('logout').addEventListener('click', async () => { await vitalsApi.logout(); location.href = '/login'; });

connect();
showAccount();
setInterval(render, 1000);
