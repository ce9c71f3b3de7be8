-- Net changes (src/deparse.c, net_changes_sql): a change log holds the
-- columns every dynamic table over its table reads, so an UPDATE of a
-- column one table reads is, for another that does not read it, the same
-- row deleted and inserted.  A refresh leaves out the rows of a value
-- whose signs sum to 0, where equal values are identical: such an update
-- touches no group and rewrites no row, and a window of nothing else is
-- NO_DATA.  Where equal values can differ
-- (numeric 1.0 and 1.00, bpchar without a length 'a' and 'a '), nothing
-- is left out; char(n) pads every value to its length, so its equal
-- values are identical (PostgreSQL 15.20 no longer says so for B-tree
-- deduplication, which also sees bpchar without a length).

CREATE TABLE nc_t (id int PRIMARY KEY, g int, v numeric, cb bpchar, cn char(2), note text);
CREATE TABLE nc_u (id int PRIMARY KEY, name text, bal int);
INSERT INTO nc_t SELECT i, i % 4, (i % 3)::numeric(4, 1), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
                        CASE WHEN i % 3 = 0 THEN 'x' ELSE 'yz' END, 'n' || i
  FROM generate_series(1, 40) i;
INSERT INTO nc_u SELECT i, 'u' || i, i FROM generate_series(0, 3) i;

SELECT dt.create_dynamic_table('nc_groups', 'SELECT g, count(*) AS n, sum(id) AS s FROM nc_t GROUP BY g',
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nc_join', 'SELECT u.name, count(*) AS n FROM nc_t t JOIN nc_u u ON u.id = t.g GROUP BY u.name',
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nc_keys', 'SELECT g, note FROM nc_t WHERE id < 10',
                               refresh_mode => 'auto', initialize => 'on_create');
SELECT dt.create_dynamic_table('nc_numeric', 'SELECT v, count(*) AS n FROM nc_t GROUP BY v',
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nc_bpchar', 'SELECT cb, count(*) AS n FROM nc_t GROUP BY cb',
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nc_char', 'SELECT cn, count(*) AS n FROM nc_t GROUP BY cn',
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nc_balance', 'SELECT sum(bal) AS bal FROM nc_u',
                               refresh_mode => 'incremental', initialize => 'on_create');

-- Notes and balances change: for nc_groups and nc_join (which read
-- neither) and nc_numeric, nc_bpchar and nc_char, nothing changed; nc_keys
-- and nc_balance read them.
UPDATE nc_t SET note = note || 'x';
UPDATE nc_u SET bal = bal + 1;
-- what each refresh would do, and whether it leaves out the rows of
-- values that did not change (nc_groups and nc_join: nothing changed)
SELECT t AS name, max(e.object) FILTER (WHERE e.kind = 'action') AS action,
       coalesce(bool_or(e.detail LIKE '%dt$net%') FILTER (WHERE e.kind = 'statement'), false) AS nets_changes
  FROM unnest(ARRAY['nc_groups', 'nc_join', 'nc_keys', 'nc_numeric', 'nc_bpchar', 'nc_char', 'nc_balance']) t,
       dt.explain_refresh(t::regclass) e
 GROUP BY t ORDER BY t;
SELECT dt_test.check_all('nc\_%', true);
SELECT h.name, h.refresh_action, h.rows_inserted, h.rows_deleted, h.rows_updated
  FROM dt.refresh_history h
 WHERE h.refresh_id IN (SELECT max(refresh_id) FROM dt.refresh_history WHERE name LIKE 'public.nc\_%' GROUP BY name)
 ORDER BY h.name;

-- Equal but not identical values are changes; char(n)'s 'x' is 'x '.
UPDATE nc_t SET v = 1.00 WHERE v = 1.0;
UPDATE nc_t SET cb = 'a ' WHERE cb = 'a';
UPDATE nc_t SET cn = 'x ' WHERE cn = 'x';
SELECT dt_test.check_all('nc\_%', true);
SELECT h.name, h.refresh_action, h.rows_inserted, h.rows_deleted, h.rows_updated
  FROM dt.refresh_history h
 WHERE h.refresh_id IN (SELECT max(refresh_id) FROM dt.refresh_history WHERE name LIKE 'public.nc\_%' GROUP BY name)
   AND h.name IN ('public.nc_numeric', 'public.nc_bpchar', 'public.nc_char')
 ORDER BY h.name;

