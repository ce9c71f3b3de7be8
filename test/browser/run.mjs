// test/browser/run.mjs: the dashboard (dashboard/dt_dashboard) tested in a
// real browser, headless Chromium driven by playwright-core.
//
//   node test/browser/run.mjs DT_DASHBOARD PSQL SCREENSHOT_DIR
//
// The database is the one the PG* environment names, with examples/load
// flakebench loaded and the scheduler off, so that the only refreshes are
// the ones this test makes.  The oracle is always the database: every
// number a chart draws is compared with a query of the dynamic table (or
// dt view) it comes from, run here through psql.  One line per test,
// "test NAME ... ok" or "test NAME ... FAILED" followed by why, as
// test/run counts them; the exit status is 1 if one failed.
'use strict';

import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [dashboardProgram, psqlProgram, screenshotDir] = process.argv.slice(2);
const require = createRequire(new URL('../../dashboard/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const pageTimeout = 15000;

// sql(query): the rows of query as JSON values (query returns one json).
function sql(query) {
  const out = execFileSync(psqlProgram, ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' });
  return JSON.parse(out);
}
function rows(query) {
  return sql(`SELECT coalesce(json_agg(t), '[]') FROM (${query}) t`);
}
function run(statement) {
  execFileSync(psqlProgram, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', statement], { encoding: 'utf8' });
}
// error_of(role, statement): the message PostgreSQL gives role for statement.
function errorOf(role, statement) {
  try {
    execFileSync(psqlProgram, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `SET ROLE ${role}`, '-c', statement],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return e.stderr.replace(/^.*ERROR:\s+/s, '').split('\n')[0];
  }
  throw new Error(`${statement} did not fail for ${role}`);
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}
function same(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  check(a === e, `${what}: the page has ${a.slice(0, 400)}, the database ${e.slice(0, 400)}`);
}
function close(actual, expected, what, tolerance) {
  check(actual.length === expected.length, `${what}: ${actual.length} values on the page, ${expected.length} in the database`);
  actual.forEach((a, i) => {
    const e = expected[i];
    const ok = (a === null && e === null) ||
      (a !== null && e !== null && Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)));
    check(ok, `${what}[${i}]: the page has ${a}, the database ${e}`);
  });
}

// startDashboard(conninfo): a dt_dashboard on a free port; its URL.
async function startDashboard(conninfo) {
  const child = spawn(dashboardProgram, ['--port', '0', '--connections', '2', conninfo], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let out = '';
  child.stderr.on('data', d => { out += d; });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', d => {
      out += d;
      const m = /serving (http:\/\/\S+?)\/?\n/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', code => reject(new Error(`dt_dashboard exited (${code}): ${out}`)));
  });
}

const servers = [];
const results = [];
async function test(name, fn) {
  try {
    await fn();
    console.log(`test ${name} ... ok`);
    results.push(true);
  } catch (e) {
    console.log(`test ${name} ... FAILED`);
    console.log('    ' + String(e.stack || e).split('\n').slice(0, 6).join('\n    '));
    results.push(false);
  }
}

// open(page, path): load a page of the dashboard and wait until it has
// drawn everything (body data-state "ready"); fail on "error".
async function open(page, base, path) {
  await page.goto(base + path);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: pageTimeout });
  const state = await page.evaluate(() => document.body.dataset.state);
  check(state === 'ready', `${path} is in state ${state}: ${await page.textContent('#message').catch(() => '')}`);
}
const chartData = (page, name) => page.evaluate(n => {
  const c = dash.charts[n];
  return { labels: c.data.labels, datasets: c.data.datasets.map(d => ({ label: d.label, data: d.data })) };
}, name);

