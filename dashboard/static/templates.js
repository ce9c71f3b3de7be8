// templates.js: the template analysis page.  The template list and its
// chart are flakebench.dt_template_statistics (GET /api/templates); the
// run list is the v_template_runs view (GET /api/template-runs) and the
// histogram seed 000's query over query_executions
// (GET /api/template-histogram), both computed when asked.
'use strict';

const badgeColour = { very_stable: '#16a34a', stable: '#0891b2', moderate: '#ca8a04', volatile: '#dc2626', unknown: '#64748b' };
let selected = param('template_id');

function select(templateId) {
  selected = templateId;
  history.replaceState(null, '', '?template_id=' + encodeURIComponent(templateId));
  load().catch(e => showError(e.message));
}

async function load() {
  const answer = await api('/api/templates');
  dash.data.templates = answer;
  const rows = answer.rows;
  freshness(document.getElementById('freshness'), answer.freshness, rows);
  if (rows.length === 0) {
    document.getElementById('templates').replaceChildren('No template has two completed runs yet.');
    return;
  }
  if (!selected || !rows.some(r => r.template_id === selected)) selected = rows[0].template_id;
  chart('templates', 'templates-chart', {
    type: 'bar',
    data: {
      labels: rows.map(r => r.template_id),
      datasets: [{ label: 'average QPS', data: rows.map(r => r.avg_qps),
        backgroundColor: rows.map(r => badgeColour[r.stability_badge] || '#64748b') }],
    },
    options: { plugins: { legend: { display: false } }, onClick: (event, items) => { if (items.length) select(rows[items[0].index].template_id); } },
  });
  table(document.getElementById('templates'), [
    ['template_id', 'template'], ['template_name', 'name'], ['table_type', 'table type'], ['warehouse_size', 'warehouse'],
    ['load_mode', 'load mode'], ['total_runs', 'runs', 'int'], ['avg_qps', 'avg QPS', 'num'], ['cv_qps', 'CV of QPS', 'num'],
    ['stability_badge', 'stability', 'badge'], ['qps_trend_pct', 'QPS trend % (last 10)', 'num'],
    ['avg_p95_ms', 'avg p95 ms', 'num'], ['avg_error_rate', 'avg error rate', 'num'],
    ['credits_per_1k_ops', 'credits / 1k ops', 'num'], ['last_run', 'last run', 'ts'],
  ], rows, { onclick: r => select(r.template_id), selected: r => r.template_id === selected });

  const t = rows.find(r => r.template_id === selected);
  document.getElementById('template-title').textContent = t.template_id + ': ' + t.template_name;
  document.getElementById('template-lead').textContent = t.table_type + ' table, ' + t.warehouse_size +
    ' warehouse, ' + t.load_mode + ' load; ' + fmt(t.total_runs, 0) + ' completed runs, median QPS ' +
    fmt(t.median_qps) + ', median p95 ' + fmt(t.median_p95_ms) + ' ms.';
  const [runs, histogram] = await Promise.all([
    api('/api/template-runs', { template_id: selected, limit: 50 }),
    api('/api/template-histogram', { template_id: selected }),
  ]);
  dash.data.runs = runs;
  dash.data.histogram = histogram;
  chart('histogram', 'histogram-chart', {
    type: 'bar',
    data: {
      labels: histogram.buckets.map(b => b.bucket > 20 ? '≥ 200 ms' : ((b.bucket - 1) * 10) + '–' + (b.bucket * 10) + ' ms'),
      datasets: [{ label: 'queries', data: histogram.buckets.map(b => b.count), backgroundColor: palette[0] }],
    },
    options: { plugins: { legend: { display: false } } },
  });
  const chronological = runs.rows.slice().reverse();
  chart('runs', 'runs-chart', {
    type: 'line',
    data: {
      labels: chronological.map(r => when(r.start_time)),
      datasets: [{ label: 'QPS', data: chronological.map(r => r.qps), borderColor: palette[0], backgroundColor: palette[0] }],
    },
    options: { plugins: { legend: { display: false } }, scales: { x: { ticks: { maxTicksLimit: 8 } } } },
  });
  table(document.getElementById('runs'), [
    ['test_id', 'test'], ['start_time', 'started', 'ts'], ['duration_seconds', 'seconds', 'num'],
    ['concurrent_connections', 'connections', 'int'], ['qps', 'QPS', 'num'], ['p50_latency_ms', 'p50 ms', 'num'],
    ['p95_latency_ms', 'p95 ms', 'num'], ['p99_latency_ms', 'p99 ms', 'num'], ['error_rate', 'error rate', 'num'],
    ['warehouse_credits_used', 'credits', 'num'], ['credits_per_1k_ops', 'credits / 1k ops', 'num'],
    ['recency_rank', 'recency', 'int'],
  ], runs.rows);
}

every(5000, load);
