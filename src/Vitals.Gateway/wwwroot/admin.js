// Admin console: alarm limits per profile and chair, engine timing, users, audit log, health, bindings, kiosk.
'use strict';

(() => {
  const el = (id) => document.getElementById(id);
  const make = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  let config = null;

  function flash(text, ok = true) {
    const msg = el('msg');
    msg.hidden = false;
    msg.className = `action-msg ${ok ? 'ok' : 'err'}`;
    msg.textContent = text;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { msg.hidden = true; }, 8000);
  }

  async function call(method, url, body) {
    const res = await vitalsApi.send(method, url, body);
    let data = null;
    try { data = await res.json(); } catch { /* empty */ }
    const errors = data && data.errors ? data.errors : null;
    return { ok: res.ok, status: res.status, data, errors, message: (errors && Object.values(errors).flat().join(' ')) || (data && (data.detail || data.title)) || `HTTP ${res.status}` };
  }

  async function getJson(url) {
    const res = await fetch(url, { credentials: 'same-origin' });
    return res.ok ? res.json() : null;
  }

  // --- alarm limits: one grid per profile (and per chair's overrides), reviewed before saving ---
  // Plain names and units, so admins need not decode configuration keys such as nibp_sys.low.medium.
  const SIGN_NAMES = { hr: 'Heart rate', pr: 'Pulse rate', spo2: 'SpO2', nibp_sys: 'NIBP systolic', nibp_dia: 'NIBP diastolic', nibp_map: 'NIBP mean', rr: 'Respiration rate', temp: 'Temperature' };
  const SIGN_UNITS = { hr: '/min', pr: '/min', spo2: '%', nibp_sys: 'mmHg', nibp_dia: 'mmHg', nibp_map: 'mmHg', rr: '/min', temp: '°C' };
  // Grid columns: [key suffix, heading, unit ('sign' = the sign's unit), help shown under the grid].
  const LIMIT_COLUMNS = [
    ['high.high', 'High alarm above', 'sign'], ['high.medium', 'Medium alarm above', 'sign'], ['high.low', 'Low alarm above', 'sign'],
    ['low.low', 'Low alarm below', 'sign'], ['low.medium', 'Medium alarm below', 'sign'], ['low.high', 'High alarm below', 'sign'],
    ['delay', 'Delay', 's', 'how long a value must stay outside a limit before its alarm sounds.'],
    ['delay_high', 'High-priority delay', 's', 'a shorter delay for values in the high-priority band (for example a very low respiration rate under magnesium); at most the delay.'],
    ['clear_margin', 'Clear margin', 'sign', 'how far back inside the limit a value must be before its alarm ends, so it does not flap on and off at the limit.'],
    ['clear_time', 'Clear time', 's', 'how long values must stay back inside (by the margin) before the alarm ends.'],
  ];
  // Columns shown only when some sign in the grid has them, so the grid fits 1024 px.
  const OPTIONAL_COLUMN = (c) => c[0].endsWith('.low') || c[0] === 'delay_high';
  // Engine timing: [plain name, unit, help].
  const TIMING_NAMES = {
    reannounce: ['Announce an acknowledged alarm again after', 's', 'An acknowledged alarm whose condition persists sounds again after this long (60-180 s).'],
    escalate_after: ['Raise an unacknowledged medium alarm to high after', 's', 'A medium alarm nobody acknowledges becomes high priority after this long.'],
    pause_max: ['Longest audio pause', 's', 'The longest a nurse can silence alarm sounds (at most 120 s).'],
    feed_lost_medium: ['Feed lost: medium alarm after', 's', "No data at all from a chair's monitor for this long raises a medium technical alarm."],
    feed_lost_high: ['Feed lost: high alarm after', 's', 'The same alarm becomes high priority after this long; must be longer than the medium one.'],
    signal_lost: ['Signal lost (HR, pulse rate, SpO2, RR): alarm after no reading for', 's',
      "One sign giving no usable reading for this long, while the monitor's other data still arrives, raises a medium technical alarm (for example a loose SpO2 probe)."],
    temp_signal_lost: ['Temperature signal lost: alarm after no reading for', 's',
      'The same for temperature, which many monitors send only every few minutes, so it waits longer.'],
    nibp_overdue_grace: ['NIBP overdue: grace after the cycle', 's', 'During an infusion, no cuff reading for the NIBP cycle plus this raises an NIBP overdue alarm.'],
    nibp_cycle: ['NIBP cycle when the session gives none', 's', 'How often a cuff reading is expected when the infusion session does not say.'],
    'mg.max_rate': ['Magnesium: highest rate', 'g/h', 'A magnesium infusion rate above this is refused.'],
    'mg.max_bolus': ['Magnesium: largest bolus', 'g', 'A magnesium loading dose above this is refused.'],
  };
  const signName = (sign) => SIGN_NAMES[sign] || sign;
  const unitOf = (sign, col) => (col[2] === 's' ? 's' : SIGN_UNITS[sign] || '');
  const withUnit = (v, unit) => (v === null || v === undefined ? '(not set)' : `${v}${unit ? ` ${unit}` : ''}`);

  /** Plain description of a configuration key, e.g. "NIBP systolic: medium alarm below (mmHg)". */
  function describeKey(key) {
    if (TIMING_NAMES[key]) return `${TIMING_NAMES[key][0]} (${TIMING_NAMES[key][1]})`;
    const sign = key.split('.')[0];
    const col = LIMIT_COLUMNS.find((c) => key === `${sign}.${c[0]}`);
    if (!col) return key;
    const unit = unitOf(sign, col);
    return `${signName(sign)}: ${col[1].toLowerCase()}${unit ? ` (${unit})` : ''}`;
  }

  /** What happens when a key loses its value: named before the admin confirms. */
  function consequence(key, old, fallback) {
    const sign = key.split('.')[0];
    const col = LIMIT_COLUMNS.find((c) => key === `${sign}.${c[0]}`);
    if (!col) return '';
    const unit = unitOf(sign, col);
    if (fallback !== undefined) return `The chair goes back to its profile's value (${withUnit(fallback, unit)}).`;
    const [dir, priority] = col[0].split('.'); // e.g. high.medium: the medium alarm above the value
    if (priority) return `This turns off the ${signName(sign)} ${priority}-priority alarm ${dir === 'high' ? 'above' : 'below'} ${withUnit(old, unit)}.`;
    if (col[0] === 'delay') return `${signName(sign)} alarms are raised at once, with no delay.`;
    if (col[0] === 'delay_high') return `${signName(sign)} high-priority alarms wait for the normal delay.`;
    return `${signName(sign)} alarms clear as soon as the value is back inside the limit.`;
  }

  // Results of the last save, per grid row, so they stay beside the row after the grid is redrawn.
  const rowResults = new Map();

  /**
   * A grid of one sign per row. values: key -> value; base: key -> the profile value a chair falls back to (chair grids only).
   * save(key, valueOrNull) returns the API call. Changes are collected, listed old -> new in a review, then saved.
   */
  function limitsGrid(scope, values, base, save) {
    const signs = [...new Set([...Object.keys(values), ...Object.keys(base || {})].map((k) => k.split('.')[0]))]
      .filter((s) => LIMIT_COLUMNS.some((c) => `${s}.${c[0]}` in values || (base && `${s}.${c[0]}` in base)))
      .sort((a, b) => Object.keys(SIGN_NAMES).indexOf(a) - Object.keys(SIGN_NAMES).indexOf(b));
    const all = { ...(base || {}), ...values };
    const columns = LIMIT_COLUMNS.filter((c) => signs.some((s) => `${s}.${c[0]}` in all) || !OPTIONAL_COLUMN(c));
    const inputs = [];
    const resultCells = new Map();
    const showResult = (sign) => {
      const last = rowResults.get(`${scope}|${sign}`);
      const cell = resultCells.get(sign);
      if (last && cell) { cell.className = `row-result ${last.ok ? 'ok' : 'err'}`; cell.textContent = last.text; }
    };
    const head = make('tr', {}, make('th', { scope: 'col', textContent: 'Sign' }),
      ...columns.map((c) => make('th', { scope: 'col', textContent: c[2] === 's' ? `${c[1]} (s)` : c[1] })), make('th', { scope: 'col', textContent: 'Result' }));
    const rows = signs.map((sign) => {
      const cells = columns.map((col) => {
        const key = `${sign}.${col[0]}`;
        const unit = unitOf(sign, col);
        const input = make('input', { type: 'number', step: 'any', value: key in values ? String(values[key]) : '', name: key });
        input.dataset.key = key;
        input.dataset.unit = unit;
        input.setAttribute('aria-label', `${signName(sign)}, ${col[1].toLowerCase()} (${unit})`);
        if (base && key in base) input.placeholder = `${base[key]}`;
        inputs.push(input);
        return make('td', {}, input); // the unit is in the row heading (and the input's label)
      });
      const result = make('td', { className: 'row-result' });
      result.setAttribute('role', 'status');
      resultCells.set(sign, result);
      showResult(sign);
      return make('tr', { className: 'sign-row' }, make('th', { scope: 'row', textContent: `${signName(sign)}${SIGN_UNITS[sign] ? ` (${SIGN_UNITS[sign]})` : ''}` }), ...cells, result);
    });
    const table = make('table', { className: 'limits-grid' }, make('thead', {}, head), make('tbody', {}, ...rows));
    const review = make('div', { className: 'review', hidden: true });
    review.setAttribute('role', 'region');
    review.setAttribute('aria-label', 'Review changes');
    const reviewBtn = make('button', { type: 'button', className: 'act review-open', textContent: 'Review changes' });
    const note = make('span', { className: 'note review-note' });
    note.setAttribute('role', 'status');

    const changes = () => inputs.flatMap((input) => {
      const key = input.dataset.key;
      const old = key in values ? values[key] : null;
      const next = input.value.trim() === '' ? null : Number(input.value);
      return old === next ? [] : [{ key, old, next, input }];
    });
    const close = () => { review.hidden = true; review.replaceChildren(); reviewBtn.focus(); };

    reviewBtn.addEventListener('click', () => {
      const list = changes();
      note.textContent = list.length ? '' : 'No changes to review.';
      if (!list.length) return;
      const removals = list.filter((c) => c.next === null);
      const items = list.map((c) => {
        const unit = c.input.dataset.unit;
        const from = c.old === null && base && c.key in base ? `${withUnit(base[c.key], unit)} (profile)` : withUnit(c.old, unit);
        const to = c.next === null && base && c.key in base ? `${withUnit(base[c.key], unit)} (profile)` : withUnit(c.next, unit);
        const li = make('li', {}, make('strong', { textContent: describeKey(c.key) }), `: ${from} -> ${to}`);
        if (c.next === null) li.append(make('div', { className: 'consequence', textContent: consequence(c.key, c.old, base ? base[c.key] ?? null : undefined) }));
        return li;
      });
      const confirm = make('button', { type: 'button', className: 'act ack review-save',
        textContent: removals.length ? `Save ${list.length} change${list.length > 1 ? 's' : ''}, including ${removals.length} removal${removals.length > 1 ? 's' : ''}` : `Save ${list.length} change${list.length > 1 ? 's' : ''}` });
      const back = make('button', { type: 'button', className: 'act review-back', textContent: 'Back to editing' });
      back.addEventListener('click', close);
      confirm.addEventListener('click', async () => {
        confirm.disabled = true;
        const bySign = new Map();
        let anySaved = false;
        for (const c of list) {
          const r = await save(c.key, c.next);
          c.input.setAttribute('aria-invalid', String(!r.ok));
          anySaved = anySaved || r.ok;
          const sign = c.key.split('.')[0];
          const text = r.ok ? `${describeKey(c.key)}: ${withUnit(r.data.oldValue ?? null, '')} -> ${withUnit(r.data.newValue ?? null, '')}, saved (version ${r.data.version}).`
            : `${describeKey(c.key)} not saved: ${r.message}`;
          const prev = bySign.get(sign) || { ok: true, texts: [] };
          bySign.set(sign, { ok: prev.ok && r.ok, texts: [...prev.texts, text] });
        }
        for (const [sign, r] of bySign) rowResults.set(`${scope}|${sign}`, { ok: r.ok, text: r.texts.join(' ') });
        // Reload only after a saved change, so a refused value stays in its cell for correcting.
        if (anySaved) await loadConfig();
        else { for (const sign of bySign.keys()) showResult(sign); close(); }
        const again = document.querySelector(`.limits-editor[data-scope="${CSS.escape(scope)}"] .review-open`);
        if (again) again.focus();
      });
      review.replaceChildren(make('h3', { textContent: 'Review changes' }),
        removals.length ? make('p', { className: 'warn', textContent: 'Removing a value changes which alarms can sound: read the consequence under each removal.' }) : '',
        make('ul', {}, ...items), confirm, ' ', back);
      review.hidden = false;
      confirm.focus();
    });
    const help = make('dl', { className: 'grid-help note' }, ...columns.filter((c) => c[3]).flatMap((c) => [
      make('dt', { textContent: c[2] === 's' ? `${c[1]} (s)` : c[1] }), make('dd', { textContent: c[3] })]));
    const editor = make('div', { className: 'limits-editor' }, make('div', { className: 'grid-scroll' }, table), help, make('div', { className: 'review-bar' }, reviewBtn, ' ', note), review);
    editor.dataset.scope = scope;
    return editor;
  }

  // One engine timing row: input + save, with the result (or the error) beside the input.
  function valueRow(key, value, save) {
    const errId = `err-${key.replace(/\W/g, '-')}`;
    const helpId = `help-${key.replace(/\W/g, '-')}`;
    const input = make('input', { type: 'number', step: 'any', value: String(value), name: key });
    input.setAttribute('aria-label', describeKey(key));
    input.setAttribute('aria-describedby', TIMING_NAMES[key] && TIMING_NAMES[key][2] ? `${helpId} ${errId}` : errId);
    input.dataset.key = key;
    const result = make('div', { className: 'field-error', id: errId });
    result.setAttribute('role', 'status');
    const saveBtn = make('button', { type: 'button', className: 'act', textContent: 'Save' });
    saveBtn.setAttribute('aria-label', `Save ${describeKey(key)}`);
    saveBtn.addEventListener('click', async () => {
      const r = await save(input.value === '' ? null : Number(input.value));
      input.setAttribute('aria-invalid', String(!r.ok));
      result.className = r.ok ? 'field-ok' : 'field-error';
      result.textContent = r.ok ? `Saved: ${r.data.oldValue ?? '(not set)'} -> ${r.data.newValue ?? '(not set)'} (version ${r.data.version}).` : r.message;
      if (r.ok) el('version').textContent = `configuration version ${r.data.version}`;
    });
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') saveBtn.click(); });
    const name = make('th', { scope: 'row', textContent: describeKey(key) });
    if (TIMING_NAMES[key] && TIMING_NAMES[key][2]) name.append(make('div', { className: 'note timing-help', id: helpId, textContent: TIMING_NAMES[key][2] }));
    return make('tr', {}, name, make('td', {}, input, result), make('td', {}, saveBtn));
  }

  const put = (url, value) => call('PUT', url, { value });
  const enc = encodeURIComponent;

  async function loadConfig() {
    config = await getJson('/api/admin/config');
    if (!config) return;
    el('version').textContent = `configuration version ${config.version}`;
    const profileSel = el('profile-select');
    const keepProfile = profileSel.value || config.defaultProfile;
    profileSel.replaceChildren(...config.profiles.map((p) => make('option', { value: p.name, textContent: p.name })));
    profileSel.value = keepProfile;
    const chairSel = el('chair-select');
    const keepChair = chairSel.value || (config.chairs[0] && config.chairs[0].id);
    chairSel.replaceChildren(...config.chairs.map((c) => make('option', { value: c.id, textContent: `${c.name} (${c.id})` })));
    chairSel.value = keepChair;
    el('chair-profile').replaceChildren(make('option', { value: '', textContent: `default (${config.defaultProfile})` }),
      ...config.profiles.map((p) => make('option', { value: p.name, textContent: p.name })));
    renderProfile();
    renderChair();
    el('timing-rows').replaceChildren(...Object.entries(config.timing).map(([k, v]) => valueRow(k, v, (nv) => put(`/api/admin/timing/${enc(k)}`, nv))));
    fillAuditChoices();
  }

  function renderProfile() {
    const p = config.profiles.find((x) => x.name === el('profile-select').value);
    if (!p) return;
    el('profile-grid').replaceChildren(limitsGrid(`profile:${p.name}`, p.values, null, (k, v) => put(`/api/admin/profiles/${enc(p.name)}/values/${enc(k)}`, v)));
    const inclusive = p.inclusive.map(describeKey);
    el('profile-inclusive').textContent = inclusive.length ? `The limit value itself alarms for: ${inclusive.join('; ')}.` : '';
  }

  function renderChair() {
    const c = config.chairs.find((x) => x.id === el('chair-select').value);
    if (!c) return;
    el('chair-profile').value = c.profile || '';
    el('err-chair-profile').textContent = '';
    const profile = config.profiles.find((p) => p.name === (c.profile || config.defaultProfile));
    el('override-note').textContent = `An empty cell uses ${profile ? `the ${profile.name} profile` : 'the profile'} (its value is shown greyed). ${Object.keys(c.overrides).length ? '' : 'No overrides: the chair uses its profile as is.'}`;
    el('override-grid').replaceChildren(limitsGrid(`chair:${c.id}`, c.overrides, profile ? profile.values : {}, (k, v) => put(`/api/admin/chairs/${enc(c.id)}/overrides/${enc(k)}`, v)));
  }

  el('profile-select').addEventListener('change', renderProfile);
  el('chair-select').addEventListener('change', renderChair);
  el('chair-profile-save').addEventListener('click', async () => {
    const id = el('chair-select').value;
    const result = await call('PUT', `/api/admin/chairs/${enc(id)}/profile`, { profile: el('chair-profile').value || null });
    const msg = el('err-chair-profile');
    msg.className = result.ok ? 'field-ok' : 'field-error';
    msg.textContent = result.ok ? `Saved: ${result.data.oldValue ?? 'default'} -> ${result.data.newValue ?? 'default'}.` : result.message;
    if (result.ok) { await loadConfig(); el('err-chair-profile').className = 'field-ok'; el('err-chair-profile').textContent = msg.textContent; }
  });
  // --- users ---
  async function loadUsers() {
    const users = await getJson('/api/users');
    if (!users) return;
    fillAuditUsers(users);
    el('user-rows').replaceChildren(...users.map((u) => {
      const role = make('select', {}, ...['nurse', 'admin', 'viewer'].map((r) => make('option', { value: r, textContent: r })));
      role.value = u.role;
      role.setAttribute('aria-label', `Role of ${u.name}`);
      const pw = make('input', { type: 'password', autocomplete: 'new-password', placeholder: 'leave empty to keep' });
      pw.setAttribute('aria-label', `New password for ${u.name}`);
      const err = make('div', { className: 'field-error' });
      const save = make('button', { type: 'button', className: 'act', textContent: 'Save' });
      save.addEventListener('click', async () => {
        const body = { role: role.value };
        if (pw.value) body.password = pw.value;
        const r = await call('PUT', `/api/users/${enc(u.name)}`, body);
        err.textContent = r.ok ? '' : r.message;
        if (r.ok) { flash(`${u.name} updated`); loadUsers(); }
      });
      const toggle = make('button', { type: 'button', className: 'act', textContent: u.disabled ? 'Enable' : 'Disable' });
      toggle.addEventListener('click', async () => {
        const r = await call('PUT', `/api/users/${enc(u.name)}`, { disabled: !u.disabled });
        if (r.ok) { flash(`${u.name} ${u.disabled ? 'enabled' : 'disabled'}`); loadUsers(); } else err.textContent = r.message;
      });
      const del = make('button', { type: 'button', className: 'act', textContent: 'Delete' });
      del.addEventListener('click', async () => {
        if (!window.confirm(`Delete user ${u.name}?`)) return;
        const r = await call('DELETE', `/api/users/${enc(u.name)}`);
        if (r.ok) { flash(`${u.name} deleted`); loadUsers(); } else err.textContent = r.message;
      });
      const state = u.disabled ? 'disabled' : u.throttledUntil && new Date(u.throttledUntil) > new Date() ? `logins delayed until ${new Date(u.throttledUntil).toLocaleTimeString()}` : 'active';
      return make('tr', {}, make('td', { textContent: u.name }), make('td', {}, role), make('td', { textContent: state }), make('td', {}, pw, err), make('td', {}, save, ' ', toggle, ' ', del));
    }));
  }

  el('user-add').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const r = await call('POST', '/api/users', { name: f.name.value.trim(), role: f.role.value, password: f.password.value });
    for (const k of ['name', 'role', 'password']) el(`err-user-${k}`).textContent = (r.errors && r.errors[k] ? r.errors[k].join(' ') : '');
    if (r.ok) { flash(`User ${f.name.value} created`); f.reset(); loadUsers(); } else if (!r.errors) flash(r.message, false);
  });

  // --- audit: people's actions by default (alarm transitions one choice away), plain sentences, 24-hour dates ---
  const ACTIONS = {
    'alarm.acknowledged': 'Acknowledged an alarm', 'alarm.acknowledged_all': 'Acknowledged all alarms', 'audio.paused': 'Paused alarm audio',
    'audio.resumed': 'Resumed alarm audio', 'baseline.confirmed': 'Confirmed the baseline', 'bindings.changed': 'Changed the chair\'s devices',
    'check.confirmed': 'Confirmed a nursing check', 'kiosk.disabled': 'Disabled the wall display kiosk', 'kiosk.enabled': 'Issued a new kiosk link',
    'kiosk.failed': 'Kiosk link refused', login: 'Signed in', 'login.failed': 'Sign-in failed', logout: 'Signed out',
    'session.started': 'Started an infusion session', 'session.stopped': 'Stopped an infusion session',
    'user.created': 'Created a user', 'user.deleted': 'Deleted a user', 'user.updated': 'Changed a user',
  };
  const ALARM_STATES = { raised: 'raised', active: 'raised', acknowledged: 'acknowledged', cleared: 'ended', latched: 'ended, waiting for acknowledgement', escalated: 'raised to high priority', reannounced: 'announced again', paused: 'audio paused', resumed: 'audio resumed' };
  const pad = (n) => String(n).padStart(2, '0');
  /** Local time as 2026-12-04 14:05:09 (24-hour, sortable, no fractions). */
  const stamp = (iso) => { const d = new Date(iso); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; };
  const chairName = (id) => (config && config.chairs.find((c) => c.id === id) || {}).name || id || '';

  function describeEvent(e) {
    const d = e.data || {};
    if (e.type === 'audit') return `${ACTIONS[d.action] || d.action}${d.details ? `: ${d.details}` : ''}`;
    if (e.type === 'alarm-config') {
      const scope = String(d.scope).toLowerCase();
      const where = scope === 'chair' ? `${chairName(d.target)} override` : scope === 'profile' ? `Profile ${d.target}` : 'Engine timing';
      if (d.key === 'profile') return `${chairName(d.target)}: profile ${d.oldValue ?? 'default'} -> ${d.newValue ?? 'default'}`;
      return `${where}: ${describeKey(d.key)} ${d.oldValue ?? '(not set)'} -> ${d.newValue ?? '(not set)'}`;
    }
    if (e.type === 'alarm' && d.message) return `${d.priority ? `${String(d.priority).toUpperCase()} ` : ''}${d.message}: ${ALARM_STATES[String(d.state).toLowerCase()] || d.state}`;
    return e.summary;
  }

  function fillAuditChoices() {
    const chair = el('audit-chair');
    const keep = chair.value;
    chair.replaceChildren(make('option', { value: '', textContent: 'All chairs' }), ...config.chairs.map((c) => make('option', { value: c.id, textContent: c.name })));
    chair.value = keep;
  }

  function fillAuditUsers(users) {
    const sel = el('audit-user');
    const keep = sel.value;
    sel.replaceChildren(make('option', { value: '', textContent: 'Everyone' }), ...users.map((u) => make('option', { value: u.name, textContent: u.name })));
    sel.value = keep;
  }

  async function fetchAudit(params) {
    const res = await fetch(`/api/admin/audit?${params}`, { credentials: 'same-origin' });
    return { ok: res.ok, data: await res.json().catch(() => null) };
  }

  const showAuditErrors = (errors) => {
    for (const k of ['type', 'chair', 'user', 'from', 'to', 'limit']) el(`err-audit-${k}`).textContent = errors[k] ? errors[k].join(' ') : '';
  };

  async function loadAudit() {
    const f = el('audit-form');
    const q = new URLSearchParams();
    for (const k of ['chair', 'user', 'limit']) if (f[k].value) q.set(k, f[k].value);
    // From/To are typed as 24-hour local times (2026-12-04 14:00[:30]); the browser's own date picker follows its locale.
    const bad = {};
    for (const k of ['from', 'to']) {
      const m = f[k].value.trim().match(/^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/);
      if (m) q.set(k, new Date(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0)).toISOString());
      else if (f[k].value.trim()) bad[k] = ['Write the time as YYYY-MM-DD HH:MM, for example 2026-12-04 14:00.'];
    }
    // "People's actions" is the audit and alarm-config types together, newest first.
    showAuditErrors(bad);
    if (Object.keys(bad).length) return;
    const types = f.type.value === 'people' ? ['audit', 'alarm-config'] : [f.type.value];
    const answers = await Promise.all(types.map((t) => { const p = new URLSearchParams(q); if (t) p.set('type', t); return fetchAudit(p); }));
    const failed = answers.find((a) => !a.ok);
    const errors = failed && failed.data && failed.data.errors ? failed.data.errors : {};
    showAuditErrors(errors);
    if (failed) return;
    const max = Number(f.limit.value) || 200;
    const rows = answers.flatMap((a) => a.data).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.id - a.id)).slice(0, max);
    el('audit-rows').replaceChildren(...(rows.length ? rows.map((e) => make('tr', {},
      make('td', { className: 'when', textContent: stamp(e.at) }), make('td', { textContent: chairName(e.chair) }),
      make('td', { textContent: e.user || '' }), make('td', { textContent: describeEvent(e) }))) : [make('tr', {}, make('td', { colSpan: 4, className: 'note', textContent: 'Nothing recorded for these filters.' }))]));
  }
  el('audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(); });
  el('audit-form').type.addEventListener('change', loadAudit);

  // --- health: one card per feed and per output, green / amber / red with words, refreshed every 5 s ---
  const STATE_WORDS = { ok: 'OK', warn: 'Attention', bad: 'Failing', off: 'Not configured' };
  /** "2 s ago", "3 min ago", measured against the gateway's clock (not the browser's). */
  function ago(iso, now) {
    if (!iso) return 'never';
    const s = Math.max(0, Math.round((now - new Date(iso)) / 1000));
    if (s < 90) return `${s} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} min ago`;
    return `${stamp(iso)}`;
  }

  function card(title, state, lines) {
    const badge = make('span', { className: `health-state ${state}`, textContent: STATE_WORDS[state] });
    const dl = make('dl', { className: 'kv' });
    for (const [k, v] of lines) if (v !== null && v !== undefined && v !== '') dl.append(make('dt', { textContent: k }), make('dd', { textContent: String(v) }));
    const box = make('article', { className: `health-card ${state}` }, make('div', { className: 'health-head' }, make('h3', { textContent: title }), badge), dl);
    box.dataset.state = state;
    return box;
  }

  function feedCard(f, status, now) {
    const lostAfter = (config && config.timing.feed_lost_medium) || 15;
    const age = f.lastFrameAt ? (now - new Date(f.lastFrameAt)) / 1000 : Infinity;
    const stale = (status.staleSigns && status.staleSigns[f.chair]) || [];
    const state = !f.connected || age >= lostAfter ? 'bad' : age >= 5 || stale.length || (f.conditions && f.conditions.length) ? 'warn' : 'ok';
    return card(`${chairName(f.chair)}: ${f.device}`, state, [
      ['Kind', f.kind], ['Connection', f.connected ? 'connected' : 'not connected'], ['Last data', ago(f.lastFrameAt, now)],
      ['Frames', `${f.framesOk} good, ${f.framesBad} bad`], ['Reconnects', f.reconnects],
      ['Stale signs', stale.join(', ')], ['Conditions', (f.conditions || []).join('; ')], ['Last error', f.lastError]]);
  }

  function influxCards(storage, now) {
    if (!storage.forwarding) return [card('InfluxDB forwarding', 'off', [['State', 'Not configured: readings are kept in the local store only.']])];
    return storage.forwarders.map(({ outbox, health: h }) => {
      const failing = h.circuitState !== 'closed' || (h.lastErrorAt && (!h.lastSuccessAt || h.lastErrorAt > h.lastSuccessAt));
      const state = failing ? 'bad' : h.lagSeconds > 60 ? 'warn' : 'ok';
      return card(`InfluxDB: ${outbox}`, state, [['Last successful write', ago(h.lastSuccessAt, now)], ['Behind by', `${h.lagPoints} rows, ${Math.round(h.lagSeconds)} s`],
        ['Written', `${h.linesWritten} lines`], ['Connection', h.circuitState === 'closed' ? 'normal' : `paused after failures (${h.circuitState})`],
        ['Last error', h.lastError ? `${h.lastError} (${ago(h.lastErrorAt, now)})` : ''], ['Set aside (rejected lines)', h.quarantinedLines || '']]);
    });
  }

  function mqttCard(m, now) {
    if (!m) return card('MQTT broker', 'off', [['State', 'Not configured.']]);
    const state = m.state === 'connected' ? 'ok' : m.state === 'connecting' ? 'warn' : 'bad';
    return card('MQTT broker', state, [['Broker', m.broker], ['State', m.state], ['Received', m.received], ['Published', m.published], ['Dropped', m.dropped],
      ['Last error', m.lastError ? `${m.lastError} (${ago(m.lastErrorAt, now)})` : '']]);
  }

  async function loadHealth() {
    const status = await getJson('/api/status');
    const stampEl = el('health-updated');
    if (!status) {
      el('health-body').replaceChildren(card('Gateway status', 'bad', [['State', 'Status not available (not signed in, or the gateway is not answering).']]));
      stampEl.textContent = `Last attempt ${stamp(new Date().toISOString())}: no answer.`;
      return;
    }
    const now = new Date(status.serverTime);
    const s = status.storage;
    const store = card('Local store (SQLite)', s.storeFailure ? 'bad' : status.storePending > 1000 ? 'warn' : 'ok', [
      ['Readings stored', status.stored], ['Waiting to be stored', status.storePending], ['Processed', status.processed], ['Open dashboards', status.streams],
      ['Keeps history for', `${s.retentionDays} days`], ['Failure', s.storeFailure]]);
    const hl7 = (status.hl7Sources || []).map((h) => card(`HL7 sender ${h.source}`, h.connected ? 'ok' : 'warn', [['Open connections', h.connected],
      ['Last message', ago(h.lastFrameAt, now)], ['Messages', `${h.framesOk} good, ${h.framesBad} bad`], ['Stray bytes', h.garbageBytes || '']]));
    el('health-feeds').replaceChildren(...status.feeds.map((f) => feedCard(f, status, now)));
    el('health-body').replaceChildren(store, ...influxCards(s, now), mqttCard(status.mqtt, now), ...hl7);
    stampEl.textContent = `Updated ${stamp(status.serverTime)}; refreshes every 5 s.`;
  }
  el('health-refresh').addEventListener('click', loadHealth);
  setInterval(loadHealth, 5000);

  // --- bindings: one editor per chair, saved with PUT /api/admin/chairs/{id}/devices ---
  const KINDS = ['simulator', 'serial', 'hl7', 'mqtt'];
  const SCENARIOS = ['stable', 'hypotension', 'bradycardia', 'tachycardia', 'desaturation', 'feed-loss'];
  // Fields edited per kind: [key, label, type, choices]. Other settings of the same kind are kept as they were.
  const KIND_FIELDS = {
    simulator: [['scenario', 'Scenario', 'select', SCENARIOS], ['seed', 'Seed', 'number'], ['timeScale', 'Time scale', 'number']],
    serial: [['port', 'Port (tty)', 'text'], ['baud', 'Baud', 'number'], ['codec', 'Codec', 'select', ['masimo', 'line', 'hl7']], ['lineConfig', 'Line device JSON (codec line)', 'json']],
    hl7: [['match', 'Match key (bed, application or equipment id)', 'text']],
    mqtt: [['mapping', 'Vendor JSON mapping (empty: Vitals JSON schema)', 'json']],
  };
  let uid = 0;

  function field(label, control, path, errors) {
    const id = `bf-${++uid}`;
    control.id = id;
    const err = make('div', { className: 'field-error', id: `${id}-err` });
    err.setAttribute('role', 'alert');
    control.setAttribute('aria-describedby', err.id);
    control.dataset.path = path;
    errors.set(path, { err, control });
    return make('div', { className: 'binding-field' }, make('label', { htmlFor: id, textContent: label }), control, err);
  }

  function deviceEditor(chair, device, index, errors, onRemove) {
    const original = { ...device };
    const box = make('fieldset', { className: 'binding-device' });
    const legend = make('legend', { textContent: `Device ${index + 1}` });
    const idInput = make('input', { type: 'text', value: device.id || '' });
    const kindSelect = make('select');
    for (const k of KINDS) kindSelect.append(make('option', { value: k, textContent: k, selected: k === (device.kind || 'simulator') }));
    const fieldsBox = make('div', { className: 'binding-kind-fields' });
    const inputs = {};
    const renderKind = () => {
      const kind = kindSelect.value;
      const base = original.kind === kind ? original : {};
      for (const key of Object.keys(inputs)) errors.delete(`devices[${index}].${key}`);
      for (const key of Object.keys(inputs)) delete inputs[key];
      fieldsBox.replaceChildren(...KIND_FIELDS[kind].map(([key, label, type, choices]) => {
        let control;
        const value = base[key];
        if (type === 'select') {
          control = make('select');
          for (const c of choices) control.append(make('option', { value: c, textContent: c, selected: c === value }));
        } else if (type === 'json') {
          control = make('textarea', { rows: 3, value: value == null ? '' : (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, null, 1)) });
        } else {
          control = make('input', { type: type === 'number' ? 'text' : type, value: value == null ? '' : String(value) });
          if (type === 'number') control.inputMode = 'decimal';
        }
        control.setAttribute('aria-label', `${chair.name} device ${index + 1} ${label}`);
        inputs[key] = { control, type };
        return field(label, control, `devices[${index}].${key}`, errors);
      }));
    };
    kindSelect.addEventListener('change', renderKind);
    idInput.setAttribute('aria-label', `${chair.name} device ${index + 1} id`);
    kindSelect.setAttribute('aria-label', `${chair.name} device ${index + 1} kind`);
    const rm = make('button', { type: 'button', className: 'act', textContent: 'Remove device' });
    rm.setAttribute('aria-label', `Remove device: ${chair.name} device ${index + 1}`); // starts with the visible text (WCAG 2.5.3)
    rm.addEventListener('click', onRemove);
    box.append(legend, field('Device id', idInput, `devices[${index}].id`, errors), field('Kind', kindSelect, `devices[${index}].kind`, errors), fieldsBox, rm);
    renderKind();

    // The device as JSON: the edited fields over the other settings it had (when the kind is unchanged).
    // Values that are not numbers or not JSON are sent as text so the server names the field.
    box.read = () => {
      const kind = kindSelect.value;
      const out = original.kind === kind ? { ...original } : {};
      out.id = idInput.value.trim();
      out.kind = kind;
      for (const [key, { control, type }] of Object.entries(inputs)) {
        const text = control.value.trim();
        if (type === 'number') out[key] = text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
        else if (type === 'json') {
          if (text === '') out[key] = null;
          else { try { out[key] = JSON.parse(text); } catch { out[key] = text; } }
        } else out[key] = text;
      }
      return out;
    };
    return box;
  }

  function chairEditor(b) {
    const errors = new Map();
    const section = make('fieldset', { className: 'binding-chair' });
    section.dataset.chair = b.chair;
    const state = make('p', { className: 'note' });
    const setState = (source, pending) => {
      state.textContent = `${source === 'admin' ? 'Saved in the admin view' : 'From the configuration file'}.${pending ? ' Saved changes apply after the gateway restarts; the chair still runs its previous devices.' : ''}`;
    };
    setState(b.source, b.pendingRestart);
    const list = make('div', { className: 'binding-devices' });
    const general = make('div', { className: 'field-error' });
    general.setAttribute('role', 'alert');
    const notice = make('p', { className: 'binding-notice' });
    notice.setAttribute('role', 'status');
    let devices = b.devices.map((d) => ({ ...d }));
    const render = () => {
      errors.clear();
      list.replaceChildren(...devices.map((d, i) => deviceEditor(b, d, i, errors, () => { devices = readAll().filter((_, j) => j !== i); render(); })));
    };
    const readAll = () => [...list.children].map((box) => box.read());
    const add = make('button', { type: 'button', className: 'act', textContent: 'Add device' });
    add.setAttribute('aria-label', `Add device to ${b.name}`);
    add.addEventListener('click', () => { devices = [...readAll(), { id: '', kind: 'simulator', scenario: 'stable', seed: 1, timeScale: 1 }]; render(); });
    const save = make('button', { type: 'button', className: 'act', textContent: 'Save' });
    save.setAttribute('aria-label', `Save ${b.name} bindings`);
    save.addEventListener('click', async () => {
      for (const { err, control } of errors.values()) { err.textContent = ''; control.removeAttribute('aria-invalid'); }
      general.textContent = '';
      notice.textContent = '';
      const body = { devices: readAll() };
      const r = await call('PUT', `/api/admin/chairs/${encodeURIComponent(b.chair)}/devices`, body);
      if (!r.ok) {
        const unplaced = [];
        for (const [key, messages] of Object.entries(r.errors || {})) {
          // Show each message at its field, or the nearest enclosing field (devices[0].mapping.fields[0].sign -> devices[0].mapping).
          let path = key;
          while (path && !errors.has(path)) path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
          const target = errors.get(path);
          if (target) {
            target.err.textContent = [target.err.textContent, ...messages].filter(Boolean).join(' ');
            target.control.setAttribute('aria-invalid', 'true');
          } else unplaced.push(`${key}: ${messages.join(' ')}`);
        }
        general.textContent = unplaced.join(' ') || (r.errors ? '' : r.message);
        flash(`${b.name}: bindings not saved, see the fields marked.`, false);
        return;
      }
      const now = r.data.applied === 'now';
      notice.className = `binding-notice ${now ? 'ok-badge' : 'bad-badge'}`;
      notice.textContent = `${now ? 'Applies now' : 'Applies after restart'}: ${r.data.message}`;
      setState('admin', !now);
      flash(`${b.name}: bindings saved (${now ? 'applied now' : 'applies after restart'}).`);
      loadAudit();
    });
    section.append(make('legend', { textContent: `${b.name} (${b.chair})` }), state, list, general, make('div', { className: 'binding-actions' }, add, ' ', save), notice);
    render();
    return section;
  }

  async function loadBindings() {
    const bindings = await getJson('/api/admin/bindings');
    if (!bindings) return;
    el('binding-editors').replaceChildren(...bindings.map(chairEditor));
  }

  // --- kiosk ---
  async function loadKiosk() {
    const k = await getJson('/api/admin/kiosk');
    if (k) el('kiosk-state').textContent = k.enabled ? 'Kiosk link: enabled.' : 'Kiosk link: disabled.';
  }
  el('kiosk-enable').addEventListener('click', async () => {
    const r = await call('POST', '/api/admin/kiosk');
    if (!r.ok) { flash(r.message, false); return; }
    const url = `${location.origin}/kiosk?token=${r.data.token}`;
    el('kiosk-token').hidden = false;
    el('kiosk-token').replaceChildren('Open this once on the wall display (shown only now): ', make('span', { className: 'token', textContent: url }));
    loadKiosk();
  });
  el('kiosk-disable').addEventListener('click', async () => {
    const r = await call('DELETE', '/api/admin/kiosk');
    if (r.ok) { el('kiosk-token').hidden = true; flash('Kiosk disabled'); loadKiosk(); }
  });

  el('logout').addEventListener('click', async () => { await vitalsApi.logout(); location.href = '/login'; });
  (async () => {
    const me = await vitalsApi.me();
    el('who').textContent = me.name ? `${me.name} (${me.role})` : '';
  })();
  loadConfig().then(loadAudit);
  loadUsers();
  loadHealth();
  loadBindings();
  loadKiosk();
})();
