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

  // One editable row: input + save + remove, with the validation message under the input.
  // A plain-language name for a configuration key such as nibp_sys.low.medium, so admins need not decode keys.
  const SIGN_NAMES = { hr: 'Heart rate', pr: 'Pulse rate', spo2: 'SpO2', nibp_sys: 'NIBP systolic', nibp_dia: 'NIBP diastolic', nibp_map: 'NIBP mean', rr: 'Respiration rate', temp: 'Temperature' };
  // Thresholds and margins are in the sign's unit (as the dashboard shows it), so each row says which.
  const SIGN_UNITS = { hr: '/min', pr: '/min', spo2: '%', nibp_sys: 'mmHg', nibp_dia: 'mmHg', nibp_map: 'mmHg', rr: '/min', temp: '°C' };
  function describeKey(key) {
    const [sign, what, priority] = key.split('.');
    const name = SIGN_NAMES[sign] || sign;
    const unit = SIGN_UNITS[sign] ? ` (${SIGN_UNITS[sign]})` : '';
    if ((what === 'low' || what === 'high') && priority) return `${name}: ${priority} priority when ${what === 'low' ? 'below' : 'above'}${unit}`;
    if (what === 'delay') return `${name}: condition delay (s)`;
    if (what === 'clear_margin') return `${name}: clear margin${unit}`;
    if (what === 'clear_time') return `${name}: clear time (s)`;
    return key;
  }

  function valueRow(key, value, save, remove, note) {
    const errId = `err-${Math.random().toString(36).slice(2)}`;
    const input = make('input', { type: 'number', step: 'any', value: String(value) });
    input.setAttribute('aria-label', key);
    input.name = key;
    input.setAttribute('aria-describedby', errId);
    input.dataset.key = key;
    const err = make('div', { className: 'field-error', id: errId });
    err.setAttribute('role', 'alert');
    const saveBtn = make('button', { type: 'button', className: 'act', textContent: 'Save' });
    saveBtn.setAttribute('aria-label', `Save ${key}`);
    const run = async (fn) => {
      const result = await fn();
      err.textContent = result.ok ? '' : result.message;
      input.setAttribute('aria-invalid', String(!result.ok));
      if (result.ok) { flash(`${key}: ${result.data.oldValue ?? '(unset)'} -> ${result.data.newValue ?? '(unset)'} (version ${result.data.version})`); await loadConfig(); }
    };
    saveBtn.addEventListener('click', () => run(() => save(input.value === '' ? null : Number(input.value))));
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') saveBtn.click(); });
    const cells = [make('td', {}, make('strong', { textContent: describeKey(key) }), ' ', make('code', { textContent: key }), note ? make('span', { className: 'note', textContent: ` ${note}` }) : ''), make('td', {}, input, err), make('td', {}, saveBtn)];
    if (remove) {
      const rm = make('button', { type: 'button', className: 'act', textContent: 'Remove' });
      rm.setAttribute('aria-label', `Remove ${key}`);
      rm.addEventListener('click', () => run(remove));
      cells[2].append(' ', rm);
    }
    return make('tr', {}, ...cells);
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
    const keys = new Set(config.profiles.flatMap((p) => Object.keys(p.values)));
    el('known-keys').replaceChildren(...[...keys].sort().map((k) => make('option', { value: k })));
    renderProfile();
    renderChair();
    el('timing-rows').replaceChildren(...Object.entries(config.timing).map(([k, v]) => valueRow(k, v, (nv) => put(`/api/admin/timing/${enc(k)}`, nv))));
  }

  function renderProfile() {
    const p = config.profiles.find((x) => x.name === el('profile-select').value);
    if (!p) return;
    el('profile-rows').replaceChildren(...Object.entries(p.values).map(([k, v]) =>
      valueRow(k, v, (nv) => put(`/api/admin/profiles/${enc(p.name)}/values/${enc(k)}`, nv),
        () => put(`/api/admin/profiles/${enc(p.name)}/values/${enc(k)}`, null), p.inclusive.includes(k) ? '(the limit value itself alarms)' : '')));
  }

  function renderChair() {
    const c = config.chairs.find((x) => x.id === el('chair-select').value);
    if (!c) return;
    el('chair-profile').value = c.profile || '';
    el('err-chair-profile').textContent = '';
    const profile = config.profiles.find((p) => p.name === (c.profile || config.defaultProfile));
    const rows = Object.entries(c.overrides).map(([k, v]) =>
      valueRow(k, v, (nv) => put(`/api/admin/chairs/${enc(c.id)}/overrides/${enc(k)}`, nv), () => put(`/api/admin/chairs/${enc(c.id)}/overrides/${enc(k)}`, null)));
    if (!rows.length) rows.push(make('tr', {}, make('td', { colSpan: 3, className: 'note', textContent: `No overrides: the chair uses ${profile ? profile.name : 'its profile'} as is.` })));
    el('override-rows').replaceChildren(...rows);
  }

  el('profile-select').addEventListener('change', renderProfile);
  el('chair-select').addEventListener('change', renderChair);
  el('chair-profile-save').addEventListener('click', async () => {
    const id = el('chair-select').value;
    const result = await call('PUT', `/api/admin/chairs/${enc(id)}/profile`, { profile: el('chair-profile').value || null });
    el('err-chair-profile').textContent = result.ok ? '' : result.message;
    if (result.ok) { flash(`${id}: profile ${result.data.oldValue ?? 'default'} -> ${result.data.newValue ?? 'default'}`); await loadConfig(); }
  });

  function addForm(formId, errId, url) {
    el(formId).addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target;
      const key = f.key.value.trim();
      if (!key) { el(errId).textContent = 'Enter a key.'; return; }
      const result = await put(url(key), f.value.value === '' ? null : Number(f.value.value));
      el(errId).textContent = result.ok ? '' : result.message;
      if (result.ok) { f.reset(); flash(`${key}: ${result.data.oldValue ?? '(unset)'} -> ${result.data.newValue}`); await loadConfig(); }
    });
  }
  addForm('profile-add', 'err-profile-add', (k) => `/api/admin/profiles/${enc(el('profile-select').value)}/values/${enc(k)}`);
  addForm('override-add', 'err-override-add', (k) => `/api/admin/chairs/${enc(el('chair-select').value)}/overrides/${enc(k)}`);

  // --- users ---
  async function loadUsers() {
    const users = await getJson('/api/users');
    if (!users) return;
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

  // --- audit ---
  async function loadAudit() {
    const f = el('audit-form');
    const q = new URLSearchParams();
    for (const k of ['type', 'chair', 'user', 'limit']) if (f[k].value) q.set(k, f[k].value);
    for (const k of ['from', 'to']) if (f[k].value) q.set(k, new Date(f[k].value).toISOString());
    const res = await fetch(`/api/admin/audit?${q}`, { credentials: 'same-origin' });
    const data = await res.json().catch(() => null);
    for (const k of ['type', 'chair', 'user', 'from', 'to', 'limit']) el(`err-audit-${k}`).textContent = data && data.errors && data.errors[k] ? data.errors[k].join(' ') : '';
    if (!res.ok) return;
    el('audit-rows').replaceChildren(...data.map((e) => make('tr', {},
      make('td', { textContent: new Date(e.at).toLocaleString([], { hour12: false }) }), make('td', { textContent: e.type }),
      make('td', { textContent: e.chair || '' }), make('td', { textContent: e.user || '' }), make('td', { textContent: e.summary }))));
  }
  el('audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(); });

  // --- health: render whatever /api/status returns (feeds, pipeline, and any influx or mqtt sections) ---
  function renderValue(v) {
    if (v === null || v === undefined) return make('span', { textContent: '-' });
    if (Array.isArray(v)) {
      if (!v.length) return make('span', { className: 'note', textContent: 'none' });
      if (typeof v[0] === 'object') {
        const cols = [...new Set(v.flatMap((x) => Object.keys(x)))];
        return make('table', {}, make('thead', {}, make('tr', {}, ...cols.map((c) => make('th', { textContent: c })))),
          make('tbody', {}, ...v.map((row) => make('tr', {}, ...cols.map((c) => make('td', {}, renderValue(row[c])))))));
      }
      return make('span', { textContent: v.join(', ') });
    }
    if (typeof v === 'object') {
      const dl = make('dl', { className: 'kv' });
      for (const [k, x] of Object.entries(v)) dl.append(make('dt', { textContent: k }), make('dd', {}, renderValue(x)));
      return dl;
    }
    if (typeof v === 'boolean') return make('span', { className: v ? 'ok-badge' : 'bad-badge', textContent: v ? 'yes' : 'NO' });
    return make('span', { textContent: String(v) });
  }
  async function loadHealth() {
    const status = await getJson('/api/status');
    el('health-body').replaceChildren(status ? renderValue(status) : make('p', { className: 'bad-badge', textContent: 'Status not available.' }));
  }
  el('health-refresh').addEventListener('click', loadHealth);

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
    rm.setAttribute('aria-label', `Remove ${chair.name} device ${index + 1}`);
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
  loadConfig();
  loadUsers();
  loadAudit();
  loadHealth();
  loadBindings();
  loadKiosk();
})();
