-- Internal dynamic tables (issue 13): a subquery that aggregates, read as
-- a relation, is maintained by no strategy as a node of its query; it is
-- made a dynamic table of its own (dt_internal.sub_<dt>_<n>, part of its
-- dynamic table), and the query is maintained as reading it.  Shapes: an
-- aggregate over an aggregate with a LEFT JOIN inside (TPC-H Q13), a
-- grouping subquery joined with a table, a WITH query read twice with an
-- uncorrelated scalar maximum (Q15), a scalar aggregate threshold in WHERE.
--
-- Customers ic and orders io take seeded random writes: orders added with
-- NULL customers and NULL amounts, moved between customers, deleted (a
-- customer left with none counts 0 in Q13's shape), customers deleted and
-- added back, regions changed; ties for the maximum made on purpose.
-- After every round every dynamic table equals its defining query.

CREATE SCHEMA dt_in;
SET search_path = dt_in, public;

CREATE TABLE ic (id int PRIMARY KEY, region text);
CREATE TABLE io (id serial PRIMARY KEY, cust int, amount numeric, note text);

CREATE FUNCTION in_create(name text, query text) RETURNS void LANGUAGE sql AS $$
SELECT dt.create_dynamic_table(name, query, refresh_mode => 'incremental', initialize => 'on_schedule')
$$;

-- Q13's shape: orders per customer (LEFT JOIN: customers without any
-- count 0), then customers per count.
SELECT in_create('in_q13', $$
SELECT c_count, count(*) AS custdist
  FROM (SELECT ic.id, count(io.id)
          FROM ic LEFT JOIN io ON io.cust = ic.id AND io.note NOT LIKE '%skip%'
         GROUP BY ic.id) AS c_orders (c_id, c_count)
 GROUP BY c_count
 ORDER BY custdist DESC, c_count DESC
$$);
-- An aggregate over an aggregate of another kind, and a grouping
-- subquery joined with a table.
SELECT in_create('in_avg_of_sums', $$
SELECT bucket, count(*) AS n, sum(total) AS total, max(total) AS top
  FROM (SELECT cust, sum(amount) AS total, (count(*) % 3) AS bucket FROM io GROUP BY cust) t
 GROUP BY bucket
$$);
SELECT in_create('in_joined', $$
SELECT ic.region, count(*) AS customers, sum(t.total) AS total
  FROM ic JOIN (SELECT cust, sum(amount) AS total FROM io GROUP BY cust) t ON t.cust = ic.id
 GROUP BY ic.region
$$);
-- Q15's shape: a WITH query read twice, rows at its maximum.
SELECT in_create('in_q15', $$
WITH revenue (cust, total) AS (SELECT cust, sum(amount) FROM io WHERE cust IS NOT NULL GROUP BY cust)
SELECT ic.id, ic.region, revenue.total
  FROM ic, revenue
 WHERE ic.id = revenue.cust
   AND revenue.total = (SELECT max(total) FROM revenue)
 ORDER BY ic.id
$$);

SELECT name, refresh_mode, refresh_mode_reason
  FROM dt.dynamic_tables WHERE schema_name = 'dt_in' ORDER BY name;
