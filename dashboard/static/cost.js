// cost.js: the daily cost page.  Every number drawn is a sum over rows of
// flakebench.dt_daily_cost_rollup that PostgreSQL computed
// (GET /api/daily-cost).
'use strict';

const sizes = ['XSMALL', 'SMALL', 'MEDIUM'];
const typeName = t => t === null ? '(no table type)' : t;

// pivot(rows, x, series, key, seriesOrder, firstColour): Chart.js data with
// one label per distinct x(row) and one dataset per distinct series(row)
// (in seriesOrder when given), each value the row's key, null where no
// row; colours from the palette, from firstColour on.
function pivot(rows, x, series, key, seriesOrder, firstColour) {
  const labels = [...new Set(rows.map(x))];
  const names = seriesOrder || [...new Set(rows.map(series))];
  return {
    labels,
    datasets: names.map((name, i) => ({
      label: name,
      backgroundColor: palette[((firstColour || 0) + i) % palette.length],
      data: labels.map(l => {
        const row = rows.find(r => x(r) === l && series(r) === name);
        return row ? row[key] : null;
      }),
    })),
  };
}

async function load() {
  const started = performance.now();
  const answer = await api('/api/daily-cost', { days: document.getElementById('days').value,
    source: document.getElementById('source').value });
  document.getElementById('timing').textContent = 'answered in ' + fmt(performance.now() - started, 1) + ' ms';
  dash.data.dailyCost = answer;
  freshness(document.getElementById('freshness'), answer.freshness, [{ refreshed_at: answer.refreshed_at }]);
  const daily = pivot(answer.by_day, r => r.run_date, r => typeName(r.table_type), 'total_credits');
  chart('daily', 'daily-chart', {
    type: 'bar',
    data: daily,
    options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'credits' } } } },
  });
  chart('efficiency', 'efficiency-chart', {
    type: 'bar',
    // warehouse sizes in colours that no table type has in the chart above
    data: pivot(answer.by_type, r => typeName(r.table_type), r => r.warehouse_size, 'credits_per_1k_ops', sizes, 6),
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
