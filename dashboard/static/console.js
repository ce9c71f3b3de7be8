// console.js: the console.  The list and the graph are dt.dynamic_tables
// (GET /api/dynamic-tables); the selected table's lag chart and history
// are dt.refresh_history (GET /api/dynamic-tables/lag and /history); the
// buttons POST to /api/dynamic-tables/{suspend,resume,refresh}.
'use strict';

let selected = param('name');

// message(kind, text): the outcome of a button, kept until the next one
// (#message is the page's own: the last failure to load, if any).
function message(kind, text) {
  const m = document.getElementById('action');
  m.className = 'message ' + kind;
  m.textContent = text;
}

async function act(action, name) {
  try {
    const answer = await post('/api/dynamic-tables/' + action, { name });
    const r = answer.result;
    message('info', action + ' ' + name + ': done' + (r ? ' (' + r.action + ', ' + r.rows_inserted + ' inserted, ' +
      r.rows_deleted + ' deleted, ' + r.rows_updated + ' updated, ' + secs(r.duration_s) + ')' : ''));
  } catch (e) {
    message('error', action + ' ' + name + ' refused: ' + e.message);
  }
  await load().catch(e => showError(e.message));
}

function buttons(t) {
  const b = (action, label) => el('button', { 'data-action': action, 'data-name': t.id,
    onclick: (event) => { event.stopPropagation(); act(action, t.id); } }, label);
  return el('span', null, t.scheduling_state === 'SUSPENDED' ? b('resume', 'Resume') : b('suspend', 'Suspend'), ' ', b('refresh', 'Refresh now'));
}