-- Internal tables are not listed; they are members of the extension.
SELECT count(*) AS listed FROM dt.dynamic_tables WHERE schema_name = 'dt_internal';
SELECT c.relname ~ '^sub_[0-9]+_[0-9]+$' AS named, count(*) AS internal_tables,
       bool_and(c.relowner = (SELECT relowner FROM pg_class WHERE oid = 'dt_in.in_q13'::regclass)) AS owned,
       bool_and(EXISTS (SELECT FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')) AS members
  FROM dt_internal.dynamic_table d JOIN pg_class c ON c.oid = d.relid
 WHERE c.relnamespace = 'dt_internal'::regnamespace
 GROUP BY 1;
-- Each is a member once (its parent's state objects include it).
SELECT count(*) AS members_twice FROM (
    SELECT FROM pg_depend WHERE deptype = 'e' GROUP BY classid, objid, refobjid HAVING count(*) > 1) d;

CREATE FUNCTION in_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    INSERT INTO io (cust, amount, note)
    SELECT CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 15)::int END,
           CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 20)::numeric END,
           CASE WHEN random() < 0.2 THEN 'skip' ELSE 'ok' END
      FROM generate_series(1, 5 + floor(random() * 10)::int);
    FOR step IN 1 .. 4 LOOP
        op := random();
        IF op < 0.25 THEN
            UPDATE io SET cust = 1 + floor(random() * 15)::int
             WHERE id IN (SELECT id FROM io ORDER BY random() LIMIT 4);
        ELSIF op < 0.4 THEN
            UPDATE io SET amount = amount + 7, note = CASE WHEN note = 'ok' THEN 'skip' ELSE 'ok' END
             WHERE id IN (SELECT id FROM io ORDER BY random() LIMIT 4);
        ELSIF op < 0.6 THEN
            -- a customer loses all its orders
            DELETE FROM io WHERE cust = (SELECT cust FROM io WHERE cust IS NOT NULL ORDER BY random() LIMIT 1);
        ELSIF op < 0.7 THEN
            DELETE FROM ic WHERE id = 1 + floor(random() * 15)::int;
        ELSIF op < 0.8 THEN
            INSERT INTO ic SELECT i, 'r' || (i % 3) FROM generate_series(1, 14) i ON CONFLICT DO NOTHING;
        ELSIF op < 0.9 THEN
            UPDATE ic SET region = CASE WHEN region = 'r0' THEN NULL ELSE 'r0' END
             WHERE id = 1 + floor(random() * 15)::int;
        ELSE
            -- the runner-up ties with the top
            UPDATE io SET amount = amount + (SELECT max(t) - min(t) FROM
                     (SELECT sum(amount) AS t FROM io WHERE cust IS NOT NULL GROUP BY cust
                      ORDER BY 1 DESC NULLS LAST LIMIT 2) x)
             WHERE id = (SELECT min(id) FROM io WHERE amount IS NOT NULL AND cust =
                          (SELECT cust FROM io WHERE cust IS NOT NULL GROUP BY cust
                            ORDER BY sum(amount) DESC NULLS LAST OFFSET 1 LIMIT 1));
        END IF;
    END LOOP;
END $$;

SELECT setseed(0.2718);
INSERT INTO ic SELECT i, 'r' || (i % 3) FROM generate_series(1, 14) i;
INSERT INTO io (cust, amount, note) SELECT 1 + i % 12, i % 17, 'ok' FROM generate_series(1, 60) i;
SELECT dt_test.check_all('in\_%', true);

DO $$
BEGIN
    FOR round IN 1 .. 25 LOOP
        PERFORM in_round();
        PERFORM dt_test.check_all('in\_%', true);
        COMMIT;
    END LOOP;
END $$;
SELECT name, count(*) FILTER (WHERE refresh_action = 'FULL') AS full_refreshes,
       count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 20 AS incremental
  FROM dt.refresh_history WHERE name LIKE 'dt\_in.in%'
 GROUP BY name ORDER BY name;

RESET search_path;

-- What a refresh of the parent reads: its internal tables, refreshed first
-- in its unit; each can be explained on its own.
SET search_path = dt_in, public;
SELECT step, kind, regexp_replace(object, '[0-9]+', 'N', 'g') AS object
  FROM dt.explain_refresh('in_q13') WHERE kind IN ('action', 'input', 'reads', 'unit')
 ORDER BY step;
SELECT count(*) > 0 AS explained
  FROM dt_internal.dynamic_table d, dt.explain_refresh(d.relid::regclass) e
 WHERE d.relid::regclass::text LIKE 'dt_internal.sub\_%';

-- Suspension takes the internal tables with it (they would keep the
-- change logs from being emptied), and resuming brings them back.
SELECT dt.suspend('in_q13');
SELECT count(*) FILTER (WHERE d.scheduling_state = 'SUSPENDED') AS suspended,
       count(*) FILTER (WHERE d.position_xid IS NOT NULL) AS with_position
  FROM dt_internal.dynamic_table d
 WHERE d.relid::regclass::text LIKE 'dt_internal.sub\_' || 'dt_in.in_q13'::regclass::oid || '\_%';
INSERT INTO io (cust, amount, note) VALUES (3, 1, 'ok');
SELECT dt.resume('in_q13');
SELECT count(*) FILTER (WHERE d.scheduling_state = 'SUSPENDED') AS suspended
  FROM dt_internal.dynamic_table d
 WHERE d.relid::regclass::text LIKE 'dt_internal.sub\_' || 'dt_in.in_q13'::regclass::oid || '\_%';
SELECT action FROM dt.refresh('in_q13');
SELECT dt_test.check('in_q13');

-- A rename rewrites the definitions of the parent and of its internal
-- tables (what a restore and pg_upgrade parse again).
ALTER TABLE io RENAME TO io_renamed;
SELECT bool_and(d.definition LIKE '%io_renamed%') AS renamed
  FROM dt_internal.dynamic_table d
 WHERE d.relid = 'in_q13'::regclass
    OR d.relid::regclass::text LIKE 'dt_internal.sub\_' || 'dt_in.in_q13'::regclass::oid || '\_%';
ALTER TABLE io_renamed RENAME TO io;

-- A new owner owns the internal tables too.
CREATE ROLE dt_in_owner;
GRANT USAGE ON SCHEMA dt_in TO dt_in_owner;
GRANT SELECT ON ic, io TO dt_in_owner;
ALTER TABLE in_joined OWNER TO dt_in_owner;
SELECT bool_and(c.relowner = 'dt_in_owner'::regrole) AS followed
  FROM pg_class c
 WHERE c.relnamespace = 'dt_internal'::regnamespace
   AND c.relname LIKE 'sub\_' || 'dt_in.in_joined'::regclass::oid || '\_%';
INSERT INTO io (cust, amount, note) VALUES (4, 2, 'ok');
SELECT action FROM dt.refresh('in_joined');
SELECT dt_test.check('in_joined');

-- Replacing the query makes new internal tables (none where the new
-- query needs none); a full refresh mode needs none either; dropping the
-- parent drops them with their catalog rows and change logs.
CREATE FUNCTION in_internal_count() RETURNS bigint LANGUAGE sql AS $$
SELECT count(*) FROM pg_class c
 WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relname LIKE 'sub\_%' AND c.relkind = 'r'
$$;
SELECT in_internal_count() AS before;
SELECT dt.create_dynamic_table('in_avg_of_sums', $$
SELECT n_orders, count(*) AS customers
  FROM (SELECT cust, count(*) AS n_orders FROM io GROUP BY cust) t
 GROUP BY n_orders
$$, or_replace => true);
SELECT in_internal_count() AS replaced, refresh_mode FROM dt.dynamic_tables WHERE relid = 'in_avg_of_sums'::regclass;
INSERT INTO io (cust, amount, note) VALUES (6, 1, 'ok'), (7, 1, 'ok');
SELECT action FROM dt.refresh('in_avg_of_sums');
SELECT dt_test.check('in_avg_of_sums');
SELECT dt.create_dynamic_table('in_avg_of_sums', 'SELECT cust, count(*) AS n FROM io GROUP BY cust',
                               or_replace => true);
SELECT in_internal_count() AS without;
SELECT dt.alter_dynamic_table('in_q15', refresh_mode => 'full');
SELECT in_internal_count() AS full_mode, refresh_mode FROM dt.dynamic_tables WHERE relid = 'in_q15'::regclass;
SELECT dt.alter_dynamic_table('in_q15', refresh_mode => 'incremental');
SELECT in_internal_count() AS incremental_again;
INSERT INTO io (cust, amount, note) VALUES (5, 3, 'ok');
SELECT action FROM dt.refresh('in_q15');
SELECT dt_test.check('in_q15');
-- in_sub_of(dt): an internal table of dt's subqueries.
CREATE FUNCTION in_sub_of(dt regclass) RETURNS regclass LANGUAGE sql AS $$
SELECT c.oid::regclass FROM pg_class c
 WHERE c.relnamespace = 'dt_internal'::regnamespace
   AND c.relname LIKE 'sub\_' || dt::oid || '\_%' AND c.relkind = 'r'
 LIMIT 1
$$;
-- An internal table is changed only through its dynamic table.
DO $$
DECLARE
    sub regclass := in_sub_of('dt_in.in_q15');
BEGIN
    PERFORM dt.suspend(sub);
    RAISE NOTICE 'not refused: %', sub IS NOT NULL;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'refused: %', regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
END $$;
-- Nor refreshed on its own: the error names its dynamic table, whose
-- refresh refreshes it
DO $$
DECLARE
    sub regclass := in_sub_of('dt_in.in_q15');
    detail text;
    hint text;
BEGIN
    PERFORM dt.refresh(sub);
    RAISE NOTICE 'not refused: %', sub IS NOT NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE 'refused (%): % / % / %', SQLSTATE, regexp_replace(SQLERRM, '[0-9]+', 'N', 'g'), detail, hint;
END $$;
SELECT dt.drop_dynamic_table('in_q15');
-- DROP OWNED drops the internal tables of the tables it drops.
DROP OWNED BY dt_in_owner;
SELECT in_internal_count() AS dropped,
       (SELECT count(*) FROM dt_internal.dynamic_table d
         WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = d.relid)) AS forgotten_rows;
