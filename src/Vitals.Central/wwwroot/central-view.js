// Shared by central's overview and chair page: how a site's alarm and a value read.
'use strict';

const centralView = (() => {
  const two = (n) => String(n).padStart(2, '0');
  const since = (ms) => (ms < 60000 ? `${Math.max(0, Math.floor(ms / 1000))} s` : alarmUi.fmtElapsed(ms));

  /** "Site · Chair: message", plus how long it is unacknowledged at its site when over central's limit. */
  function alarmText(a, now) {
    const where = a.chair === 'gateway' ? `${a.site} gateway` : `${a.site} \u00B7 ${a.chairName}`;
    return { where, message: alarmUi.condition(a), overdue: a.overdue ? `UNACKNOWLEDGED ${since(now - new Date(a.unackedSince).getTime())} at site` : '' };
  }

  /** Renders alarms into an <ol>: priority shape and colour, site name first, overdue ones marked. */
  function fillAlarmList(list, alarms, now) {
    list.replaceChildren(...alarms.map((a) => {
      const li = document.createElement('li');
      li.className = `b ${a.priority || 'low'}${a.overdue ? ' overdue' : ''}${alarmUi.isSilenced(a) ? ' silenced' : ''}`;
      const t = alarmText(a, now);
      const icon = document.createElement('span'); icon.textContent = alarmUi.ICON[a.priority] || ''; icon.setAttribute('aria-hidden', 'true');
      const site = document.createElement('span'); site.className = 'site'; site.textContent = t.where;
      const text = document.createElement('span'); text.className = 'text'; text.textContent = `: ${t.message} ${alarmUi.stateLabel(a)}`;
      li.append(icon, ' ', site, text);
      if (t.overdue) { const tag = document.createElement('span'); tag.className = 'overdue-tag'; tag.textContent = t.overdue; li.append(tag); }
      return li;
    }));
  }

  // The server's order (SiteBook.Alarms): highest priority first, then overdue first, then oldest first.
  const byUrgency = (x, y) => (alarmUi.RANK[y.priority] || 0) - (alarmUi.RANK[x.priority] || 0)
    || Number(y.overdue) - Number(x.overdue)
    || new Date(x.unackedSince || x.at) - new Date(y.unackedSince || y.at);

  /** The alarm list with one site's part replaced by a `site-alarms` event (only the changed site is sent). */
  const mergeSiteAlarms = (alarms, e) => [...alarms.filter((a) => a.site !== e.site), ...e.alarms].sort(byUrgency);

  const DIGITS = { temp: 1 };
  const fmt = (sign, v) => (v ? v.value.toFixed(DIGITS[sign] ?? 0) : '--');
  const clock = (iso) => { const d = new Date(iso); return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`; };

  return { alarmText, fillAlarmList, mergeSiteAlarms, fmt, clock };
})();
