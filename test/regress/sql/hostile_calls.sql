-- Hostile calls: every function of the extension an ordinary role can
-- reach, called by one (regress_dt_hostile, who owns a table, dynamic
-- tables over it and so their internal state) with wrong types, NULLs,
-- absurd values, from the wrong place, and on another role's objects.  Each
-- call is listed with its outcome: the SQLSTATE and message of its error,
-- or "ok:" and the first value it returned (dt_test.outcome of
-- test/helpers.sql).  None may crash the server: before 1.1 the first
-- read_changes call of each list below killed it with a segmentation
-- fault.  Errors name no internal OID (masked as <oid> where they would).
--
-- The calls run in two places: directly (a list of statements), and inside
-- the refresh of a dynamic table of hers whose query calls them (through
-- a STABLE function), which is where dt_internal.read_changes is meant to
-- run and so where it checks its arguments.

CREATE ROLE regress_dt_hostile;
CREATE ROLE regress_dt_victim;
CREATE SCHEMA dt_hostile;
GRANT USAGE, CREATE ON SCHEMA dt_hostile TO regress_dt_hostile, regress_dt_victim;
GRANT USAGE ON SCHEMA dt_test TO regress_dt_hostile;
SET search_path = dt_hostile, public;

-- The victim's table and dynamic table; she may read column k of the
-- table (captured) and the dynamic table.
SET ROLE regress_dt_victim;
CREATE TABLE victim_t (id int PRIMARY KEY, k text, v int);
INSERT INTO victim_t SELECT g, 'k' || g % 3, g FROM generate_series(1, 10) g;
SELECT dt.create_dynamic_table('victim_dt', 'SELECT k, count(*) AS n, sum(v) AS s FROM victim_t GROUP BY k');
GRANT SELECT (k) ON victim_t TO regress_dt_hostile;
GRANT SELECT ON victim_dt TO regress_dt_hostile;
RESET ROLE;

-- Hers: mine (column 4 dropped), a dynamic table over v and t (columns 2
-- and 3 of mine), changes waiting in the log.
SET ROLE regress_dt_hostile;
CREATE TABLE mine (id int PRIMARY KEY, v int, t text, gone int);
ALTER TABLE mine DROP COLUMN gone;
INSERT INTO mine VALUES (1, 1, 'a'), (2, 2, 'b');
SELECT dt.create_dynamic_table('mine_dt', 'SELECT t, count(*) AS n, sum(v) AS s FROM mine GROUP BY t',
                               refresh_mode => 'incremental');
UPDATE mine SET v = v + 1;
-- a table to make a dynamic table of with a dt_guard trigger
CREATE TABLE guarded (gid bigint, n bigint);
RESET ROLE;
SELECT 'dt_internal.state_' || 'mine_dt'::regclass::oid AS mine_state,
       'dt_internal.key_' || 'mine_dt'::regclass::oid AS mine_key,
       'dt_internal.final_' || 'mine_dt'::regclass::oid AS mine_final,
       'dt_internal.changes_' || 'mine'::regclass::oid AS mine_log,
       'dt_internal.key_' || 'victim_dt'::regclass::oid AS victim_key \gset