const pgHost = process.env.PGHOST, pgPort = process.env.PGPORT, pgDatabase = process.env.PGDATABASE;
const conninfo = `host=${pgHost} port=${pgPort} dbname=${pgDatabase}`;
const base = await startDashboard(conninfo);
mkdirSync(screenshotDir, { recursive: true });
const userDataDir = mkdtempSync(join(tmpdir(), 'dt-browser-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await context.newPage();
const problems = [];
page.on('pageerror', e => problems.push('page error: ' + e.message));
page.on('console', m => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });

try {
  const pages = [['/', 'index'], ['/table-types.html', 'table-types'], ['/templates.html', 'templates'],
    ['/cost.html', 'cost'], ['/console.html', 'console']];
  for (const [path, name] of pages) {
    await test(`browser_page_${name.replace('-', '_')}`, async () => {
      problems.length = 0;
      await open(page, base, path);
      check(path === '/' || await page.evaluate(() => typeof Chart === 'function'), 'the chart library did not load');
      await page.screenshot({ path: join(screenshotDir, name + '.png'), fullPage: true });
      check(problems.length === 0, problems.join('; '));
    });
  }

  await test('browser_table_types_charts', async () => {
    await open(page, base, '/table-types.html');
    const dt = rows('SELECT * FROM flakebench.dt_table_type_summary ORDER BY table_type');
    const col = k => dt.map(r => r[k]);
    const qps = await chartData(page, 'qps');
    same(qps.labels, col('table_type'), 'table types');
    same(qps.datasets.map(d => d.data), [col('avg_qps'), col('median_qps'), col('p95_qps')], 'QPS chart');
    const latency = await chartData(page, 'latency');
    same(latency.datasets.map(d => d.data), [col('median_p50_ms'), col('median_p95_ms'), col('median_p99_ms')], 'latency chart');
    same((await chartData(page, 'cost')).datasets[0].data, col('credits_per_1k_ops'), 'cost chart');
    same((await chartData(page, 'tests')).datasets.map(d => d.data), [col('test_count'), col('avg_error_rate')], 'tests chart');
    const f = sql(`SELECT json_build_object('data_timestamp', data_timestamp, 'target_lag', target_lag)
                     FROM dt.dynamic_tables WHERE relid = 'flakebench.dt_table_type_summary'::regclass`);
    const shown = await page.evaluate(() => dash.data.tableTypes.freshness);
    same([shown.data_timestamp, shown.target_lag], [f.data_timestamp, f.target_lag], 'freshness');
    const text = await page.textContent('#freshness');
    check(text.includes('flakebench.dt_table_type_summary') && text.includes('target lag') && text.includes('refreshed_at'),
      `the freshness line says "${text}"`);
  });

  await test('browser_templates_charts', async () => {
    await open(page, base, '/templates.html?template_id=tpl-007');
    const dt = rows('SELECT template_id, avg_qps FROM flakebench.dt_template_statistics ORDER BY template_id');
    const t = await chartData(page, 'templates');
    same(t.labels, dt.map(r => r.template_id), 'templates');
    same(t.datasets[0].data, dt.map(r => r.avg_qps), 'average QPS chart');
    const histogram = rows(`SELECT width_bucket(qe.app_elapsed_ms, 0, 200, 20) AS bucket, count(*) AS n
                              FROM flakebench.query_executions qe JOIN flakebench.test_results tr USING (test_id)
                             WHERE tr.test_config->>'template_id' = 'tpl-007' AND NOT qe.warmup AND qe.success
                             GROUP BY 1 ORDER BY 1`);
    check(histogram.length > 3, 'tpl-007 has too few latency buckets to test');
    same((await chartData(page, 'histogram')).datasets[0].data, histogram.map(r => r.n), 'histogram chart');
    const runs = rows(`SELECT test_id, qps FROM flakebench.v_template_runs WHERE template_id = 'tpl-007'
                        ORDER BY start_time DESC, test_id DESC LIMIT 50`);
    same(await page.evaluate(() => dash.data.runs.rows.map(r => r.test_id)), runs.map(r => r.test_id), 'run list');
    same((await chartData(page, 'runs')).datasets[0].data, runs.map(r => r.qps).reverse(), 'QPS of the latest runs');
    const title = await page.textContent('#template-title');
    check(title.startsWith('tpl-007'), `the selected template is "${title}"`);
    await page.screenshot({ path: join(screenshotDir, 'templates-tpl-007.png'), fullPage: true });
  });

  await test('browser_cost_charts', async () => {
    await open(page, base, '/cost.html');
    await page.selectOption('#days', '90');
    await page.waitForFunction(() => dash.data.dailyCost.days === 90, null, { timeout: pageTimeout });
    const byDay = rows(`SELECT run_date, coalesce(table_type, '(no table type)') AS tt, sum(total_credits) AS credits
                          FROM flakebench.dt_daily_cost_rollup WHERE run_date > current_date - 90
                         GROUP BY 1, 2 ORDER BY 1, 2`);
    const daily = await chartData(page, 'daily');
    same(daily.labels, [...new Set(byDay.map(r => r.run_date))], 'days');
    for (const ds of daily.datasets) {
      const expected = daily.labels.map(d => {
        const r = byDay.find(x => x.run_date === d && x.tt === ds.label);
        return r ? r.credits : null;
      });
      close(ds.data, expected, `credits of ${ds.label}`, 1e-12);
    }
    const byType = rows(`SELECT coalesce(table_type, '(no table type)') AS tt, warehouse_size AS ws,
                                sum(total_credits) / sum(total_operations) * 1000 AS c
                           FROM flakebench.dt_daily_cost_rollup WHERE run_date > current_date - 90
                          GROUP BY 1, 2`);
    const efficiency = await chartData(page, 'efficiency');
    for (const ds of efficiency.datasets) {
      close(ds.data, efficiency.labels.map(tt => {
        const r = byType.find(x => x.tt === tt && x.ws === ds.label);
        return r ? r.c : null;
      }), `credits per 1k operations of ${ds.label}`, 1e-12);
    }
    same(await page.evaluate(() => dash.data.dailyCost.refreshed_at),
      sql(`SELECT to_json(max(refreshed_at)) FROM flakebench.dt_daily_cost_rollup WHERE run_date > current_date - 90`),
      'newest refreshed_at');
    check((await page.textContent('#freshness')).includes('refreshed_at'), 'the freshness line gives no refreshed_at');
    await page.screenshot({ path: join(screenshotDir, 'cost-90-days.png'), fullPage: true });
  });

  await test('browser_computed_equals_dynamic_table', async () => {
    // The API's source=query runs each table's defining query: it must give
    // what the table holds (floating-point sums within 1e-9) once the
    // table is refreshed.
    run('SELECT count(dt.refresh(relid)) FROM dt.dynamic_tables');
    for (const [path, key] of [['/api/table-types', 'table_type'], ['/api/templates', 'template_id']]) {
      const fromTable = await (await fetch(base + path)).json();
      const computed = await (await fetch(base + path + '?source=query')).json();
      check(computed.freshness.source === 'query', `${path}?source=query did not compute`);
      same(computed.rows.map(r => r[key]), fromTable.rows.map(r => r[key]), `${path} keys`);
      for (const column of Object.keys(fromTable.rows[0])) {
        if (column === 'refreshed_at' || typeof fromTable.rows[0][column] !== 'number') continue;
        close(computed.rows.map(r => r[column]), fromTable.rows.map(r => r[column]), `${path} ${column}`, 1e-9);
      }
    }
  });

  await test('browser_console_graph_and_lag', async () => {
    await open(page, base, '/console.html?name=flakebench.dt_table_type_summary');
    const edges = await page.$$eval('svg.graph path[data-edge]', ps => ps.map(p => p.dataset.edge).sort());
    const inputs = rows(`SELECT format('%I.%I', n.nspname, c.relname) || ' -> ' || format('%I.%I', d.schema_name, d.table_name) AS e
                           FROM dt.dynamic_tables d, unnest(d.inputs) i JOIN pg_class c ON c.oid = i
                           JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1`);
    same(edges, inputs.map(r => r.e), 'graph edges');
    const reason = sql(`SELECT to_json(refresh_mode_reason) FROM dt.dynamic_tables
                         WHERE relid = 'flakebench.dt_table_type_summary'::regclass`);
    same(await page.textContent('#refresh-mode-reason'), reason, 'refresh mode reason');
    // The sawtooth, computed here another way: each successful refresh and
    // the end of the next successful one.
    const segments = rows(`SELECT extract(epoch FROM r.refresh_end_time) * 1000 AS t0,
                                  extract(epoch FROM r.refresh_end_time - r.data_timestamp) AS l0,
                                  extract(epoch FROM n.e) * 1000 AS t1, extract(epoch FROM n.e - r.data_timestamp) AS l1
                             FROM dt.refresh_history r
                             LEFT JOIN LATERAL (SELECT min(x.refresh_end_time) AS e FROM dt.refresh_history x
                                                 WHERE x.relid = r.relid AND x.state = 'SUCCEEDED'
                                                   AND x.refresh_id > r.refresh_id) n ON true
                            WHERE r.relid = 'flakebench.dt_table_type_summary'::regclass AND r.state = 'SUCCEEDED'
                            ORDER BY r.refresh_id`);
    const drawn = (await chartData(page, 'lag')).datasets[0].data;
    check(drawn.length === 2 * segments.length, `${drawn.length} lag points for ${segments.length} refreshes`);
    // x is milliseconds (the browser parses timestamps to the millisecond),
    // y seconds; the last segment ends at "now", which moves.
    const near = (p, t, l, what) => check(Math.abs(p.x - t) <= 1 && Math.abs(p.y - l) <= 1e-6,
      `${what}: the chart has (${p.x}, ${p.y}), the database (${t}, ${l})`);
    segments.forEach((s, i) => {
      near(drawn[2 * i], s.t0, s.l0, `lag after refresh ${i}`);
      if (s.t1 !== null) near(drawn[2 * i + 1], s.t1, s.l1, `lag before refresh ${i + 1}`);
    });
    const target = (await chartData(page, 'lag')).datasets[1].data;
    const targetS = sql(`SELECT to_json(extract(epoch FROM target_lag::interval)) FROM dt.dynamic_tables
                          WHERE relid = 'flakebench.dt_table_type_summary'::regclass`);
    same(target.map(p => p.y), [targetS, targetS], 'target lag line');
  });

  await test('browser_console_shows_new_refresh', async () => {
    await open(page, base, '/console.html?name=flakebench.dt_table_type_summary');
    const before = await page.evaluate(() => dash.data.history.rows[0].refresh_id);
    run(`SELECT flakebench.generate_results(25, now() - interval '1 hour', interval '1 hour', 0.777)`);
    run(`SELECT dt.refresh('flakebench.dt_table_type_summary')`);
    const last = sql(`SELECT row_to_json(h) FROM (SELECT refresh_id, refresh_action, refresh_trigger, rows_inserted,
                             rows_deleted, rows_updated FROM dt.refresh_history
                       WHERE relid = 'flakebench.dt_table_type_summary'::regclass ORDER BY refresh_id DESC LIMIT 1) h`);
    check(last.refresh_id > before && last.refresh_action === 'INCREMENTAL', `the refresh was ${JSON.stringify(last)}`);
    // The console polls every 2 s: the new refresh appears without a reload.
    await page.waitForFunction(id => dash.data.history.rows[0].refresh_id === id, last.refresh_id, { timeout: pageTimeout });
    const shown = await page.evaluate(() => dash.data.history.rows[0]);
    same([shown.refresh_action, shown.refresh_trigger, shown.rows_inserted, shown.rows_deleted, shown.rows_updated],
      [last.refresh_action, last.refresh_trigger, last.rows_inserted, last.rows_deleted, last.rows_updated], 'new refresh');
    const cells = await page.$$eval('#history tbody tr:first-child td', tds => tds.map(td => td.textContent));
    check(cells[0] === String(last.refresh_id) && cells.includes('INCREMENTAL') && cells.includes('MANUAL'),
      `the first history row reads ${cells.join(' | ')}`);
    await page.screenshot({ path: join(screenshotDir, 'console-new-refresh.png'), fullPage: true });
  });

  const stateOf = name => sql(`SELECT to_json(scheduling_state) FROM dt.dynamic_tables WHERE relid = '${name}'::regclass`);
  const button = (action, name) => `button[data-action="${action}"][data-name="${name}"]`;

  await test('browser_console_buttons', async () => {
    const name = 'flakebench.dt_daily_cost_rollup';
    await open(page, base, '/console.html?name=' + name);
    await page.click(button('suspend', name));
    await page.waitForSelector(button('resume', name), { timeout: pageTimeout });
    same(stateOf(name), 'SUSPENDED', 'state after Suspend');
    check((await page.textContent('#action')).includes('suspend ' + name + ': done'), 'no confirmation of Suspend');
    await page.screenshot({ path: join(screenshotDir, 'console-suspended.png'), fullPage: true });
    await page.click(button('resume', name));
    await page.waitForSelector(button('suspend', name), { timeout: pageTimeout });
    same(stateOf(name), 'ACTIVE', 'state after Resume');
    const count = () => sql(`SELECT to_json(count(*)) FROM dt.refresh_history
                              WHERE relid = '${name}'::regclass AND refresh_trigger = 'MANUAL'`);
    const manual = count();
    await page.click(button('refresh', name));
    await page.waitForFunction(() => document.getElementById('action').textContent.startsWith('refresh '), null, { timeout: pageTimeout });
    same(count(), manual + 1, 'manual refreshes after Refresh now');
    const action = sql(`SELECT to_json(refresh_action) FROM dt.refresh_history WHERE relid = '${name}'::regclass
                         ORDER BY refresh_id DESC LIMIT 1`);
    const said = await page.textContent('#action');
    check(said.includes('(' + action + ','), `the console says "${said}", the history ${action}`);
  });

  await test('browser_console_refused', async () => {
    // A role that may read but does not own the tables: PostgreSQL refuses
    // its suspend, and the console shows PostgreSQL's words.
    run(`DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dt_dashboard_viewer') THEN
           CREATE ROLE dt_dashboard_viewer LOGIN; END IF; END$$`);
    run('GRANT USAGE ON SCHEMA flakebench TO dt_dashboard_viewer');
    run('GRANT SELECT ON ALL TABLES IN SCHEMA flakebench TO dt_dashboard_viewer');
    const viewer = await startDashboard(conninfo + ' user=dt_dashboard_viewer');
    const name = 'flakebench.dt_template_statistics';
    const refusal = errorOf('dt_dashboard_viewer', `SELECT dt.suspend('${name}')`);
    await open(page, viewer, '/console.html?name=' + name);
    await page.click(button('suspend', name));
    await page.waitForFunction(() => document.getElementById('action').className.includes('error'), null, { timeout: pageTimeout });
    const message = await page.textContent('#action');
    check(message.includes(refusal), `the console says "${message}", PostgreSQL "${refusal}"`);
    same(stateOf(name), 'ACTIVE', 'state after a refused Suspend');
    await page.screenshot({ path: join(screenshotDir, 'console-refused.png'), fullPage: true });
  });

  await test('browser_metrics', async () => {
    const response = await fetch(base + '/metrics');
    check(response.headers.get('content-type').startsWith('text/plain; version=0.0.4'), 'content type');
    const samples = parseExposition(await response.text());
    const value = (metric, labels) => {
      const s = samples.filter(x => x.name === metric && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      check(s.length === 1, `${s.length} samples of ${metric} ${JSON.stringify(labels)}`);
      return s[0].value;
    };
    const tables = rows(`SELECT format('%I.%I', schema_name, table_name) AS id, extract(epoch FROM target_lag::interval) AS target,
                                consecutive_failures, scheduling_state, extract(epoch FROM data_timestamp) AS ts
                           FROM dt.dynamic_tables`);
    for (const t of tables) {
      close([value('dt_target_lag_seconds', { name: t.id })], [t.target], 'target lag', 0);
      close([value('dt_consecutive_failures', { name: t.id })], [t.consecutive_failures], 'failures', 0);
      close([value('dt_scheduling_state', { name: t.id, state: t.scheduling_state })], [1], 'state', 0);
      const lag = value('dt_current_lag_seconds', { name: t.id });
      const now = Date.now() / 1000;
      check(lag >= 0 && Math.abs(now - t.ts - lag) < 30, `lag ${lag} of ${t.id}, data timestamp ${t.ts}`);
    }
    const history = rows(`SELECT format('%I.%I', n.nspname, c.relname) AS id, coalesce(refresh_action, 'NONE') AS action, state,
                                 count(*) AS n, sum(rows_inserted) AS ins, sum(extract(epoch FROM duration)) AS secs
                            FROM dt.refresh_history h JOIN pg_class c ON c.oid = h.relid
                            JOIN pg_namespace n ON n.oid = c.relnamespace GROUP BY 1, 2, 3`);
    check(history.length > 0, 'no refresh history');
    for (const h of history) {
      const labels = { name: h.id, action: h.action, state: h.state };
      close([value('dt_refreshes', labels)], [h.n], `refreshes ${JSON.stringify(labels)}`, 0);
      close([value('dt_refresh_rows', { ...labels, change: 'inserted' })], [h.ins], 'rows inserted', 0);
      close([value('dt_refresh_duration_seconds', labels)], [h.secs], 'duration', 1e-9);
    }
    check(samples.filter(s => s.name === 'dt_refreshes').length === history.length, 'extra dt_refreshes samples');
  });

  await test('browser_api_rejects_bad_requests', async () => {
    const bad = [
      ['GET', '/api/table-types?table_type=%27%3B%20DROP%20TABLE%20x%3B--', 400],
      ['GET', '/api/table-types?nope=1', 400],
      ['GET', '/api/table-types?table_type=A&table_type=B', 400],
      ['GET', '/api/templates?source=elsewhere', 400],
      ['GET', '/api/daily-cost?days=0', 400], ['GET', '/api/daily-cost?days=1e3', 400],
      ['GET', '/api/daily-cost?days=99999999999999999999', 400], ['GET', '/api/daily-cost?days=-5', 400],
      ['GET', '/api/template-runs', 400], ['GET', '/api/template-runs?template_id=' + 'x'.repeat(5000), 400],
      ['GET', '/api/template-runs?template_id=tpl-001&limit=1001', 400],
      ['GET', '/api/dynamic-tables/history?name=%ff%fe', 400],
      ['GET', '/api/dynamic-tables/history?name=a%00b', 404],
      ['GET', '/api/dynamic-tables/lag?name=no.such_table', 404],
      ['POST', '/api/dynamic-tables/suspend?name=flakebench.dt_table_type_summary', 403],
      ['GET', '/api/dynamic-tables/suspend?name=flakebench.dt_table_type_summary', 405],
      ['DELETE', '/api/table-types', 405], ['POST', '/index.html', 405],
      ['GET', '/api/nothing-here', 404], ['GET', '/../../etc/passwd', 404], ['GET', '/%2e%2e/Makefile', 404],
    ];
    for (let i = 0; i < 200; i++) {
      const bytes = Array.from({ length: 1 + (i * 7919) % 300 }, (_, j) => '%' + ((i * 31 + j * 17) % 256).toString(16).padStart(2, '0')).join('');
      bad.push(['GET', '/api/templates?template_id=' + bytes, 0]);
      bad.push(['GET', '/api/dynamic-tables/history?name=' + bytes, 0]);
    }
    // Status 0: random bytes, which may happen to be a valid name (200
    // with an empty answer) or not (400, or 404 for a name no table has).
    for (const [method, path, status] of bad) {
      const r = await fetch(base + path, { method });
      const body = await r.json().catch(() => null);
      check(body !== null && (r.status === 200 || typeof body.error === 'string'),
        `${method} ${path.slice(0, 80)}: no JSON answer (${r.status})`);
      check(status === 0 ? [200, 400, 404].includes(r.status) : r.status === status,
        `${method} ${path.slice(0, 80)}: ${r.status}, expected ${status || '200, 400 or 404'}: ${body.error}`);
    }
    const withBody = await fetch(base + '/api/table-types', { method: 'POST', body: 'x'.repeat(100000) });
    check(withBody.status === 400 || withBody.status === 405, `a request body gave ${withBody.status}`);
    const good = await fetch(base + '/api/table-types');
    check(good.status === 200, 'the server no longer answers');
  });
} finally {
  await context.close();
  for (const s of servers) s.kill('SIGTERM');
  rmSync(userDataDir, { recursive: true, force: true });
}

// parseExposition(text): the samples of a Prometheus text exposition,
// checking its syntax: every family has HELP and TYPE before its samples,
// names and labels are well formed, values are numbers.
function parseExposition(text) {
  check(text.endsWith('\n'), 'the exposition does not end with a newline');
  const samples = [];
  const help = new Set(), type = new Set();
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line))) { help.add(m[1]); continue; }
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      check(help.has(m[1]) && !type.has(m[1]), `TYPE of ${m[1]} without HELP, or twice`);
      type.add(m[1]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    check(m, `not an exposition line: ${line}`);
    check(type.has(m[1]), `sample of ${m[1]} before its TYPE`);
    const labels = {};
    const labelText = m[2] || '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
    let l;
    while (re.lastIndex < labelText.length && (l = re.exec(labelText))) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    check(re.lastIndex === labelText.length, `bad labels in ${line}`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    check(m[3] === 'NaN' || !Number.isNaN(value), `bad value in ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

process.exit(results.every(Boolean) ? 0 : 1);
