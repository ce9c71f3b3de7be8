// common.js: what every page of dt_dashboard shares: calls to the JSON
// API, number and time formats, tables, charts, the freshness line, and
// the page's state for the browser tests.
//
// A page sets document.body.dataset.state to "ready" once everything it
// shows has been drawn from the API's answers (or "error"), and keeps its
// charts in dash.charts and the answers in dash.data, so that tests can
// compare what is drawn with the database.
'use strict';

const dash = { charts: {}, data: {}, timer: null };

// api(path, params, options): the JSON answer of an endpoint; throws an
// Error carrying the server's message (PostgreSQL's, for a refused action).
async function api(path, params, options) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') query.set(k, v);
  }
  const url = path + (query.toString() ? '?' + query : '');
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ error: 'the server sent no JSON (' + response.status + ')' }));
  if (!response.ok) {
    const e = new Error(body.error || ('HTTP ' + response.status));
    e.status = response.status;
    throw e;
  }
  return body;
}

// post(path, params): a console action (the header tells the server that
// the request comes from its own page).
function post(path, params) {
  return api(path, params, { method: 'POST', headers: { 'X-Requested-By': 'dt-dashboard' } });
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// fmt(v, digits): a number for reading (thousands separated; small ones
// to three significant digits), '' for null.
function fmt(v, digits) {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'number') return String(v);
  if (digits === undefined && v !== 0 && Math.abs(v) < 0.01) return v.toPrecision(3);
  const d = digits === undefined ? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 1 ? 2 : 4) : digits;
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

// secs(s): a duration in seconds for reading.
function secs(s) {
  if (s === null || s === undefined) return '';
  if (s < 1) return fmt(s * 1000, 1) + ' ms';
  if (s < 120) return fmt(s, 2) + ' s';
  if (s < 7200) return fmt(s / 60, 1) + ' min';
  return fmt(s / 3600, 1) + ' h';
}

// when(ts): a timestamp of the API (ISO 8601) as local date and time.
function when(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return d.toLocaleString('sv-SE', { hour12: false }).replace('T', ' ');
}

function maxOf(rows, key) {
  let m = null;
  for (const r of rows) if (r[key] !== null && (m === null || r[key] > m)) m = r[key];
  return m;
}

// table(container, columns, rows, options): replace container's content
// with a table; columns are [key, title, kind] with kind 'num', 'ts',
// 'secs', 'badge' or a function of the row.
function table(container, columns, rows, options) {
  const opts = options || {};
  const head = el('tr', null, ...columns.map(c => el('th', null, c[1])));
  const body = rows.map(r => {
    const tr = el('tr', opts.onclick ? { class: 'clickable' } : null, ...columns.map(([key, , kind]) => {
      const v = r[key];
      if (typeof kind === 'function') return el('td', null, kind(r));
      if (kind === 'num') return el('td', { class: 'num' }, fmt(v));
      if (kind === 'int') return el('td', { class: 'num' }, fmt(v, 0));
      if (kind === 'secs') return el('td', { class: 'num' }, secs(v));
      if (kind === 'ts') return el('td', null, when(v));
      if (kind === 'badge') return el('td', null, v === null ? '' : el('span', { class: 'badge ' + v }, v));
      return el('td', null, v === null ? '' : v);
    }));
    if (opts.onclick) tr.addEventListener('click', () => opts.onclick(r));
    if (opts.selected && opts.selected(r)) tr.classList.add('selected');
    return tr;
  });
  container.replaceChildren(el('div', { class: 'scroll' }, el('table', { class: 'data' }, el('thead', null, head), el('tbody', null, ...body))));
}

const palette = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#64748b', '#ca8a04', '#be185d', '#4d7c0f'];

// chart(name, canvasId, config): draw a Chart.js chart, or update the one
// drawn before under that name with config's data (no animation).
function chart(name, canvasId, config) {
  if (typeof Chart === 'undefined') {
    document.getElementById(canvasId).replaceWith(el('p', { class: 'error-page' },
      'The chart library is not installed: run "npm ci" in the dashboard directory.'));
    return null;
  }
  const old = dash.charts[name];
  if (old) {
    old.data = config.data;
    old.update('none');
    return old;
  }
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
  dash.charts[name] = new Chart(document.getElementById(canvasId), config);
  return dash.charts[name];
}

// freshness(container, f, rows): say how fresh the data shown is: the
// dynamic table's data timestamp, lag and target lag (dt.dynamic_tables),
// and the newest refreshed_at of the rows shown; or when it was computed
// from the base tables.
function freshness(container, f, rows) {
  if (f === null || f === undefined) {
    container.replaceChildren('This dynamic table is not in dt.dynamic_tables.');
    return;
  }
  if (f.source === 'query') {
    container.replaceChildren('Computed from the defining query of ', el('b', null, f.table),
      ' (its base tables) at ', el('b', null, when(f.computed_at)), ', not read from the dynamic table.');
    return;
  }
  const late = f.target_lag_s !== null && f.current_lag_s > f.target_lag_s;
  const parts = [
    'Data of ', el('b', null, f.table), ' as of ', el('b', { class: 'data-timestamp' }, when(f.data_timestamp)),
    ': lag ', el('b', { class: late ? 'late' : '' }, secs(f.current_lag_s)),
    ', target lag ', el('b', null, f.target_lag_s === null ? f.target_lag : secs(f.target_lag_s)),
    ' (' + f.scheduling_state.toLowerCase() + ', ' + f.refresh_mode.toLowerCase() + ' refreshes; last ',
    (f.last_refresh_action || 'none') + ' at ' + when(f.last_refresh) + ').'];
  const newest = rows ? maxOf(rows, 'refreshed_at') : null;
  if (newest) parts.push(' Newest row written by the refresh of ', el('b', null, when(newest)), ' (refreshed_at).');
  container.replaceChildren(...parts);
}

// every(ms, fn): run fn now and then every ms milliseconds (after each run
// ends); the page is "ready" after the first run, "error" if it failed.
function every(ms, fn) {
  let first = true;
  const run = async () => {
    try {
      await fn();
      if (first) document.body.dataset.state = 'ready';
      showError('');
    } catch (e) {
      showError(e.message);
      if (first) document.body.dataset.state = 'error';
    }
    first = false;
    dash.timer = setTimeout(run, ms);
  };
  run();
}

function showError(message) {
  const m = document.getElementById('message');
  if (!m) return;
  m.className = message ? 'message error' : 'message';
  m.textContent = message;
}

function param(name) {
  return new URLSearchParams(location.search).get(name);
}

// The navigation bar, with the current page marked.
document.addEventListener('DOMContentLoaded', () => {
  const pages = [['/', 'Overview'], ['/table-types.html', 'Table types'], ['/templates.html', 'Templates'],
    ['/cost.html', 'Daily cost'], ['/console.html', 'Console'], ['/metrics', 'Metrics']];
  const nav = el('nav', null, ...pages.map(([href, title]) =>
    el('a', { href, class: location.pathname === href || (href === '/' && location.pathname === '/index.html') ? 'current' : '' }, title)));
  document.body.prepend(el('header', null, el('span', { class: 'brand' }, 'pg_dynamic_tables'), nav));
});