// graph(tables): an SVG of the tables and their inputs, inputs to the
// left, each dynamic table one column right of the furthest of its inputs.
function graph(tables) {
  const byId = new Map(tables.map(t => [t.id, t]));
  const level = new Map();
  const depth = (id, seen) => {
    if (level.has(id)) return level.get(id);
    const t = byId.get(id);
    let d = 0;
    if (t && !seen.has(id)) {
      seen.add(id);
      for (const i of t.inputs) d = Math.max(d, depth(i, seen) + 1);
    }
    level.set(id, d);
    return d;
  };
  for (const t of tables) { depth(t.id, new Set()); for (const i of t.inputs) depth(i, new Set()); }
  const columns = [];
  for (const [id, d] of [...level.entries()].sort()) (columns[d] = columns[d] || []).push(id);
  const W = 300, H = 30, GX = 90, GY = 16;
  const pos = new Map();
  columns.forEach((ids, c) => ids.forEach((id, r) => pos.set(id, { x: 10 + c * (W + GX), y: 10 + r * (H + GY) })));
  const width = 20 + columns.length * (W + GX) - GX;
  const height = 20 + Math.max(...columns.map(c => c.length)) * (H + GY) - GY;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'graph');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  const add = (parent, tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    parent.append(e);
    return e;
  };
  for (const t of tables) {
    for (const i of t.inputs) {
      const a = pos.get(i), b = pos.get(t.id);
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      add(svg, 'path', { d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2 - 6},${y2}`, 'data-edge': i + ' -> ' + t.id });
      add(svg, 'path', { d: `M${x2 - 6},${y2 - 4} L${x2},${y2} L${x2 - 6},${y2 + 4}` });
    }
  }
  for (const [id, p] of pos) {
    const t = byId.get(id);
    const g = add(svg, 'g', { class: 'node', 'data-node': id });
    add(g, 'rect', { x: p.x, y: p.y, width: W, height: H, rx: 5,
      class: (t ? 'dt ' + t.scheduling_state : 'base') + (id === selected ? ' selected' : '') });
    add(g, 'text', { x: p.x + 8, y: p.y + 19 }, (id.length > 40 ? id.slice(0, 39) + '…' : id) + (t ? '' : ' (table)'));
    add(g, 'title', {}, t ? id + ': ' + t.scheduling_state + ', lag ' + secs(t.current_lag_s) : id);
    if (t) g.addEventListener('click', () => choose(id));
  }
  document.getElementById('graph').replaceChildren(svg);
}

function choose(id) {
  selected = id;
  history.replaceState(null, '', '?name=' + encodeURIComponent(id));
  load().catch(e => showError(e.message));
}

async function load() {
  const tables = await api('/api/dynamic-tables');
  dash.data.tables = tables;
  if (tables.length === 0) {
    document.getElementById('tables').replaceChildren('This database has no dynamic table yet.');
    return;
  }
  if (!selected || !tables.some(t => t.id === selected)) selected = tables[0].id;
  table(document.getElementById('tables'), [
    ['id', 'dynamic table'], ['id', '', buttons], ['scheduling_state', 'state', 'badge'], ['target_lag', 'target lag'],
    ['current_lag_s', 'lag now', 'secs'], ['maximum_lag_s', 'max lag', 'secs'],
    ['time_within_target_lag_ratio', 'within target', r => r.time_within_target_lag_ratio === null ? '' : fmt(100 * r.time_within_target_lag_ratio, 1) + '%'],
    ['refresh_mode', 'mode'], ['last_refresh_action', 'last refresh'], ['last_refresh_state', 'result', 'badge'],
    ['last_refresh', 'at', 'ts'], ['consecutive_failures', 'failures', 'int'],
  ], tables, { onclick: t => choose(t.id), selected: t => t.id === selected });
  graph(tables);

  const t = tables.find(x => x.id === selected);
  document.getElementById('detail-title').textContent = t.id;
  document.getElementById('mode').replaceChildren(
    el('h2', null, 'Why it refreshes the way it does'),
    el('p', null, 'Refresh mode ', el('b', { id: 'refresh-mode' }, t.refresh_mode), ' (requested: ', t.requested_refresh_mode.toLowerCase(), '): ',
      el('span', { id: 'refresh-mode-reason' }, t.refresh_mode_reason || 'no reason recorded')),
    t.scheduling_state_reason ? el('p', null, 'Scheduling: ' + t.scheduling_state + ', ' + t.scheduling_state_reason) : '',
    el('p', { class: 'muted' }, 'Reads ' + t.inputs.join(', ') + '; populated: ' + (t.populated ? 'yes' : 'no') +
      '; data timestamp ' + when(t.data_timestamp) + '; created ' + when(t.created_at) + '.'),
    el('pre', { class: 'query' }, t.query));

  const [lag, hist] = await Promise.all([
    api('/api/dynamic-tables/lag', { name: selected, limit: 200 }),
    api('/api/dynamic-tables/history', { name: selected, limit: 50 }),
  ]);
  dash.data.lag = lag;
  dash.data.history = hist;
  const points = [];
  for (const s of lag.segments) {
    points.push({ x: Date.parse(s.from), y: s.lag_from_s }, { x: Date.parse(s.to), y: s.lag_to_s });
  }
  const datasets = [{ label: 'lag (s)', data: points, borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0, borderWidth: 1.5 }];
  if (lag.target_lag_s !== null && points.length > 0) {
    datasets.push({ label: 'target lag (s)', data: [{ x: points[0].x, y: lag.target_lag_s }, { x: points[points.length - 1].x, y: lag.target_lag_s }],
      borderColor: palette[2], borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
  }
  chart('lag', 'lag-chart', {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', ticks: { callback: v => new Date(v).toLocaleTimeString('en-GB') } },
        y: { beginAtZero: true, title: { display: true, text: 'seconds' } },
      },
    },
  });
  table(document.getElementById('history'), [
    ['refresh_id', 'refresh'], ['refresh_end_time', 'ended', 'ts'], ['refresh_trigger', 'trigger'],
    ['refresh_action', 'action'], ['state', 'state', 'badge'], ['duration_s', 'duration', 'secs'],
    ['rows_inserted', 'inserted', 'int'], ['rows_deleted', 'deleted', 'int'], ['rows_updated', 'updated', 'int'],
    ['data_timestamp', 'data timestamp', 'ts'], ['state_message', 'message'],
  ], hist.rows);
}

every(2000, load);