-- An internal table cannot be dropped on its own.
DO $$
BEGIN
    EXECUTE format('DROP TABLE %s', (SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relname LIKE 'sub\_%' LIMIT 1));
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'refused: %', regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
END $$;
-- Nor renamed or moved, even by a superuser: its parent finds it by name.
DO $$
DECLARE
    t regclass := (SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relname LIKE 'sub\_%' LIMIT 1);
BEGIN
    BEGIN
        EXECUTE format('ALTER TABLE %s RENAME TO zz', t);
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'rename refused: %', regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
    END;
    BEGIN
        EXECUTE format('ALTER TABLE %s SET SCHEMA public', t);
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'move refused: %', regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
    END;
END $$;
-- Nor given an index, a trigger, a rule or a policy, even by a superuser:
-- nobody could drop it again (DROP INDEX, TRIGGER, RULE or POLICY of one
-- of dt_internal is refused; before, a superuser's index on a state table,
-- or trigger on the history, was made, and could not be dropped; one on
-- the history broke every refresh after).
DO $$
DECLARE
    t regclass := (SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relname LIKE 'sub\_%' LIMIT 1);
    ddl text;
BEGIN
    FOREACH ddl IN ARRAY ARRAY['CREATE INDEX ON %s ((1))',
                               'CREATE TRIGGER t BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()',
                               'CREATE RULE r AS ON INSERT TO %s DO INSTEAD NOTHING',
                               'CREATE POLICY p ON %s USING (false)']
    LOOP
        BEGIN
            EXECUTE format(ddl, t);
            RAISE NOTICE 'made: %', split_part(ddl, ' ', 2);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'refused (%): %', SQLSTATE, regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
        END;
    END LOOP;
