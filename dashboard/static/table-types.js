// table-types.js: the table-type comparison page.  Every number drawn is
// a column of flakebench.dt_table_type_summary (GET /api/table-types).
'use strict';

async function load() {
  const source = document.getElementById('source').value;
  const started = performance.now();
  const answer = await api('/api/table-types', { source });
  document.getElementById('timing').textContent =
    'answered in ' + fmt(performance.now() - started, 1) + ' ms';
  dash.data.tableTypes = answer;
  const rows = answer.rows;
  const labels = rows.map(r => r.table_type);
  freshness(document.getElementById('freshness'), answer.freshness, rows);
  const bars = (specs) => ({
    labels,
    datasets: specs.map(([key, label], i) => ({ label, data: rows.map(r => r[key]), backgroundColor: palette[i] })),
  });
  chart('qps', 'qps-chart', { type: 'bar', data: bars([['avg_qps', 'average'], ['median_qps', 'median'], ['p95_qps', '95th percentile']]) });
  chart('latency', 'latency-chart', { type: 'bar', data: bars([['median_p50_ms', 'p50'], ['median_p95_ms', 'p95'], ['median_p99_ms', 'p99']]) });
  chart('cost', 'cost-chart', { type: 'bar', data: bars([['credits_per_1k_ops', 'credits per 1k operations']]),
    options: { plugins: { legend: { display: false } } } });
  chart('tests', 'tests-chart', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'tests', data: rows.map(r => r.test_count), backgroundColor: palette[0], yAxisID: 'y' },
        { label: 'average error rate', data: rows.map(r => r.avg_error_rate), backgroundColor: palette[2], yAxisID: 'y1' },
      ],
    },
    options: { scales: { y: { position: 'left' }, y1: { position: 'right', grid: { drawOnChartArea: false } } } },
  });
  table(document.getElementById('table'), [
    ['table_type', 'table type'], ['test_count', 'tests', 'int'], ['unique_templates', 'templates', 'int'],
    ['avg_qps', 'avg QPS', 'num'], ['min_qps', 'min', 'num'], ['max_qps', 'max', 'num'], ['stddev_qps', 'stddev', 'num'],
    ['avg_p50_ms', 'avg p50 ms', 'num'], ['avg_p95_ms', 'avg p95 ms', 'num'], ['avg_p99_ms', 'avg p99 ms', 'num'],
    ['avg_error_rate', 'avg error rate', 'num'], ['total_failed_ops', 'failed ops', 'int'],
    ['total_credits', 'credits', 'num'], ['credits_per_1k_ops', 'credits / 1k ops', 'num'],
    ['total_operations', 'operations', 'int'], ['earliest_test', 'first test', 'ts'], ['latest_test', 'last test', 'ts'],
  ], rows);
}

document.getElementById('source').addEventListener('change', () => load().catch(e => showError(e.message)));
every(5000, load);
