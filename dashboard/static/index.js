// index.js: the start page: the freshness of every dynamic table, from
// dt.dynamic_tables (GET /api/dynamic-tables).
'use strict';

every(5000, async () => {
  const tables = await api('/api/dynamic-tables');
  dash.data.tables = tables;
  table(document.getElementById('tables'), [
    ['id', 'dynamic table', t => el('a', { href: '/console.html?name=' + encodeURIComponent(t.id) }, t.id)],
    ['scheduling_state', 'state', 'badge'], ['data_timestamp', 'data as of', 'ts'],
    ['current_lag_s', 'lag now', 'secs'], ['target_lag', 'target lag'], ['last_refresh_action', 'last refresh'],
    ['last_refresh', 'at', 'ts'],
  ], tables);
});
