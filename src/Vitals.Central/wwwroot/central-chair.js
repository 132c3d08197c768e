// Central's chair page: one chair of one site, its alarms (site name on each) and latest values; NOT LIVE when its site is.
'use strict';

(() => {
  const el = (id) => document.getElementById(id);
  const [, , siteName, , chairId] = location.pathname.split('/').map(decodeURIComponent);
  let site = null;
  let alarms = [];
  let streamLive = false;
  const UNITS = { 'mm[Hg]': 'mmHg', Cel: '\u00B0C' }; // UCUM codes as people read them
  const NAMES = { hr: 'Heart rate', pr: 'Pulse rate', spo2: 'SpO2', rr: 'Respiration rate', nibp_sys: 'NIBP systolic', nibp_dia: 'NIBP diastolic', nibp_map: 'NIBP mean', temp: 'Temperature' };

  function render() {
    const chair = site && site.chairs.find((c) => c.id === chairId);
    if (!chair) return;
    const live = streamLive && site.gateway.live;
    document.title = `Vitals central: ${siteName} \u00B7 ${chair.name}`;
    el('title').textContent = `${siteName} \u00B7 ${chair.name}`;
    el('state').className = `feed-state ${live ? 'live' : 'not-live'}`;
    el('state').textContent = live ? 'LIVE' : 'NOT LIVE';
    el('reason').hidden = site.gateway.live;
    el('reason').textContent = site.gateway.reason || '';
    const mine = alarms.filter((a) => a.site === siteName && a.chair === chairId);
    centralView.fillAlarmList(el('alarms'), mine, Date.now());
    el('no-alarms').hidden = mine.length > 0;
    const stale = new Set(chair.staleSigns || []); // as the site judged them
    el('values').replaceChildren(...Object.entries(chair.values).map(([sign, v]) => {
      const tr = document.createElement('tr');
      tr.classList.toggle('stale', stale.has(sign));
      const at = stale.has(sign) ? `${centralView.clock(v.at)}, STALE (${alarmUi.fmtAge(Date.now() - new Date(v.at).getTime())})` : centralView.clock(v.at);
      for (const text of [NAMES[sign] || sign, `${centralView.fmt(sign, v)} ${UNITS[v.unit] || v.unit}`, at]) {
        const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
      }
      return tr;
    }));
  }

  // Trends from the sites' shared InfluxDB (only when central has --influx): one small panel per sign, its own scale.
  const SERIES = [['hr', 'HR /min'], ['nibpSys', 'NIBP sys mmHg'], ['spo2', 'SpO2 %']];
  const SVG = 'http://www.w3.org/2000/svg';
  function panel(key, label, points, minutes) {
    const div = document.createElement('div');
    div.className = `trend-panel ${key}`;
    const values = points.filter((p) => typeof p[key] === 'number'); // buckets without the sign omit it
    const lo = Math.min(...values.map((p) => p[key]));
    const hi = Math.max(...values.map((p) => p[key]));
    const name = document.createElement('span');
    name.textContent = values.length ? `${label}: ${lo.toFixed(0)}-${hi.toFixed(0)}` : `${label}: no data`;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 1000 100');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', name.textContent);
    if (values.length) {
      const span = minutes * 60000; const t0 = Date.now() - span; const range = Math.max(1, hi - lo); // x: the whole window, ending now
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', values.map((p) => `${Math.max(0, ((p.t - t0) / span) * 1000).toFixed(1)},${(95 - ((p[key] - lo) / range) * 90).toFixed(1)}`).join(' '));
      svg.appendChild(line);
    }
    div.append(name, svg);
    return div;
  }

  async function loadTrend(minutes) {
    for (const b of document.querySelectorAll('#trend-controls button')) b.setAttribute('aria-pressed', String(b.dataset.minutes === String(minutes)));
    const res = await fetch(`/api/sites/${encodeURIComponent(siteName)}/chairs/${encodeURIComponent(chairId)}/history?minutes=${minutes}`, { credentials: 'same-origin' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) { el('trend-status').textContent = body.detail || `History unavailable (${res.status}).`; el('trends').replaceChildren(); return; }
    el('trend-status').textContent = `${body.points.length} points, ${body.bucketSeconds} s each, from InfluxDB`;
    el('trends').replaceChildren(...SERIES.map(([key, label]) => panel(key, label, body.points, minutes)));
  }

  let trendsShown = false;
  function showTrends(history) {
    if (!history || trendsShown) return;
    trendsShown = true;
    el('history-note').hidden = true;
    el('trend-controls').hidden = false;
    for (const b of document.querySelectorAll('#trend-controls button')) b.addEventListener('click', () => loadTrend(Number(b.dataset.minutes)));
    loadTrend(30);
  }

  // Transitions central heard from the site (GET /api/alarms/history), newest first; new ones arrive as `alarm` events.
  let history = [];
  function renderHistory() {
    el('no-history').hidden = history.length > 0;
    el('history').replaceChildren(...history.map((a) => {
      const tr = document.createElement('tr');
      for (const text of [centralView.clock(a.at), ...alarmUi.historyWords(a), alarmUi.condition(a)]) {
        const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
      }
      return tr;
    }));
  }

  async function loadHistory() {
    const res = await fetch(`/api/alarms/history?site=${encodeURIComponent(siteName)}&chair=${encodeURIComponent(chairId)}`, { credentials: 'same-origin' });
    if (res.ok) { history = await res.json(); renderHistory(); }
  }

  vitalsShell.showAccount();
  vitalsShell.stream({
    snapshot: (s) => { site = s.sites.find((x) => x.site === siteName) || null; alarms = s.alarms; render(); showTrends(s.history); loadHistory(); },
    alarm: (a) => { if (a.site === siteName && a.chair === chairId) { history = [a, ...history]; renderHistory(); } },
    site: (s) => { if (s.site === siteName) { site = s; render(); } },
    chair: (c) => {
      if (c.site !== siteName || !site) return;
      const i = site.chairs.findIndex((x) => x.id === c.chair.id);
      if (i >= 0) site.chairs[i] = c.chair; else site.chairs.push(c.chair);
      render();
    },
    'site-alarms': (e) => { alarms = centralView.mergeSiteAlarms(alarms, e); render(); },
    tick: () => {},
  }, (live) => { streamLive = live; el('connection').hidden = live; document.body.classList.toggle('offline', !live); render(); });
})();