-- A row deleted and inserted again in another transaction, and a row
-- whose group moves and comes back: the table equals its query.
DELETE FROM nc_t WHERE id = 5;
INSERT INTO nc_t VALUES (5, 1, 2.0, 'b', 'yz', 'n5');
UPDATE nc_t SET g = 3 WHERE id = 6;
UPDATE nc_t SET g = 2 WHERE id = 6;
UPDATE nc_t SET g = 0 WHERE id = 7;
SELECT dt_test.check_all('nc\_%', true);

SELECT dt.drop_dynamic_table(t)
  FROM unnest(ARRAY['nc_groups', 'nc_join', 'nc_keys', 'nc_numeric', 'nc_bpchar', 'nc_char', 'nc_balance']) t;
DROP TABLE nc_t, nc_u;

-- A group key of delta merge shows the group's first value: after the
-- rows that printed so are deleted, the table shows a value equal to the
-- remaining rows' (the oracle's equality) but printed as none of them is,
-- where GROUP BY would print a remaining row's (README, Limitations).
-- A full refresh prints a remaining row's.
CREATE TABLE nc_shown (id int PRIMARY KEY, v numeric, f float8);
INSERT INTO nc_shown VALUES (1, 1.0, '-0'), (2, 1.00, 0);
SELECT dt.create_dynamic_table('nc_shown_v', 'SELECT v, count(*) AS n FROM nc_shown GROUP BY v',
                               refresh_mode => 'incremental');
SELECT dt.create_dynamic_table('nc_shown_f', 'SELECT f, count(*) AS n FROM nc_shown GROUP BY f',
                               refresh_mode => 'incremental');
DELETE FROM nc_shown WHERE id = 1;
SELECT dt_test.check_all('nc\_shown\_%', true);
SELECT (SELECT v::text FROM nc_shown_v) AS table_v, (SELECT v::text FROM nc_shown) AS query_v,
       (SELECT f::text FROM nc_shown_f) AS table_f, (SELECT f::text FROM nc_shown) AS query_f;
SELECT dt.alter_dynamic_table('nc_shown_v', refresh_mode => 'full');
SELECT v::text FROM nc_shown_v;
DROP TABLE nc_shown_v, nc_shown_f, nc_shown;