END $$;
-- Nor is a relation or type made in dt_internal, even by a superuser:
-- DROP of one there is refused (before, CREATE TABLE dt_internal.t and a
-- view there were made, and could not be dropped).  A function can be.
DO $$
DECLARE
    ddl text;
BEGIN
    FOREACH ddl IN ARRAY ARRAY['CREATE TABLE dt_internal.by_hand (a int)',
                               'CREATE UNLOGGED TABLE dt_internal.by_hand AS SELECT 1 AS a',
                               'CREATE MATERIALIZED VIEW dt_internal.by_hand AS SELECT 1 AS a',
                               'CREATE VIEW dt_internal.by_hand AS SELECT 1 AS a',
                               'CREATE SEQUENCE dt_internal.by_hand',
                               'CREATE TYPE dt_internal.by_hand AS (a int)',
                               'CREATE TYPE dt_internal.by_hand AS ENUM (''a'')',
                               'CREATE DOMAIN dt_internal.by_hand AS int']
    LOOP
        BEGIN
            EXECUTE ddl;
            RAISE EXCEPTION 'made (and undone): %', ddl;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
        END;
    END LOOP;
END $$;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) CREATE TABLE dt_internal.by_hand AS SELECT 1 AS a;
SET search_path = dt_internal, public;
CREATE TABLE by_hand (a int);
SET search_path = dt_in, public;
CREATE TEMP TABLE by_hand (a int);
DROP TABLE by_hand;
CREATE FUNCTION dt_internal.by_hand() RETURNS int LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION dt_internal.by_hand();
-- Nor is schema dt_internal renamed, even by a superuser: the extension
-- finds its objects by that name (the rename failed on an internal query).
ALTER SCHEMA dt_internal RENAME TO dt_internal_renamed;
-- Dropping an input with CASCADE drops the parent, and its internal tables.
DROP TABLE io CASCADE;
SELECT in_internal_count() AS after_cascade,
       (SELECT count(*) FROM dt_internal.change_log l
         WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.input_relid)) AS stale_logs;
-- A cascade reaching a column of an internal table through its type (a
-- domain the subquery groups by) drops the parent and its internal tables
-- (it failed with "could not open relation" while their key indexes were
-- INTERNAL to them).
CREATE DOMAIN in_grp AS int CHECK (VALUE > -100);
CREATE TABLE idom (id int, g in_grp, x int);
INSERT INTO idom SELECT i, i % 5, i FROM generate_series(1, 50) i;
SELECT dt.create_dynamic_table('in_dom', 'SELECT n, count(*) AS c FROM (SELECT g, count(*) AS n FROM idom GROUP BY g) s GROUP BY n',
                               refresh_mode => 'incremental');
SELECT in_internal_count() > 0 AS has_internal;
SET client_min_messages = warning;
DROP DOMAIN in_grp CASCADE;
RESET client_min_messages;
SELECT in_internal_count() AS after_domain_cascade,
       (SELECT count(*) FROM dt.dynamic_tables WHERE name LIKE '%in_dom%') AS parent_left;
DROP TABLE idom;
DROP FUNCTION in_internal_count();
DROP ROLE dt_in_owner;
RESET search_path;
