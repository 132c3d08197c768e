// Chair detail page: trends (uPlot), alarm handling, alarm history, session, baseline and check reminders. Live by SSE.
'use strict';

(() => {
  const chairId = decodeURIComponent(location.pathname.split('/').pop());
  const enc = encodeURIComponent(chairId);
  const { isStale, isSilenced, PAUSE_RULE } = alarmUi;
  const SIGNS = ['hr', 'pr', 'rr', 'nibp_sys', 'nibp_dia', 'nibp_map', 'spo2', 'temp'];
  const LABEL = { hr: 'HR', pr: 'PR', rr: 'RR', nibp_sys: 'Sys', nibp_dia: 'Dia', nibp_map: 'Mean', spo2: 'SpO2', temp: 'Temp' };
  const UNIT = { hr: '/min', pr: '/min', rr: '/min', nibp_sys: 'mmHg', nibp_dia: 'mmHg', nibp_map: 'mmHg', spo2: '%', temp: '\u00B0C' };
  const el = (id) => document.getElementById(id);

  let minutes = 30;
  const TREND_POINTS = 1200; // readings per sign from the server: about two per pixel of the widest chart
  let series = {}; // sign -> [[t seconds], [value]]
  let values = {};
  let alarms = [];
  let history = [];
  let status = null;
  let pauseUntil = 0;
  let skewMs = 0;
  let stream = null;
  let live = false;
  let name = chairId;
  let feeds = [];
  let dirty = true;
  let listSignature = '';
  const serverNow = () => Date.now() + skewMs;
  // A clock step restarts the trends from the readings on the new clock (README "What the gateway guarantees under faults").
  const serverSkew = vitalsShell.serverClock(() => { series = {}; dirty = true; });

  // --- charts ---
  const FONT = '12px system-ui';
  const axis = (scale, side, stroke) => ({ scale, side, stroke: stroke || '#aab4bf', grid: { stroke: '#243040', show: side !== 1 }, size: 44, font: FONT });
  // Legends name the unit; PR is dashed and orange so it never reads as HR; points mark episodic readings.
  const line = (label, scale, stroke, opts = {}) => ({
    label, scale, stroke, width: 2, dash: opts.dash, spanGaps: !!opts.points, points: { show: !!opts.points, size: 6, fill: stroke },
  });
  const charts = [
    { id: 'chart-rate', signs: ['hr', 'pr', 'rr'], scales: { v: { range: [30, 200] }, r: { range: [0, 40] } }, axes: [axis('v', 3), axis('r', 1, '#ffd84d')],
      series: [line('HR /min', 'v', '#3ddc84'), line('PR /min', 'v', '#ff9f43', { dash: [6, 4] }), line('RR /min (right)', 'r', '#ffd84d')] },
    { id: 'chart-nibp', signs: ['nibp_sys', 'nibp_dia', 'nibp_map'], scales: { v: { range: [30, 220] } }, axes: [axis('v', 3)],
      series: [line('Sys mmHg', 'v', '#f0f0f0', { points: true }), line('Dia mmHg', 'v', '#a0aec0', { points: true }), line('Mean mmHg', 'v', '#f0a0f0', { points: true })] },
    { id: 'chart-spo2', signs: ['spo2', 'temp'], scales: { s: { range: [75, 100] }, t: { range: [34, 41] } }, axes: [axis('s', 3, '#38c8f0'), axis('t', 1, '#c9a0ff')],
      series: [line('SpO2 %', 's', '#38c8f0'), line('Temp \u00B0C (right)', 't', '#c9a0ff', { points: true })] },
  ];

  function makeCharts() {
    for (const c of charts) {
      const container = el(c.id);
      c.plot = new uPlot({
        width: Math.max(300, container.clientWidth), height: 170,
        legend: { show: true, live: false }, cursor: { drag: { x: false, y: false } },
        // The x axis is always the chosen window ending now, so 30 min, 2 h and 8 h look different even with little data.
        scales: { x: { time: true, range: () => [serverNow() / 1000 - minutes * 60, serverNow() / 1000] }, ...c.scales },
        axes: [alarmUi.timeAxis(FONT), ...c.axes],
        series: [{}, ...c.series],
      }, [[], ...c.signs.map(() => [])], container);
    }
  }

  let drawnAt = 0;
  function redrawCharts() {
    // New data redraws; so does the clock every 5 s, moving the window along.
    if (!dirty && Date.now() - drawnAt < 5000) return;
    drawnAt = Date.now();
    const cutoff = serverNow() / 1000 - minutes * 60;
    for (const c of charts) {
      const tables = c.signs.map((s) => {
        const d = series[s] || [[], []];
        let i = 0;
        while (i < d[0].length && d[0][i] < cutoff) i++;
        if (i) { d[0].splice(0, i); d[1].splice(0, i); }
        return d[0].length ? d : [[cutoff], [null]];
      });
      c.plot.setData(uPlot.join(tables));
    }
    dirty = false;
  }

  function addPoint(o) {
    const d = series[o.sign] || (series[o.sign] = [[], []]);
    const t = new Date(o.at).getTime() / 1000;
    if (d[0].length && t <= d[0][d[0].length - 1]) return; // append-only; history already has it
    d[0].push(t);
    d[1].push(o.value);
    dirty = true;
  }

  async function loadHistory() {
    // Thinned by the server to what a chart can draw (each slice's lowest and highest kept, so no fall is hidden).
    const res = await fetch(`/api/chairs/${enc}/history?minutes=${minutes}&points=${TREND_POINTS}`, { credentials: 'same-origin' });
    if (!res.ok) return;
    series = {};
    for (const o of await res.json()) addPoint(o);
    dirty = true;
    redrawCharts();
  }

  // --- alarm history (newest first) ---
  async function loadEvents(chair) {
    let after = 0;
    let all = [];
    for (let page = 0; page < 50; page++) {
      const res = await fetch(`/api/events?type=alarm&chair=${encodeURIComponent(chair)}&after=${after}&limit=1000`, { credentials: 'same-origin' });
      if (!res.ok) break;
      const rows = await res.json();
      if (!rows.length) break;
      all = all.concat(rows.map((r) => JSON.parse(r.data))).slice(-200);
      after = rows[rows.length - 1].id;
      if (rows.length < 1000) break;
    }
    return all;
  }

  // This chair's events and the all-chairs audio pauses, newest first.
  async function loadAlarmHistory() {
    const [own, shared] = await Promise.all([loadEvents(chairId), loadEvents('*')]);
    history = own.concat(shared).sort((x, y) => new Date(y.at) - new Date(x.at)).slice(0, 200);
    renderHistory();
  }

  function renderHistory() {
    el('history').replaceChildren(...history.slice(0, 200).map((a) => {
      const tr = document.createElement('tr');
      const [priority, event] = alarmUi.historyWords(a);
      const cells = [alarmUi.clockText(new Date(a.at).getTime(), true), priority, event, alarmUi.condition(a), a.user || ''];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 1) td.className = `p-${a.priority}`;
        tr.appendChild(td);
      });
      return tr;
    }));
  }

  // --- status: session, baseline, checks, pause ---
  async function loadStatus() {
    const res = await fetch(`/api/chairs/${enc}/status`, { credentials: 'same-origin' });
    if (res.ok) applyStatus(await res.json());
  }

  function applyStatus(st) {
    status = st;
    pauseUntil = st.pauseRemainingSeconds > 0 ? serverNow() + st.pauseRemainingSeconds * 1000 : 0;
    renderStatus();
  }

  function kv(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([k, v]) => {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      return [dt, dd];
    }));
  }

  const num = (v, unit) => (v === null || v === undefined ? '-' : `${Math.round(v * 10) / 10}${unit ? ' ' + unit : ''}`);

  function renderStatus() {
    if (!status) return;
    const s = status.session;
    el('session-view').hidden = !s;
    el('session-form').hidden = !!s;
    if (s) {
      kv(el('session-kv'), [
        ['Patient (pseudonym)', s.patientPseudonym], ['Drug', s.drug], ['Dose', num(s.doseGrams, 'g')], ['Rate', num(s.rateGramsPerHour, 'g/h')],
        ['Bolus', s.bolusGrams ? `${num(s.bolusGrams, 'g')}` : '-'], ['Started', alarmUi.clockText(new Date(s.startedAt).getTime())],
        ['Elapsed', alarmUi.fmtElapsed(serverNow() - new Date(s.startedAt).getTime())], ['Profile', s.profile || (/magnes|mgso4/i.test(s.drug) ? 'MgSO4 infusion' : 'chair default')],
      ]);
    }
    el('mg-warnings').replaceChildren(...(status.magnesiumWarnings || []).map((w) => {
      const p = document.createElement('p'); p.className = 'warn'; p.textContent = `\u26A0 ${w}`; return p;
    }));
    const b = status.baseline;
    el('baseline-msg').textContent = b.message;
    const v = b.baseline;
    kv(el('baseline-kv'), v ? [['Sys', num(v.sys)], ['Dia', num(v.dia)], ['Mean', num(v.map)], ['HR', num(v.hr)], ['RR', num(v.rr)], ['NIBP readings', String(v.nibpReadings)],
      ...(v.confirmedBy ? [['Confirmed by', `${v.confirmedBy} at ${alarmUi.clockText(new Date(v.confirmedAt).getTime())}`]] : [])] : []);
    el('baseline-confirm').hidden = b.state !== 'proposed';
    el('baseline-manual').hidden = b.state === 'no_session';
    el('checks').replaceChildren(...(status.checksDue || []).map((c) => {
      const li = document.createElement('li');
      const due = new Date(c.dueAt).getTime();
      const overdue = due <= serverNow();
      const check = c.checkId.replace(/_/g, ' ');
      li.textContent = `${check}: ${overdue ? 'DUE NOW' : 'due ' + alarmUi.clockText(due)} `;
      const btn = document.createElement('button');
      btn.type = 'button'; btn.className = 'act'; btn.textContent = 'Confirm done';
      btn.addEventListener('click', () => act('POST', `/api/chairs/${enc}/checks/${encodeURIComponent(c.checkId)}/confirm`, null, `Check confirmed: ${check}`));
      li.appendChild(btn);
      return li;
    }));
    el('no-checks').hidden = (status.checksDue || []).length > 0;
  }

  // --- actions ---
  async function act(method, url, body, done) {
    const result = await alarmUi.act(method, url, body);
    const msg = el('action-msg');
    msg.hidden = false;
    msg.className = `action-msg ${result.ok ? 'ok' : 'err'}`;
    msg.textContent = result.ok ? done : result.message;
    if (result.ok && result.data) {
      if (result.data.status) applyStatus(result.data.status);
      else if (result.data.chair === chairId && result.data.alarms) applyStatus(result.data);
    }
    render();
    return result;
  }

  function showErrors(form, result, fallbackId) {
    for (const span of form.querySelectorAll('.field-error')) span.textContent = '';
    if (result.ok) return;
    let placed = false;
    for (const [field, messages] of Object.entries(result.errors || {})) {
      const span = el(`err-${field}`);
      if (span) { span.textContent = messages.join(' '); placed = true; }
    }
    if (!placed && fallbackId) el(fallbackId).textContent = result.message;
  }

  el('session-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const n = (x) => (x.value === '' ? null : Number(x.value));
    const body = {
      patientPseudonym: f.patientPseudonym.value.trim(), drug: f.drug.value.trim(), doseGrams: n(f.doseGrams),
      rateGramsPerHour: n(f.rateGramsPerHour), bolusGrams: n(f.bolusGrams), bolusMinutes: n(f.bolusMinutes),
    };
    const result = await act('POST', `/api/chairs/${enc}/session`, body, 'Session started');
    showErrors(f, result, 'err-session');
    if (result.ok) f.reset();
  });
  el('stop-session').addEventListener('click', () => {
    if (window.confirm('Stop this infusion session? Its baseline and check reminders end.')) act('DELETE', `/api/chairs/${enc}/session`, undefined, 'Session stopped');
  });
  el('baseline-confirm').addEventListener('click', () => act('POST', `/api/chairs/${enc}/baseline`, {}, 'Baseline confirmed'));
  el('baseline-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const body = {};
    for (const k of ['sys', 'dia', 'map', 'hr', 'rr']) if (f[k].value !== '') body[k] = Number(f[k].value);
    const result = await act('POST', `/api/chairs/${enc}/baseline`, body, 'Baseline confirmed');
    showErrors(f, result, null);
  });
  el('ack-all').addEventListener('click', () => act('POST', `/api/chairs/${enc}/acknowledge`, null, 'Alarms acknowledged'));
  el('pause').addEventListener('click', async () => {
    const r = await act('POST', `/api/chairs/${enc}/pause`, { seconds: 120 }, 'Audio paused for 2 min');
    if (r.ok) { pauseUntil = serverNow() + r.data.remainingSeconds * 1000; render(); }
  });
  el('resume').addEventListener('click', async () => {
    const r = await act('POST', `/api/chairs/${enc}/resume`, null, 'Audio resumed');
    if (r.ok) { pauseUntil = 0; render(); }
  });
  for (const btn of document.querySelectorAll('.range button')) {
    btn.addEventListener('click', () => {
      minutes = Number(btn.dataset.minutes);
      for (const b of document.querySelectorAll('.range button')) b.setAttribute('aria-pressed', String(b === btn));
      loadHistory();
    });
  }

  // --- rendering ---

  function renderAlarms() {
    const sorted = alarms.slice().sort(alarmUi.byPriority);
    const signature = sorted.map((a) => `${a.rule}|${a.state}|${a.priority}|${a.message}`).join(';');
    el('no-alarms').hidden = sorted.length > 0;
    el('ack-all').hidden = !sorted.some((a) => !isSilenced(a));
    if (signature === listSignature) return;
    listSignature = signature;
    el('alarm-list').replaceChildren(...sorted.map((a) => {
      const li = document.createElement('li');
      li.className = `b ${a.priority}${isSilenced(a) ? ' silenced' : ''}`;
      const text = document.createElement('span');
      text.className = 'text';
      const label = alarmUi.stateLabel(a);
      text.textContent = `${alarmUi.ICON[a.priority]} ${a.priority.toUpperCase()}${a.kind === 'technical' ? ' (technical)' : ''}: ${alarmUi.condition(a)}${label ? ` \u00B7 ${label}` : ''}`;
      li.appendChild(text);
      if (!isSilenced(a)) {
        const b = document.createElement('button');
        b.type = 'button'; b.className = 'act ack'; b.textContent = 'Acknowledge';
        b.setAttribute('aria-label', `Acknowledge ${a.priority} alarm: ${alarmUi.condition(a)}`);
        b.addEventListener('click', () => act('POST', `/api/chairs/${enc}/alarms/${encodeURIComponent(a.rule)}/acknowledge`, null, `Alarm acknowledged (${alarmUi.condition(a)})`));
        li.appendChild(b);
      }
      return li;
    }));
  }

  function fmtAge(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return s < 60 ? `${s} s ago` : `${Math.floor(s / 60)} min ago`;
  }

  function renderValues(now) {
    el('live-values').replaceChildren(...SIGNS.map((sign) => {
      const o = values[sign];
      const span = document.createElement('span');
      span.className = 'now-value';
      const label = document.createElement('small');
      label.textContent = LABEL[sign];
      const num = document.createElement('b');
      num.className = 'num';
      span.append(label, num);
      if (!o) { num.textContent = '--'; return span; }
      const age = now - new Date(o.at).getTime();
      const stale = isStale(sign, age);
      num.textContent = sign === 'temp' ? o.value.toFixed(1) : o.value.toFixed(0);
      const unit = document.createElement('small');
      unit.textContent = ` ${UNIT[sign]}${stale || sign.startsWith('nibp') ? `, ${fmtAge(age)}` : ''}`;
      span.appendChild(unit);
      // An alarming sign is inverted onto its highest alarm's priority colour, flashing like the alarm.
      const worst = alarms.slice().sort(alarmUi.byPriority).find((a) => a.sign === sign);
      span.classList.toggle('stale', stale);
      if (worst) span.classList.add(`out-${worst.priority}`, ...(isSilenced(worst) ? ['out-silenced'] : []));
      return span;
    }));
  }

  function render() {
    const now = serverNow();
    renderValues(now);
    renderAlarms();
    live = stream !== null && stream.live();
    document.body.classList.toggle('offline', !live);
    el('connection').hidden = live;
    for (const b of document.querySelectorAll('button.act, #session-form button, #baseline-form button')) b.disabled = !live;
    const left = pauseUntil > now ? pauseUntil - now : 0;
    el('pause-state').hidden = left <= 0;
    el('pause-state').textContent = left > 0 ? `AUDIO PAUSED ${alarmUi.fmtCountdown(left)}` : '';
    el('pause').hidden = left > 0;
    el('resume').hidden = left <= 0;
    const last = Math.max(0, ...feeds.map((f) => (f.lastFrameAt ? new Date(f.lastFrameAt).getTime() : 0)), ...Object.values(values).map((v) => new Date(v.at).getTime()));
    const lost = alarms.some((a) => a.rule === 'feed.lost');
    const feed = el('feed');
    feed.className = `feed-state ${!live ? 'not-live' : lost ? 'lost' : !last ? 'waiting' : now - last > 10000 ? 'stale' : 'live'}`;
    feed.textContent = !live ? 'NOT LIVE' : lost ? 'FEED LOST' : !last ? 'WAITING' : now - last > 10000 ? `NO DATA ${fmtAge(now - last)}` : 'LIVE';
    el('clock').textContent = alarmUi.clockText(now, true);
    alarmUi.update(left <= 0 ? alarms.filter((a) => !isSilenced(a)) : [], !live);
    redrawCharts();
  }

  function onSnapshot(snap) {
    skewMs = serverSkew(snap.serverTime);
    el('demo-flag').hidden = !snap.demo;
    alarmUi.setStaleLimits(snap.staleSeconds);
    const view = snap.chairs.find((c) => c.id === chairId);
    if (!view) return;
    name = view.name;
    feeds = view.feeds;
    el('chair-title').textContent = name;
    document.title = `Vitals: ${name}`;
    alarms = view.alarms.slice();
    for (const [sign, v] of Object.entries(view.values)) values[sign] = { sign, ...v };
    loadStatus();
    render();
  }

  function onObs(list) {
    for (const o of list) {
      if (o.chair !== chairId) continue;
      values[o.sign] = o; // the most recently received, as on the server (LiveState)
      addPoint(o);
      // A new cuff reading can complete the baseline proposal; the engine does not push that, so ask once.
      if (o.sign === 'nibp_sys' && status && status.session && status.baseline.state !== 'confirmed') loadStatus();
    }
  }

  function onAlarm(a) {
    if (a.rule === PAUSE_RULE) {
      if (a.chair === chairId || a.chair === '*') pauseUntil = a.state === 'paused' ? new Date(a.at).getTime() + (a.value || 0) * 1000 : (a.chair === chairId || !status || status.pauseRemainingSeconds === 0 ? 0 : pauseUntil);
    } else if (a.chair === chairId) {
      alarms = alarms.filter((x) => x.rule !== a.rule);
      if (a.state !== 'cleared') alarms.push(a);
    }
    if (a.chair === chairId || (a.rule === PAUSE_RULE && a.chair === '*')) { history.unshift(a); renderHistory(); }
    render();
  }

  for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, () => { if (!alarmUi.isEnabled()) alarmUi.enable(); });
  window.addEventListener('resize', () => { for (const c of charts) c.plot.setSize({ width: el(c.id).clientWidth, height: 170 }); });
  makeCharts();
  // The charts' scales and series, for the browser tests (the canvas itself cannot be read) and the console.
  window.vitalsCharts = charts;
  stream = vitalsShell.stream({
    snapshot: onSnapshot,
    obs: onObs,
    alarm: onAlarm,
    status: (st) => { if (st.chair === chairId) applyStatus(st); },
    tick: (t) => { skewMs = serverSkew(t.serverTime); },
  }, render);
  vitalsShell.showAccount();
  loadHistory();
  loadAlarmHistory();
  setInterval(render, 1000);
})();