-- ---------------------------------------------------------------------
-- Called directly.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_hostile;
CREATE TABLE calls (n serial, area text, call text);
INSERT INTO calls (area, call) VALUES
-- dt_internal.read_changes: only the refresh of a dynamic table reading
-- the table may call it; the issue's crash first.
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('mine', '1:1:', '0'::xid8, 0, '{2}') AS r(a text, b text, c text, d text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('mine', pg_current_snapshot(), '0', 0, '{2}') AS r(s smallint, v int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('victim_t', pg_current_snapshot(), '0', 0, '{2}') AS r(s smallint, k text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('pg_class', pg_current_snapshot(), '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes(99999999, pg_current_snapshot(), '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes(NULL, NULL, NULL, NULL, NULL) AS r(s smallint)$c$),
('read_changes', $c$SELECT dt_internal.read_changes('mine', pg_current_snapshot(), '0', 0, '{}')$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('mine', pg_current_snapshot(), '0', 0, '{}')$c$),
-- the fsum functions, on arrays made by hand
('fsum_add', $c$SELECT dt_internal.fsum_add('{1}', '{2}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{}', '{}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add(NULL, '{1}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{1,NULL}', '{}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{}', '{NULL}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{NaN}', '{}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{1}', '{Infinity}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{-Infinity}', '{1}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{{1,2},{3,4}}', '{}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{}', '{{{1}}}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('[5:6]={1,2}', '{}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add(array_fill(1::float8, ARRAY[48]), '{}') IS NOT NULL$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add(array_fill(1::float8, ARRAY[49]), '{}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{}', array_fill(0::float8, ARRAY[10000000]))$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add(array_fill(1e308::float8, ARRAY[2]), '{1e308}')$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add(ARRAY(SELECT (2 ^ (g * 40))::float8 FROM generate_series(-24, 23) g),
                                             ARRAY(SELECT (3 * 2 ^ (g * 40))::float8 FROM generate_series(-24, 23) g)) IS NOT NULL$c$),
('fsum_add', $c$SELECT dt_internal.fsum_add('{4.9e-324}', '{-4.9e-324}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8('{}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8('{1e-20,1}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8('{1e308,1e308}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8('{NaN}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8('{NULL}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8('{{1}}')$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8(NULL)$c$),
('fsum_float8', $c$SELECT dt_internal.fsum_float8(array_fill(1::float8, ARRAY[1000]))$c$),
('fsum_numeric', $c$SELECT dt_internal.fsum_numeric('{0.5,0.25}')$c$),
('fsum_numeric', $c$SELECT length(dt_internal.fsum_numeric('{4.9e-324}')::text)$c$),
('fsum_numeric', $c$SELECT dt_internal.fsum_numeric('{-Infinity}')$c$),
('fsum_numeric', $c$SELECT dt_internal.fsum_numeric('{1,NULL}')$c$),
('fsum_numeric', $c$SELECT dt_internal.fsum_numeric('{{1},{2}}')$c$),
('fsum_numeric', $c$SELECT length(dt_internal.fsum_numeric('{1.7976931348623157e308}')::text)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(3, '{6}', '{14}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(3, '{6}', '{12}', false)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(1, '{2}', '{4}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(0, '{}', '{}', false)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(-9223372036854775808, '{1}', '{1}', false)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(9223372036854775807, '{1}', '{1}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(2, '{1e308}', '{1.7976931348623157e308}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(2, '{0}', '{1.7e308,1e308}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(2, '{1,NULL}', '{1}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(2, '{1}', '{{1},{2}}', true)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(2, '{1}', '{NaN}', false)$c$),
('fsum_variance', $c$SELECT dt_internal.fsum_variance(2, NULL, '{1}', false)$c$),
('fsum', $c$SELECT dt_internal.fsum(x, 1::int2) FROM (VALUES (1.5::float8), (NULL), (2.25)) v(x)$c$),
('fsum', $c$SELECT dt_internal.fsum(x, s) FROM (VALUES (1.5::float8, 1::int2), (1.5, NULL), (2.25, -1::int2)) v(x, s)$c$),
('fsum', $c$SELECT dt_internal.fsum(x, 1::int2) FROM (VALUES ('NaN'::float8)) v(x)$c$),
('fsum', $c$SELECT dt_internal.fsum(x, 1::int2) FROM (VALUES ('-Infinity'::float8)) v(x)$c$),
('fsum', $c$SELECT dt_internal.fsum(1e308, 32767::int2)$c$),
('fsum', $c$SELECT dt_internal.fsum(x, 1::int2) FROM (VALUES (1e308::float8), (1e308)) v(x)$c$),
('fsum', $c$SELECT string_agg(s::text, ' ') FROM (SELECT dt_internal.fsum(x, 1::int2) OVER (ORDER BY x) AS s FROM (VALUES (1::float8), (2), (3)) v(x)) w$c$),
('fsum', $c$SELECT dt_internal.fsum(x, 1::int2) FROM (VALUES (1::float8)) v(x) WHERE false$c$),
('fsum_sq', $c$SELECT dt_internal.fsum_sq(x, 1::int2) FROM (VALUES (3::float8), (4)) v(x)$c$),
('fsum_sq', $c$SELECT dt_internal.fsum_sq(1e200, 1::int2)$c$),
('fsum_sq', $c$SELECT dt_internal.fsum_sq('Infinity', -1::int2)$c$),
('fsum_accum', $c$SELECT dt_internal.fsum_accum(NULL::internal, 1, 1::int2)$c$),
('fsum_final', $c$SELECT dt_internal.fsum_final(NULL)$c$),
('fsum_accum', $c$CREATE AGGREGATE dt_hostile.evil(float8, int2) (SFUNC = dt_internal.fsum_accum, STYPE = internal, FINALFUNC = numeric_avg)$c$),
-- query_definition: what view dt.dynamic_tables shows
('query_definition', $c$SELECT dt_internal.query_definition(0)$c$),
('query_definition', $c$SELECT dt_internal.query_definition(NULL)$c$),
('query_definition', $c$SELECT dt_internal.query_definition('pg_class'::regclass)$c$),
('query_definition', $c$SELECT dt_internal.query_definition(4294967295)$c$),
('query_definition', $c$SELECT dt_internal.query_definition('victim_dt'::regclass) IS NOT NULL$c$),
-- what only the extension owner calls
('schedule_plan', $c$SELECT count(*) FROM dt_internal.schedule_plan(now())$c$),
('schedule_plan', $c$SELECT count(*) FROM dt_internal.schedule_plan('infinity')$c$),
('run_scheduled_refreshes', $c$SELECT dt_internal.run_scheduled_refreshes(now())$c$),
('run_scheduled_refreshes', $c$SELECT dt_internal.run_scheduled_refreshes('-infinity')$c$),
('check_preloaded', $c$SELECT dt_internal.check_preloaded()$c$),
-- trigger and event trigger functions: called directly, or attached by
-- her to her own table
('capture_changes', $c$SELECT dt_internal.capture_changes()$c$),
('capture_changes', $c$CREATE TRIGGER t AFTER INSERT ON mine REFERENCING NEW TABLE AS n FOR EACH STATEMENT
                       EXECUTE FUNCTION dt_internal.capture_changes('1', '2')$c$),
('capture_changes', $c$CREATE TRIGGER t BEFORE INSERT ON mine FOR EACH ROW EXECUTE FUNCTION dt_internal.capture_changes()$c$),
('guard_dynamic_table', $c$SELECT dt_internal.guard_dynamic_table()$c$),
('guard_dynamic_table', $c$CREATE TRIGGER t BEFORE DELETE ON mine FOR EACH ROW EXECUTE FUNCTION dt_internal.guard_dynamic_table()$c$),
('on_sql_drop', $c$SELECT dt_internal.on_sql_drop()$c$),
('on_sql_drop', $c$CREATE EVENT TRIGGER t ON sql_drop EXECUTE FUNCTION dt_internal.on_sql_drop()$c$),
-- dt.create_dynamic_table: names
('create: name', $c$SELECT dt.create_dynamic_table(NULL, 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('a.b.c.d', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('otherdb.public.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('pg_catalog.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('pg_toast.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('information_schema.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('dt.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('dt_internal.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('dt_internal.changes_1', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('pg_temp.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('pg_temp_99.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('public.x', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('victim_dt', 'SELECT 1 AS x')$c$),
('create: name', $c$SELECT dt.create_dynamic_table('"x; DROP TABLE mine"', 'SELECT 1 AS x')::text$c$),
('create: name', $c$SELECT length(dt.create_dynamic_table(repeat('n', 100), 'SELECT 1 AS x')::text)$c$),
-- dt.create_dynamic_table: queries
('create: query', $c$SELECT dt.create_dynamic_table('q', NULL)$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', '')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', ';')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x; DROP TABLE mine')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'DROP TABLE mine')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'VACUUM mine')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'COPY (SELECT 1) TO STDOUT')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'DECLARE c CURSOR FOR SELECT 1')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'EXPLAIN ANALYZE DELETE FROM mine')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'CALL no_such_procedure()')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT * INTO q2 FROM mine')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'WITH d AS (DELETE FROM mine RETURNING *) SELECT * FROM d')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT * FROM mine FOR UPDATE')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT $1 AS x')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT pg_sleep(10) AS x')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT dt.refresh(''mine_dt'') AS x')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT * FROM dt_internal.read_changes(''mine'', pg_current_snapshot(), ''0'', 0, ''{}'') AS r(s smallint)')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT * FROM dt_internal.dynamic_table')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT * FROM dt_internal.refresh_log')$c$),
('create: query', format('SELECT dt.create_dynamic_table(%L, %L)', 'q', 'SELECT * FROM ' || :'mine_log')),
('create: query', format('SELECT dt.create_dynamic_table(%L, %L)', 'q', 'SELECT gid, n FROM ' || :'mine_state')),
('create: query', format('SELECT dt.create_dynamic_table(%L, %L)', 'q', 'SELECT * FROM ' || :'mine_final')),
('create: query', format('SELECT dt.create_dynamic_table(%L, %L)', 'q', 'SELECT t FROM mine WHERE v IN (SELECT n FROM ' || :'mine_state' || ')')),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT * FROM pg_authid')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT id, v FROM victim_t')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS a, 2 AS a')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT ROW(1, 2) AS r')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q_ctid', 'SELECT ctid AS c, t FROM mine')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q_cat', 'SELECT relname FROM pg_class WHERE relname = ''mine''')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT v FROM q')$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT ' || (SELECT string_agg('1 AS c' || g, ', ') FROM generate_series(1, 1700) g))$c$),
('create: query', $c$SELECT dt.create_dynamic_table('q', 'SELECT dt_internal.fsum_float8(ARRAY[v::float8, ''NaN'']) AS x FROM mine')$c$),
-- dt.create_dynamic_table: the other arguments
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => NULL)$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => '0 seconds')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => '-5 minutes')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => '1 month -30 days')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => '100 years 1 second')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => '2147483647 days')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => '100000000 years')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => 'infinity')$c$),
('create: target_lag', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', target_lag => 'downstream; DROP TABLE mine')$c$),
('create: refresh_mode', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', refresh_mode => NULL)$c$),
('create: refresh_mode', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', refresh_mode => 'incremental ')$c$),
('create: refresh_mode', $c$SELECT dt.create_dynamic_table('q', 'SELECT xmin AS x, t FROM mine', refresh_mode => 'incremental')$c$),
('create: initialize', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', initialize => NULL)$c$),
('create: initialize', $c$SELECT dt.create_dynamic_table('q', 'SELECT 1 AS x', initialize => 'on_create; DROP TABLE mine')$c$),
-- dt.refresh, dt.build_state, dt.alter_dynamic_table, dt.suspend, dt.resume,
-- dt.drop_dynamic_table: NULLs, what is not a dynamic table, what is not hers
('refresh', $c$SELECT action FROM dt.refresh(NULL)$c$),
('refresh', $c$SELECT action FROM dt.refresh(0)$c$),
('refresh', $c$SELECT action FROM dt.refresh('pg_class')$c$),
('refresh', $c$SELECT action FROM dt.refresh('mine')$c$),
('refresh', $c$SELECT action FROM dt.refresh('victim_dt')$c$),
('refresh', $c$SELECT action FROM dt.refresh('mine_dt')$c$),
('build_state', $c$SELECT dt.build_state(NULL)$c$),
('build_state', $c$SELECT dt.build_state(0)$c$),
('build_state', $c$SELECT dt.build_state('pg_class')$c$),
('build_state', $c$SELECT dt.build_state('mine')$c$),
('build_state', $c$SELECT dt.build_state('victim_dt')$c$),
('build_state', $c$SELECT dt.build_state('mine_dt')$c$),
('alter', $c$SELECT dt.alter_dynamic_table(NULL, '1 hour')$c$),
('alter', $c$SELECT dt.alter_dynamic_table('victim_dt', 'downstream')$c$),
('alter', $c$SELECT dt.alter_dynamic_table('mine', '1 hour')$c$),
('alter', $c$SELECT dt.alter_dynamic_table('mine_dt', '0.05 second')$c$),
('alter', $c$SELECT dt.alter_dynamic_table('mine_dt', '101 years')$c$),
('alter', $c$SELECT dt.alter_dynamic_table('mine_dt', NULL)$c$),
('alter', $c$SELECT dt.alter_dynamic_table('mine_dt', '1 month -29 days')$c$),
('suspend', $c$SELECT dt.suspend(NULL)$c$),
('suspend', $c$SELECT dt.suspend('victim_dt')$c$),
('suspend', $c$SELECT dt.suspend('pg_class')$c$),
('resume', $c$SELECT dt.resume('victim_dt')$c$),
('resume', $c$SELECT dt.resume(99999999)$c$),
('drop', $c$SELECT dt.drop_dynamic_table(NULL)$c$),
('drop', $c$SELECT dt.drop_dynamic_table('victim_dt')$c$),
('drop', $c$SELECT dt.drop_dynamic_table('pg_class')$c$),
('drop', $c$SELECT dt.drop_dynamic_table('mine')$c$),
-- what the extension keeps: the catalog, the change logs, the views
('catalog', $c$SELECT count(*) FROM dt_internal.dynamic_table$c$),
('catalog', $c$UPDATE dt_internal.dynamic_table SET query_tree = '{}'$c$),
('catalog', $c$DELETE FROM dt_internal.refresh_log$c$),
('catalog', format('SELECT count(*) FROM %s', :'mine_log')),
('catalog', format('INSERT INTO %s VALUES (''1'', 0, 1)', :'mine_log')),
('catalog', $c$SELECT count(*) >= 2 FROM dt.dynamic_tables$c$),
('catalog', $c$DELETE FROM victim_dt$c$),
('catalog', $c$ALTER TABLE mine_dt SET UNLOGGED$c$),
-- her internal objects (state_<oid>, key_<oid>, final_<oid>): she owns
-- them, but may not rename, index, extend or drop them
('internal', format('ALTER TABLE %s RENAME TO changes_1', :'mine_state')),
('internal', format('CREATE INDEX changes_1 ON %s (gid)', :'mine_state')),
('internal', format('ALTER TABLE %s ADD COLUMN z int GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME dt_internal.changes_1)', :'mine_state')),
('internal', format('ALTER TABLE %s ADD CONSTRAINT changes_1 UNIQUE (gid)', :'mine_state')),
('internal', format('CREATE TRIGGER t BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()', :'mine_state')),
('internal', format('CREATE RULE r AS ON INSERT TO %s DO INSTEAD NOTHING', :'mine_state')),
('internal', format('CREATE POLICY p ON %s USING (false)', :'mine_state')),
('internal', format('ALTER TABLE %s SET SCHEMA dt_hostile', :'mine_state')),
('internal', format('ALTER TABLE %s OWNER TO regress_dt_victim', :'mine_state')),
('internal', format('DROP TABLE %s', :'mine_state')),
('internal', format('ALTER VIEW %s RENAME TO changes_1', :'mine_final')),
('internal', format('ALTER TYPE %s RENAME TO changes_1', :'mine_key')),
('internal', format('ALTER TYPE %s ADD ATTRIBUTE z int', :'mine_key')),
('internal', format('DROP TYPE %s CASCADE', :'mine_key')),
-- the victim's: a column of her key type would keep her from dropping
-- her dynamic table
('internal', format('CREATE TABLE pin (k %s)', :'victim_key')),
('internal', format('CREATE TABLE pin (k %s[])', :'victim_key')),
('internal', format('CREATE FUNCTION pin(%s) RETURNS int LANGUAGE sql AS ''SELECT 1''', :'victim_key'));

SELECT n, area, dt_test.mask_oids(call) AS call, dt_test.outcome(call) AS outcome FROM calls ORDER BY n;
-- A dynamic table over her state made by a dt_guard trigger, as a
-- restore makes one (CREATE TRIGGER takes only the TRIGGER privilege).
SELECT * FROM dt_test.fails(format($f$CREATE TRIGGER dt_guard BEFORE INSERT ON guarded
    FOR EACH STATEMENT EXECUTE FUNCTION dt_internal.guard_dynamic_table('pg_dynamic_tables 1.1', %L,
    '1 minute', 'AUTO', 'on_schedule', 'ACTIVE', '')$f$, 'SELECT gid, n FROM ' || :'mine_state'));
SELECT count(*) AS guarded_is_dynamic FROM dt.dynamic_tables WHERE relid = 'guarded'::regclass;
RESET ROLE;
SELECT count(*) >= 100 AS at_least_100_calls FROM calls;

-- Nothing she tried made or renamed anything in dt_internal; of the
-- dynamic tables made above, one reads a system column, one a system
-- catalog (on which nobody but a superuser may install triggers): both
-- are refreshed in full.
SELECT count(*) AS spoofed_logs FROM pg_class
 WHERE relnamespace = 'dt_internal'::regnamespace AND relname ~ '^changes_1$';
SELECT relname FROM pg_class WHERE relname IN ('x; DROP TABLE mine', 'q', 'q2', 'evil', 'pin') ORDER BY 1;
SELECT to_regclass('dt_hostile.mine') AS mine;
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE relid IN ('q_ctid'::regclass, 'q_cat'::regclass) ORDER BY relid::text;

-- ---------------------------------------------------------------------
-- Called inside the refresh of a dynamic table of hers (probe) whose query
-- reads mine and victim_t and calls each of them through a STABLE
-- function: dt_internal.read_changes runs, and checks its arguments (the
-- first call crashed the server before 1.1); the functions of schema dt
-- refuse to run inside a refresh.  (A refresh runs with search_path =
-- pg_catalog: names are qualified.)
-- ---------------------------------------------------------------------
SET ROLE regress_dt_hostile;
CREATE TABLE refresh_calls (n serial, area text, call text);
INSERT INTO refresh_calls (area, call) VALUES
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0'::xid8, 0, '{2}') AS r(a text, b text, c text, d text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{2}') AS r(s smallint, v int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{2,3}') AS r(s smallint, v int, t text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{2}') AS r(s smallint, v text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{2}') AS r(s int, v int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{2}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{}') AS r(s smallint, v int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{3,2}') AS r(s smallint, v int, t text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{1}') AS r(s smallint, id int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{0}') AS r(s smallint, x int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{-1}') AS r(s smallint, x tid)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{-32768}') AS r(s smallint, x int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{4}') AS r(s smallint, x int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{32767}') AS r(s smallint, x int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{2,2}') AS r(s smallint, a int, b int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, '{{2},{3}}') AS r(s smallint, a int, b text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, ARRAY[2, NULL]::int2[]) AS r(s smallint, a int, b int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', 0, NULL) AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', NULL, '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '0', -1, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '4000000000:4000000000:', '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', '1:1:', '4000000000', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.mine', pg_current_snapshot(), pg_current_xact_id(), 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.victim_t', '1:1:', '0', 0, '{2}') AS r(s smallint, k text)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.victim_t', '1:1:', '0', 0, '{3}') AS r(s smallint, v int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.victim_t', '1:1:', '0', 0, '{1}') AS r(s smallint, id int)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.victim_dt', '1:1:', '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('dt_hostile.refresh_calls', '1:1:', '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes('pg_class', '1:1:', '0', 0, '{}') AS r(s smallint)$c$),
('read_changes', $c$SELECT count(*) FROM dt_internal.read_changes(99999999, '1:1:', '0', 0, '{}') AS r(s smallint)$c$),
('in a refresh', $c$SELECT dt.refresh('dt_hostile.mine_dt')$c$),
('in a refresh', $c$SELECT dt.refresh('dt_hostile.probe')$c$),
('in a refresh', $c$SELECT dt.create_dynamic_table('nested', 'SELECT 1 AS x')$c$),
('in a refresh', $c$SELECT dt.drop_dynamic_table('dt_hostile.mine_dt')$c$),
('in a refresh', $c$SELECT dt.alter_dynamic_table('dt_hostile.mine_dt', '1 hour')$c$),
('in a refresh', $c$SELECT dt.suspend('dt_hostile.mine_dt')$c$),
('in a refresh', $c$SELECT dt.build_state('dt_hostile.mine_dt')$c$),
('in a refresh', $c$SELECT dt.resume('dt_hostile.mine_dt')$c$);
-- changes waiting: an updated row, a deleted and re-inserted row of mine
UPDATE mine SET v = v + 1 WHERE id = 1;
DELETE FROM mine WHERE id = 2;
INSERT INTO mine VALUES (2, 2, 'b');
CREATE FUNCTION in_refresh(call text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN dt_test.outcome(call);
END
$$;
SELECT dt.create_dynamic_table('probe', $$
    SELECT c.n, dt_hostile.in_refresh(c.call) AS outcome
      FROM dt_hostile.refresh_calls c
      LEFT JOIN dt_hostile.mine m ON false
      LEFT JOIN (SELECT k FROM dt_hostile.victim_t) v ON false$$);
SELECT n, c.area, c.call, p.outcome FROM probe p JOIN refresh_calls c USING (n) ORDER BY n;
RESET ROLE;
SELECT count(*) AS calls_in_a_refresh FROM refresh_calls;

-- Nothing changed under the refresh: mine_dt is still hers, active, with
-- its lag, and right once refreshed; the dynamic table the nested call
-- tried to create does not exist.
SELECT name, target_lag, scheduling_state FROM dt.dynamic_tables WHERE relid = 'mine_dt'::regclass;
SELECT to_regclass('dt_hostile.nested') AS nested;
SELECT action FROM dt.refresh('mine_dt');
SELECT dt_test.check('mine_dt');

-- ---------------------------------------------------------------------
-- A transaction snapshot: creation and refresh refuse it.
-- ---------------------------------------------------------------------
SET ROLE regress_dt_hostile;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM dt_test.fails($$SELECT dt.refresh('mine_dt')$$);
SELECT * FROM dt_test.fails($$SELECT dt.create_dynamic_table('rr', 'SELECT 1 AS x')$$);
COMMIT;
RESET ROLE;

-- ---------------------------------------------------------------------
-- A superuser's mistakes: the trigger functions attached by hand are
-- refused at CREATE TRIGGER (the capture triggers are the extension's
-- internal triggers; dt_guard only with a dynamic table's definition, as
-- pg_dump writes it); nothing reaches the log of mine.  (The capture
-- function checks its arguments at every call as well, in case a trigger
-- reached the catalog another way.)
-- ---------------------------------------------------------------------
SELECT count(*) AS mine_log_rows FROM :mine_log \gset
CREATE TABLE su_t (id int);
SELECT 'su_t'::regclass::oid AS su_t_oid, :'mine_log'::regclass::oid AS mine_log_oid,
       'mine'::regclass::oid AS mine_oid \gset
SELECT * FROM dt_test.fails($$CREATE TRIGGER bad_log AFTER INSERT ON su_t REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION dt_internal.capture_changes('99999999', '1')$$);
SELECT * FROM dt_test.fails(format($$CREATE TRIGGER not_a_log AFTER INSERT ON su_t REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION dt_internal.capture_changes(%L, %L)$$, :'su_t_oid', :'su_t_oid'));
SELECT * FROM dt_test.fails(format($$CREATE TRIGGER other_log AFTER INSERT ON su_t REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION dt_internal.capture_changes(%L, %L)$$, :'mine_log_oid', :'mine_oid'));
SELECT * FROM dt_test.fails($$CREATE TRIGGER per_row AFTER INSERT ON su_t FOR EACH ROW
    EXECUTE FUNCTION dt_internal.capture_changes('1', '2')$$);
SELECT * FROM dt_test.fails($$CREATE TRIGGER guard_rows BEFORE INSERT ON su_t FOR EACH ROW
    EXECUTE FUNCTION dt_internal.guard_dynamic_table()$$);
SELECT * FROM dt_test.fails($$CREATE TRIGGER dt_guard BEFORE INSERT ON su_t FOR EACH STATEMENT
    EXECUTE FUNCTION dt_internal.guard_dynamic_table('pg_dynamic_tables 1.1', 'SELECT 1')$$);
SELECT count(*) AS su_t_triggers FROM pg_trigger WHERE tgrelid = 'su_t'::regclass;
INSERT INTO su_t VALUES (1);
SELECT count(*) = :mine_log_rows AS nothing_written_to_the_log_of_mine FROM :mine_log;

-- ---------------------------------------------------------------------
-- Cleanup.
-- ---------------------------------------------------------------------
SET client_min_messages = warning;
DROP SCHEMA dt_hostile CASCADE;
RESET client_min_messages;
REVOKE USAGE ON SCHEMA dt_test FROM regress_dt_hostile;
DROP ROLE regress_dt_hostile;
DROP ROLE regress_dt_victim;
