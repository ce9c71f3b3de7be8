-- The catalog's statements are prepared once per process and kept in a
-- cache of at most 128 (catalog.c, catalog_plan).  A statement naming an
-- object (the cleanup of a change log after a refresh) is one statement
-- per object, so a long-lived session meets more than the cache holds.
-- Here one session refreshes DTs reading 150 tables: the cache keeps the
-- statements it met last, frees those it met first, keeps preparing the
-- statements it meets for the first time, and every table stays right.
-- The prepared statements are seen in pg_backend_memory_contexts (a
-- CachedPlanSource context named by its text).

CREATE SCHEMA dt_cc;
SET search_path = dt_cc, public;

-- 150 tables; three DTs each read 50 of them (a UNION ALL)
DO $$
BEGIN
    FOR i IN 1..150 LOOP
        EXECUTE format('CREATE TABLE t%s (k int)', i);
        EXECUTE format('INSERT INTO t%s VALUES (%s)', i, i);
    END LOOP;
    FOR d IN 0..2 LOOP
        PERFORM dt.create_dynamic_table('u' || d,
            (SELECT string_agg(format('SELECT %s AS src, k FROM t%s', i, i), ' UNION ALL ')
               FROM generate_series(d * 50 + 1, d * 50 + 50) i),
            refresh_mode => 'incremental');
    END LOOP;
END
$$;

-- cached(t): is the cleanup statement of table t's change log prepared?
CREATE FUNCTION cached(t regclass) RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM pg_backend_memory_contexts
                    WHERE name = 'CachedPlanSource'
                      AND ident LIKE '%.changes\_' || t::oid || ' c %')
$$;
CREATE FUNCTION cleanups_cached() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_backend_memory_contexts
     WHERE name = 'CachedPlanSource' AND ident LIKE '%DELETE FROM dt\_internal.changes\_%'
$$;

-- two rounds of writes to every table, each refreshed and checked
DO $$
BEGIN
    FOR r IN 1..2 LOOP
        FOR i IN 1..150 LOOP
            EXECUTE format('INSERT INTO t%s VALUES (%s)', i, i * 10 + r);
            EXECUTE format('DELETE FROM t%s WHERE k = %s', i, CASE r WHEN 1 THEN i ELSE i * 10 + 1 END);
        END LOOP;
        FOR d IN 0..2 LOOP
            IF (SELECT action FROM dt.refresh('dt_cc.u' || d)) <> 'INCREMENTAL' THEN
                RAISE EXCEPTION 'refresh of u% was not incremental', d;
            END IF;
            PERFORM dt_test.check(('dt_cc.u' || d)::regclass);
        END LOOP;
    END LOOP;
END
$$;
SELECT count(*), sum(k) FROM (SELECT * FROM u0 UNION ALL SELECT * FROM u1 UNION ALL SELECT * FROM u2) s;

-- the cache holds at most 128 statements: the first tables' cleanups were
-- freed, the last ones' are kept
SELECT cleanups_cached() BETWEEN 50 AND 128 AS bounded, cached('t1') AS t1, cached('t150') AS t150;

-- a statement met for the first time now is still prepared
SELECT dt.alter_dynamic_table('u0', target_lag => '2 minutes');
SELECT EXISTS (SELECT FROM pg_backend_memory_contexts
                WHERE name = 'CachedPlanSource' AND ident LIKE 'UPDATE dt\_internal.dynamic_table SET target\_lag%')
       AS alter_prepared;

-- and a third round, refreshed in the reverse order: the first tables'
-- cleanups are prepared again, the last ones' freed
DO $$
BEGIN
    FOR i IN 1..150 LOOP
        EXECUTE format('UPDATE t%s SET k = k + 1', i);
    END LOOP;
    FOR d IN REVERSE 2..0 LOOP
        PERFORM dt.refresh('dt_cc.u' || d);
        PERFORM dt_test.check(('dt_cc.u' || d)::regclass);
    END LOOP;
END
$$;
SELECT cleanups_cached() BETWEEN 50 AND 128 AS bounded, cached('t1') AS t1, cached('t101') AS t101;
SELECT count(*), sum(k) FROM (SELECT * FROM u0 UNION ALL SELECT * FROM u1 UNION ALL SELECT * FROM u2) s;

SET client_min_messages = warning;
DROP SCHEMA dt_cc CASCADE;
