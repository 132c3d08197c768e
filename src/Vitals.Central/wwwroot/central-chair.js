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
    el('values').replaceChildren(...Object.entries(chair.values).map(([sign, v]) => {
      const tr = document.createElement('tr');
      for (const text of [NAMES[sign] || sign, `${centralView.fmt(sign, v)} ${UNITS[v.unit] || v.unit}`, centralView.clock(v.at)]) {
        const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
      }
      return tr;
    }));
  }

  vitalsShell.showAccount();
  vitalsShell.stream({
    snapshot: (s) => { site = s.sites.find((x) => x.site === siteName) || null; alarms = s.alarms; render(); },
    site: (s) => { if (s.site === siteName) { site = s; render(); } },
    chair: (c) => {
      if (c.site !== siteName || !site) return;
      const i = site.chairs.findIndex((x) => x.id === c.chair.id);
      if (i >= 0) site.chairs[i] = c.chair; else site.chairs.push(c.chair);
      render();
    },
    alarms: (list) => { alarms = list; render(); },
    tick: () => {},
  }, (live) => { streamLive = live; el('connection').hidden = live; document.body.classList.toggle('offline', !live); render(); });
})();