-- Net changes per reference (src/analysis.c, net_per_reference): a table
-- read through several references that read different columns (TPC-H
-- Q8's nation: n1 for its region, n2 for its name) has each reference's
-- window netted over that reference's own columns, the log read once: an
-- UPDATE of a column only n1 reads is, for n2, no change.
-- nr_q8 by delta merge (with a semi-join reading a third column), nr_keys
-- by affected-key recompute, nr_union by key over two branches of UNION
-- ALL.  Seeded rounds of writes, updates of each column that only one
-- reference reads among them, against the oracle.
CREATE TABLE nr_nation (id int PRIMARY KEY, region int, name text, pop int);
CREATE TABLE nr_sup (id int PRIMARY KEY, nation int, home int, bal int);
INSERT INTO nr_nation SELECT i, i % 3, 'n' || i, i FROM generate_series(0, 9) i;
INSERT INTO nr_sup SELECT i, i % 10, (i * 7) % 10, i FROM generate_series(1, 200) i;
SELECT dt.create_dynamic_table('nr_q8', $$
    SELECT n2.name, count(*) AS n, sum(s.bal) AS bal
      FROM nr_sup s, nr_nation n1, nr_nation n2
     WHERE n1.id = s.nation AND n2.id = s.home AND n1.region = 1
       AND EXISTS (SELECT FROM nr_nation x WHERE x.id = s.nation AND x.pop > 3)
     GROUP BY n2.name $$, refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nr_keys', $$
    SELECT s.id, n1.region, n2.name
      FROM nr_sup s JOIN nr_nation n1 ON n1.id = s.nation JOIN nr_nation n2 ON n2.id = s.home $$,
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nr_union', $$
    SELECT id, region AS v FROM nr_nation UNION ALL SELECT id, pop FROM nr_nation $$,
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT name, refresh_mode_reason FROM dt.dynamic_tables WHERE name LIKE 'public.nr\_%' ORDER BY name;

-- A nation moves to another region: the statement nets the window of
-- nr_nation once per column set of its references (id and region; id and
-- name; and for nr_q8 id and pop), in one WITH query.
UPDATE nr_nation SET region = 2 WHERE id = 4;
SELECT t AS name,
       array(SELECT m[1] FROM dt.explain_refresh(t::regclass) e,
                   regexp_matches(e.detail, 'OVER \(PARTITION BY ([^)]*)\)', 'g') m
              WHERE e.kind = 'statement') AS netted_over
  FROM unnest(ARRAY['nr_q8', 'nr_keys', 'nr_union']) t ORDER BY t;
SELECT dt_test.check_all('nr\_%', true);
-- nr_keys recomputed the rows of the suppliers in nation 4 (n1), not
-- those whose home is nation 4 (n2)
SELECT h.rows_deleted, h.rows_inserted,
       (SELECT count(*) FROM nr_sup WHERE nation = 4) AS n1_rows,
       (SELECT count(*) FROM nr_sup WHERE nation = 4 OR home = 4) AS n1_or_n2_rows
  FROM dt.refresh_history h
 WHERE h.refresh_id = (SELECT max(refresh_id) FROM dt.refresh_history WHERE name = 'public.nr_keys');

CREATE FUNCTION nr_round(r int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(r / 100.0);
    -- columns only one reference reads: region (n1), name (n2), pop (x)
    UPDATE nr_nation SET region = (region + 1 + floor(random() * 2)::int) % 3 WHERE id = floor(random() * 10)::int;
    UPDATE nr_nation SET name = 'n' || id || '.' || r WHERE id = floor(random() * 10)::int;
    UPDATE nr_nation SET pop = floor(random() * 8)::int WHERE random() < 0.3;
    -- a move there and back, and a nation deleted and inserted again
    UPDATE nr_nation SET region = region + 3 WHERE id = r % 10;
    UPDATE nr_nation SET region = region - 3 WHERE id = r % 10;
    DELETE FROM nr_nation WHERE id = (r * 3) % 10;
    INSERT INTO nr_nation VALUES ((r * 3) % 10, r % 3, 'm' || r, r % 8);
    UPDATE nr_sup SET home = floor(random() * 10)::int, bal = bal + 1 WHERE random() < 0.1;
    DELETE FROM nr_sup WHERE random() < 0.05;
    INSERT INTO nr_sup SELECT 1000 * r + i, floor(random() * 10)::int, floor(random() * 10)::int, i
      FROM generate_series(1, 5) i;
END $$;
SELECT nr_round(1);
SELECT dt_test.check_all('nr\_%', true);
SELECT nr_round(2);
SELECT dt_test.check_all('nr\_%', true);
SELECT nr_round(3);
SELECT dt_test.check_all('nr\_%', true);
SELECT nr_round(4);
SELECT dt_test.check_all('nr\_%', true);
SELECT nr_round(5);
SELECT nr_round(6);
SELECT dt_test.check_all('nr\_%', true);
SELECT nr_round(7);
SELECT dt_test.check_all('nr\_%', true);
-- in the writing transaction
BEGIN;
SELECT nr_round(8);
SELECT dt_test.check_all('nr\_%', true);
COMMIT;
-- every refresh of the rounds was incremental
SELECT name, array_agg(DISTINCT refresh_action) AS actions, count(*) AS refreshes
  FROM dt.refresh_history WHERE name LIKE 'public.nr\_%' AND refresh_trigger = 'MANUAL'
 GROUP BY name ORDER BY name;
SELECT dt.drop_dynamic_table(t) FROM unnest(ARRAY['nr_q8', 'nr_keys', 'nr_union']) t;
DROP FUNCTION nr_round(int);
DROP TABLE nr_nation, nr_sup;

-- A whole-row reference reads every column of its table but the dropped
-- ones (the creation failed: cache lookup failed for type 0); w2 reads
-- them all, w1 its id and a.
CREATE TABLE nr_drop (id int PRIMARY KEY, junk int, a int, b int);
ALTER TABLE nr_drop DROP COLUMN junk;
INSERT INTO nr_drop SELECT i, i % 7, i % 5 FROM generate_series(0, 19) i;
SELECT dt.create_dynamic_table('nr_whole', $$
    SELECT w1.id, row_to_json(w2)::text AS r FROM nr_drop w1 JOIN nr_drop w2 ON w2.id = w1.a $$,
                               refresh_mode => 'incremental', initialize => 'on_create');
SELECT dt.create_dynamic_table('nr_whole_agg', $$
    SELECT w1.a, count(*) AS n FROM nr_drop w1, nr_drop w2 WHERE w2.id = w1.a AND w2 IS NOT NULL GROUP BY w1.a $$,
                               refresh_mode => 'incremental', initialize => 'on_create');
UPDATE nr_drop SET b = NULL WHERE id = 3;
UPDATE nr_drop SET b = b + 1 WHERE id IN (1, 2);
UPDATE nr_drop SET a = 6 WHERE id = 9;
SELECT dt_test.check_all('nr\_whole%', true);
UPDATE nr_drop SET b = 0 WHERE id = 3;
DELETE FROM nr_drop WHERE id = 4;
SELECT dt_test.check_all('nr\_whole%', true);
SELECT name, array_agg(DISTINCT refresh_action) AS actions
  FROM dt.refresh_history WHERE name LIKE 'public.nr\_whole%' AND refresh_trigger = 'MANUAL'
 GROUP BY name ORDER BY name;
SELECT dt.drop_dynamic_table(t) FROM unnest(ARRAY['nr_whole', 'nr_whole_agg']) t;
DROP TABLE nr_drop;

-- More shapes reading one table through several references, against the
-- oracle after seeded rounds of writes (updates of one column at a time,
-- moves there and back within a window, keys that move, rows deleted and
-- inserted): self-joins merged and recomputed, a semi-join and FROM, a
-- WITH query read twice, UNION ALL, a rank over a self-join (window.c:
-- netted over all its columns, as its rank subqueries read the table too),
-- a reference that reads no column, joins' aliases, a partitioned table
-- and an inheritance parent.
CREATE TABLE nr_t (id int PRIMARY KEY, a int, b int, c int, d int, e text);
CREATE TABLE nr_p (id int PRIMARY KEY, a int, b int, c int) PARTITION BY RANGE (id);
CREATE TABLE nr_p1 PARTITION OF nr_p FOR VALUES FROM (0) TO (15);
CREATE TABLE nr_p2 PARTITION OF nr_p FOR VALUES FROM (15) TO (1000);
CREATE TABLE nr_ih (id int PRIMARY KEY, a int, b int, c int);
CREATE TABLE nr_ic (x int) INHERITS (nr_ih);
INSERT INTO nr_t SELECT i, i % 4, i % 5, i % 30, i % 3, 'e' || i % 2 FROM generate_series(0, 29) i;
INSERT INTO nr_p SELECT i, i % 4, i % 5, (i * 7) % 30 FROM generate_series(0, 29) i;
INSERT INTO nr_ih SELECT i, i % 4, i % 5, (i * 7) % 30 FROM generate_series(0, 14) i;
INSERT INTO nr_ic SELECT i, i % 4, i % 5, (i * 7) % 30, 0 FROM generate_series(15, 29) i;
CREATE FUNCTION nr_create(dt_name text, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL client_min_messages = warning;
    PERFORM dt.create_dynamic_table(dt_name, q, refresh_mode => 'incremental', initialize => 'on_create');
    RETURN (SELECT refresh_mode_reason FROM dt.dynamic_tables WHERE relid = dt_name::regclass);
END $$;
SELECT t, left(nr_create(t, q), 40) AS reason FROM (VALUES
    ('nrs_self', 'SELECT t1.a, count(*) AS n, sum(t2.b) AS s, max(t2.d) AS m FROM nr_t t1 JOIN nr_t t2 ON t2.id = t1.c GROUP BY t1.a'),
    ('nrs_self_rows', 'SELECT t1.id, t1.a, t2.b FROM nr_t t1 LEFT JOIN nr_t t2 ON t2.id = t1.c'),
    ('nrs_exists', 'SELECT t.a, count(*) AS n FROM nr_t t WHERE EXISTS (SELECT FROM nr_t t2 WHERE t2.id = t.c AND t2.b > 2) GROUP BY t.a'),
    ('nrs_not_exists', 'SELECT a, count(*) AS n FROM nr_t t WHERE NOT EXISTS (SELECT FROM nr_t t2 WHERE t2.c = t.id AND t2.b = 1) GROUP BY a'),
    ('nrs_cte', 'WITH w AS (SELECT id, a, b, c FROM nr_t) SELECT w1.a, count(*) AS n, sum(w2.b) AS s FROM w w1 JOIN w w2 ON w2.id = w1.c GROUP BY w1.a'),
    ('nrs_union', 'SELECT t1.id, t2.b AS v FROM nr_t t1 JOIN nr_t t2 ON t2.id = t1.c UNION ALL SELECT id, d FROM nr_t'),
    ('nrs_rank', 'SELECT s.a, count(*) FILTER (WHERE s.r <= 2) AS top2, sum(s.b) AS sb FROM (SELECT t1.a, t2.b, rank() OVER (PARTITION BY t1.a ORDER BY t1.d DESC, t1.id) AS r FROM nr_t t1 JOIN nr_t t2 ON t2.id = t1.c) s GROUP BY s.a'),
    ('nrs_no_column', 'SELECT t1.a, count(*) AS n FROM nr_t t1, nr_t t2 GROUP BY t1.a'),
    ('nrs_alias', 'SELECT j1.a, count(*) AS n, sum(j2.b) AS s, sum(j2.ib) AS si FROM (nr_t t1 JOIN (SELECT id AS pid FROM nr_p) p ON p.pid = t1.id) j1 JOIN (nr_t t2 JOIN (SELECT id AS iid, b AS ib FROM nr_ih) i ON i.iid = t2.id) j2 ON j2.id = j1.c GROUP BY j1.a'),
    ('nrs_part', 'SELECT p1.a, count(*) AS n, sum(p2.b) AS s FROM nr_p p1 JOIN nr_p p2 ON p2.id = p1.c GROUP BY p1.a'),
    ('nrs_inh', 'SELECT i1.id, i1.a, i2.b FROM nr_ih i1 JOIN nr_ih i2 ON i2.id = i1.c')) s(t, q)
 ORDER BY t;
CREATE FUNCTION nrs_round(r int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k int;
    col text;
BEGIN
    PERFORM setseed(r / 100.0);
    FOR k IN 1..4 LOOP
        col := (ARRAY['a', 'b', 'c', 'd'])[1 + floor(random() * 4)::int];
        EXECUTE format('UPDATE nr_t SET %I = floor(random() * 5)::int WHERE random() < 0.15', col);
    END LOOP;
    UPDATE nr_t SET c = floor(random() * 32)::int WHERE id = floor(random() * 30)::int;
    UPDATE nr_t SET e = CASE WHEN e = 'e0' THEN 'e1' ELSE 'e0' END WHERE id = r % 30;
    -- there and back within the window
    col := (ARRAY['a', 'b', 'c', 'd'])[1 + r % 4];
    EXECUTE format('UPDATE nr_t SET %I = %I + 100 WHERE id = %s', col, col, (r * 7) % 30);
    EXECUTE format('UPDATE nr_t SET %I = %I - 100 WHERE id = %s', col, col, (r * 7) % 30);
    -- a key moves and comes back; a row goes and another comes
    UPDATE nr_t SET id = id + 1000 WHERE id = (r * 11) % 30;
    UPDATE nr_t SET id = id - 1000 WHERE id >= 1000;
    DELETE FROM nr_t WHERE id = (r * 13) % 32;
    INSERT INTO nr_t SELECT i, i % 5, r % 5, (i * r) % 32, r % 3, 'e0' FROM generate_series(0, 31) i
        WHERE random() < 0.1 ON CONFLICT (id) DO NOTHING;
    col := (ARRAY['a', 'b', 'c'])[1 + r % 3];
    EXECUTE format('UPDATE nr_p SET %I = floor(random() * 30)::int WHERE random() < 0.15', col);
    UPDATE nr_p SET id = id + 100 WHERE id = r % 15;   -- to the other partition
    UPDATE nr_p SET id = id - 100 WHERE id >= 100;
    EXECUTE format('UPDATE nr_ih SET %I = floor(random() * 30)::int WHERE random() < 0.15', col);
    EXECUTE format('UPDATE nr_ic SET %I = floor(random() * 30)::int WHERE random() < 0.15', col);
END $$;
SELECT nrs_round(1);
-- each reads nr_t (or nr_p, nr_ih) through references netted apart
SELECT d.name, bool_or(e.detail LIKE '%dt$k%') AS netted_per_reference
  FROM dt.dynamic_tables d, dt.explain_refresh(d.relid) e
 WHERE d.name LIKE 'public.nrs\_%' GROUP BY d.name ORDER BY d.name;
SELECT dt_test.check_all('nrs\_%', true);
SELECT nrs_round(2);
SELECT dt_test.check_all('nrs\_%', true);
SELECT nrs_round(3);
SELECT nrs_round(4);
SELECT dt_test.check_all('nrs\_%', true);
SELECT nrs_round(5);
SELECT dt_test.check_all('nrs\_%', true);
BEGIN;
SELECT nrs_round(6);
SELECT dt_test.check_all('nrs\_%', true);
COMMIT;
SELECT nrs_round(7);
SELECT dt_test.check_all('nrs\_%', true);
-- every refresh of the rounds was incremental
SELECT name, array_agg(DISTINCT refresh_action ORDER BY refresh_action) AS actions
  FROM dt.refresh_history WHERE name LIKE 'public.nrs\_%' AND refresh_trigger = 'MANUAL'
 GROUP BY name ORDER BY name;
SET client_min_messages = warning;
SELECT count(*) FROM (SELECT dt.drop_dynamic_table(relid) FROM dt.dynamic_tables WHERE name LIKE 'public.nrs\_%') d;
RESET client_min_messages;
DROP FUNCTION nr_create(text, text), nrs_round(int);
DROP TABLE nr_t, nr_p, nr_ih CASCADE;
