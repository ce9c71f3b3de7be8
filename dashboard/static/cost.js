// cost.js: the daily cost page.  Every number drawn is a sum over rows of
// flakebench.dt_daily_cost_rollup that PostgreSQL computed
// (GET /api/daily-cost).
'use strict';

const sizes = ['XSMALL', 'SMALL', 'MEDIUM'];
const typeName = t => t === null ? '(no table type)' : t;

async function load() {
  const started = performance.now();
  const answer = await api('/api/daily-cost', { days: document.getElementById('days').value,
    source: document.getElementById('source').value });
  document.getElementById('timing').textContent = 'answered in ' + fmt(performance.now() - started, 1) + ' ms';
  dash.data.dailyCost = answer;
  freshness(document.getElementById('freshness'), answer.freshness, null);
  const days = [...new Set(answer.by_day.map(r => r.run_date))];
  const types = [...new Set(answer.by_day.map(r => typeName(r.table_type)))];
  chart('daily', 'daily-chart', {
    type: 'bar',
    data: {
      labels: days,
      datasets: types.map((t, i) => ({
        label: t,
        backgroundColor: palette[i % palette.length],
        data: days.map(d => {
          const row = answer.by_day.find(r => r.run_date === d && typeName(r.table_type) === t);
          return row ? row.total_credits : null;
        }),
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'credits' } } } },
  });
  const byTypeTypes = [...new Set(answer.by_type.map(r => typeName(r.table_type)))];
  chart('efficiency', 'efficiency-chart', {
    type: 'bar',
    data: {
      labels: byTypeTypes,
      datasets: sizes.map((s, i) => ({
        label: s,
        backgroundColor: palette[i],
        data: byTypeTypes.map(t => {
          const row = answer.by_type.find(r => typeName(r.table_type) === t && r.warehouse_size === s);
          return row ? row.credits_per_1k_ops : null;
        }),
      })),
    },
  });
  table(document.getElementById('table'), [
    ['table_type', 'table type', r => typeName(r.table_type)], ['warehouse_size', 'warehouse'],
    ['test_count', 'tests', 'int'], ['total_credits', 'credits', 'num'], ['total_operations', 'operations', 'int'],
    ['credits_per_1k_ops', 'credits / 1k ops', 'num'], ['total_test_duration_seconds', 'test time', 'secs'],
  ], answer.by_type);
}

for (const id of ['days', 'source']) {
  document.getElementById(id).addEventListener('change', () => load().catch(e => showError(e.message)));
}
every(5000, load);
