// Central overview: every site as a group of chair tiles, one alarm strip across sites, NOT LIVE per site and per stream.
'use strict';

(() => {
  const el = (id) => document.getElementById(id);
  const sites = new Map(); // name -> site view (gateway, chairs)
  let alarms = [];
  let streamLive = false;

  function siteNode(name) {
    let node = document.querySelector(`section.site-group[data-site="${CSS.escape(name)}"]`);
    if (!node) {
      node = el('site-template').content.firstElementChild.cloneNode(true);
      node.dataset.site = name;
      node.querySelector('.site-name').textContent = name;
      const after = [...document.querySelectorAll('section.site-group')].find((n) => n.dataset.site > name);
      el('sites').insertBefore(node, after || null);
    }
    return node;
  }

  function tileNode(siteName, group, chair) {
    const grid = group.querySelector('.site-grid');
    let node = grid.querySelector(`article[data-chair="${CSS.escape(chair.id)}"]`);
    if (!node) {
      node = el('tile-template').content.firstElementChild.cloneNode(true);
      node.dataset.chair = chair.id;
      const link = node.querySelector('.chair-link');
      link.href = `/sites/${encodeURIComponent(siteName)}/chairs/${encodeURIComponent(chair.id)}`;
      const after = [...grid.children].find((n) => n.dataset.chair > chair.id);
      grid.insertBefore(node, after || null);
    }
    return node;
  }

  function renderTile(site, group, chair) {
    const node = tileNode(site.site, group, chair);
    const live = streamLive && site.gateway.live;
    node.querySelector('.chair-link').textContent = chair.name;
    node.setAttribute('aria-label', `${site.site}, ${chair.name}`);
    const state = node.querySelector('.feed-state');
    state.className = `feed-state ${live ? 'live' : 'not-live'}`;
    state.textContent = live ? 'LIVE' : 'NOT LIVE';
    const top = chair.alarms[0];
    const strip = node.querySelector('.alarm-strip');
    const overdue = top && alarms.some((a) => a.site === site.site && a.chair === chair.id && a.rule === top.rule && a.overdue);
    strip.className = `alarm-strip ${top ? top.priority || 'low' : 'none'}${overdue ? ' overdue' : ''}`;
    strip.textContent = top ? `${alarmUi.ICON[top.priority] || ''} ${alarmUi.condition(top)} ${alarmUi.stateLabel(top)}${chair.alarms.length > 1 ? ` (+${chair.alarms.length - 1})` : ''}` : 'No active alarm';
    node.className = `tile${top && live ? ` alarm-${top.priority || 'low'}` : ''}`;
    const v = chair.values;
    // Stale signs as the site judged them (its limits): struck through with their age, as on the site's own tiles.
    const stale = new Set(chair.staleSigns || []);
    const set = (cls, text, sub, isStale) => {
      const box = node.querySelector(`.v.${cls}`);
      box.querySelector('.num').textContent = text;
      box.querySelector('.sub').textContent = sub;
      box.classList.toggle('stale', isStale);
    };
    const age = (sign) => (stale.has(sign) && v[sign] ? alarmUi.fmtAge(Date.now() - new Date(v[sign].at).getTime()) : '');
    for (const sign of ['spo2', 'rr', 'temp']) set(sign, centralView.fmt(sign, v[sign]), age(sign), stale.has(sign));
    set('hr', centralView.fmt('hr', v.hr), age('hr') || (v.pr ? `PR ${centralView.fmt('pr', v.pr)}` : ''), stale.has('hr'));
    set('nibp', v.nibp_sys ? `${centralView.fmt('nibp_sys', v.nibp_sys)}/${centralView.fmt('nibp_dia', v.nibp_dia)}` : '--',
      v.nibp_sys ? `at ${centralView.clock(v.nibp_sys.at)}` : '', stale.has('nibp_sys'));
    node.querySelector('.v.nibp .map').textContent = v.nibp_map ? `(${centralView.fmt('nibp_map', v.nibp_map)})` : '';
  }

  // The ages of stale values move on between state messages.
  function renderStaleTiles() {
    for (const site of sites.values()) {
      const group = siteNode(site.site);
      for (const chair of site.chairs) if (chair.staleSigns && chair.staleSigns.length) renderTile(site, group, chair);
    }
  }

  function renderSite(site) {
    const group = siteNode(site.site);
    const live = streamLive && site.gateway.live;
    group.classList.toggle('offline', !live);
    const state = group.querySelector('.site-state');
    state.className = `site-state ${live ? 'live' : 'not-live'}`;
    state.textContent = live ? 'LIVE' : 'NOT LIVE';
    group.querySelector('.site-reason').textContent = site.gateway.live ? '' : site.gateway.reason || '';
    for (const chair of site.chairs) renderTile(site, group, chair);
    el('no-sites').hidden = sites.size > 0;
  }

  function renderAlarms() {
    el('banner').hidden = alarms.length === 0;
    centralView.fillAlarmList(el('alarm-list'), alarms, Date.now());
    const chairs = [...sites.values()].reduce((n, s) => n + s.chairs.length, 0);
    const down = [...sites.values()].filter((s) => !s.gateway.live).length;
    el('counts').textContent = `${sites.size} sites${down ? ` (${down} NOT LIVE)` : ''} \u00B7 ${chairs} chairs \u00B7 ${alarms.length} alarms`;
  }

  const renderAll = () => { for (const s of sites.values()) renderSite(s); renderAlarms(); };

  vitalsShell.showAccount();
  setInterval(() => { el('clock').textContent = centralView.clock(new Date().toISOString()); }, 1000);
  vitalsShell.stream({
    snapshot: (s) => { sites.clear(); for (const site of s.sites) sites.set(site.site, site); alarms = s.alarms; renderAll(); },
    site: (site) => { sites.set(site.site, site); renderSite(site); renderAlarms(); },
    chair: (c) => {
      const site = sites.get(c.site);
      if (!site) return;
      const i = site.chairs.findIndex((x) => x.id === c.chair.id);
      if (i >= 0) site.chairs[i] = c.chair; else site.chairs.push(c.chair);
      renderTile(site, siteNode(site.site), c.chair);
    },
    'site-alarms': (e) => {
      alarms = centralView.mergeSiteAlarms(alarms, e);
      const site = sites.get(e.site);
      if (site) renderSite(site);
      renderAlarms();
    },
    tick: () => { renderAlarms(); renderStaleTiles(); }, // keeps the "unacknowledged for" times and stale ages current
  }, (live) => {
    streamLive = live;
    el('connection').hidden = live;
    document.body.classList.toggle('offline', !live);
    renderAll();
  });
})();
