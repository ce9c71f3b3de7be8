-- test/helpers.sql: helpers the regression tests share, in schema dt_test
-- next to the oracle (test/oracle.sql).  Loaded into the test databases by
-- test/run, after the oracle.
--
-- dt_test.fails and dt_test.create_fails catch an error and return its
-- SQLSTATE (column code) and message (column error), with the OIDs in
-- internal names masked by dt_test.mask_oids:
--   fails(sql)          runs any statement ('none' / 'succeeded' if it
--                       does not fail);
--   outcome(sql)        runs any statement and returns one line: its
--                       SQLSTATE and message, or 'ok: ' and the first
--                       value it returned;
--   create_fails(name, query [, target_lag, refresh_mode, initialize]
--                [, with_detail])
--                       calls dt.create_dynamic_table with the same
--                       arguments and defaults, adds the DETAIL of the error
--                       to the message unless with_detail is false, and also
--                       reports what the failed call left behind (column
--                       left_behind: 'nothing', or the relation and the
--                       footprint before -> after).
-- dt_test.dt_footprint() counts everything dynamic tables occupy.
-- dt_test.wait_for_failures(dt, n) waits (up to 10 seconds) until dt has n
-- failures in its history: a failed manual refresh is written there by the
-- scheduler, after the failing transaction has rolled back.
-- dt_test.check_all(pattern [, refresh]) checks (and refreshes) every
-- dynamic table whose name matches a LIKE pattern.
-- dt_test.bad_value_counts([dt]) counts the value counts of zero or less in
-- the auxiliary tables of dt (of every dynamic table without dt).
-- dt_test.mask_figures(msg) masks the internal names (mask_oids) and the
-- figures (rows, milliseconds, shares, pages: N) of a message.
-- dt_test.refresh_each(names) refreshes the dynamic tables named, in
-- order: for each its action, the message of its history row
-- (mask_figures), and whether it equals its query (dt_test.diff).
-- dt_test.time_last_refresh(dt, took) sets the duration of dt's latest
-- refresh in the history to took, so that decisions read off the history
-- do not depend on the machine.
--
-- They run as the caller, with the caller's search_path, except
-- dt_footprint: it reads the extension's catalog, which only its owner may
-- read.  A role calls them with USAGE on schema dt_test.

CREATE SCHEMA IF NOT EXISTS dt_test;

-- Everything dynamic tables occupy: catalog rows, relations in dt_internal,
-- the guard and capture triggers.
CREATE OR REPLACE FUNCTION dt_test.dt_footprint() RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
SELECT format('catalog=%s inputs=%s logs=%s internal=%s triggers=%s',
              (SELECT count(*) FROM dt_internal.dynamic_table),
              (SELECT count(*) FROM dt_internal.dynamic_table_input),
              (SELECT count(*) FROM dt_internal.change_log),
              (SELECT count(*) FROM pg_class WHERE relnamespace = 'dt_internal'::regnamespace),
              (SELECT count(*) FROM pg_trigger WHERE tgname = 'dt_guard' OR tgname LIKE 'dt\_capture\_%'))
$$;

-- Internal names carry the OID of a relation; masked, messages are stable.
CREATE OR REPLACE FUNCTION dt_test.mask_oids(msg text) RETURNS text LANGUAGE sql AS $$
SELECT regexp_replace(regexp_replace(msg, '(dt_capture|changes|state|final|aux|key|sub)_[0-9]+', '\1_<oid>', 'g'),
                      '(dt_capture_<oid>_[a-z]+)_[0-9]+', '\1_<oid>', 'g')
$$;

CREATE OR REPLACE FUNCTION dt_test.mask_figures(msg text) RETURNS text LANGUAGE sql AS $$
SELECT regexp_replace(dt_test.mask_oids(msg), '[0-9.]+( changed rows|%| rows| ms| pages)', 'N\1', 'g')
$$;

CREATE OR REPLACE FUNCTION dt_test.refresh_each(names text[])
RETURNS TABLE (name text, action text, message text, equal boolean) LANGUAGE plpgsql AS $$
BEGIN
    FOREACH name IN ARRAY names LOOP
        SELECT r.action INTO action FROM dt.refresh(refresh_each.name::regclass) r;
        SELECT dt_test.mask_figures(h.state_message) INTO message
          FROM dt.refresh_history h WHERE h.relid = refresh_each.name::regclass
         ORDER BY h.refresh_id DESC LIMIT 1;
        SELECT count(*) = 0 INTO equal FROM dt_test.diff(refresh_each.name::regclass);
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION dt_test.time_last_refresh(dt regclass, took interval)
RETURNS void LANGUAGE sql AS $$
UPDATE dt_internal.refresh_log SET refresh_end_time = refresh_start_time + took
 WHERE refresh_id = (SELECT max(refresh_id) FROM dt_internal.refresh_log WHERE relid = dt);
$$;

CREATE OR REPLACE FUNCTION dt_test.fails(sql text, OUT code text, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    code := 'none';
    error := 'succeeded';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, error = MESSAGE_TEXT;
    error := dt_test.mask_oids(error);
END
$$;

CREATE OR REPLACE FUNCTION dt_test.outcome(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE sql INTO result;
    RETURN 'ok: ' || coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || dt_test.mask_oids(SQLERRM);
END
$$;

CREATE OR REPLACE FUNCTION dt_test.wait_for_failures(dt regclass, n int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 200 LOOP
        EXIT WHEN (SELECT count(*) FROM dt.refresh_history h WHERE h.relid = dt AND h.state = 'FAILED') >= n;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;

-- A relation that already had the name before the call (the name is taken)
-- is not something the call left behind.
CREATE OR REPLACE FUNCTION dt_test.create_fails(name text, query text,
                                                target_lag text DEFAULT '1 minute',
                                                refresh_mode text DEFAULT 'auto',
                                                initialize text DEFAULT 'on_create',
                                                with_detail boolean DEFAULT true,
                                                OUT code text, OUT left_behind text, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    before text := dt_test.dt_footprint();
    rel_before regclass := to_regclass(name);
    detail text;
BEGIN
    BEGIN
        PERFORM dt.create_dynamic_table(name, query, target_lag, refresh_mode, initialize);
        code := 'none';
        error := 'created';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, error = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL;
        IF with_detail THEN
            error := error || coalesce(' / DETAIL: ' || nullif(detail, ''), '');
        END IF;
        error := dt_test.mask_oids(error);
    END;
    IF dt_test.dt_footprint() = before AND to_regclass(name) IS NOT DISTINCT FROM rel_before THEN
        left_behind := 'nothing';
    ELSE
        left_behind := format('%s: %s -> %s', to_regclass(name), before, dt_test.dt_footprint());
    END IF;
END
$$;

-- dt_test.check_all(pattern [, refresh]): dt_test.check of every dynamic
-- table whose name matches the LIKE pattern, in name order, each refreshed
-- first if refresh is true.
CREATE OR REPLACE FUNCTION dt_test.check_all(pattern text, refresh boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT relid FROM dt.dynamic_tables WHERE relid::text LIKE pattern ORDER BY relid::text LOOP
        IF refresh THEN
            PERFORM dt.refresh(t);
        END IF;
        PERFORM dt_test.check(t);
    END LOOP;
END $$;

-- dt_test.bad_value_counts([dt]): value counts of zero or less in the
-- auxiliary tables (per-group value counts) of dt, or of every dynamic
-- table: a merge deletes a value whose count reaches zero.
CREATE OR REPLACE FUNCTION dt_test.bad_value_counts(dt regclass DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    aux regclass;
    total bigint := 0;
    k bigint;
BEGIN
    FOR aux IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'dt_internal' AND c.relkind = 'r'
                  AND c.relname LIKE 'aux\_' || coalesce(dt::oid::text || '\_', '') || '%'
    LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE c <= 0', aux) INTO k;
        total := total + k;
    END LOOP;
    RETURN total;
END $$;

-- dt_test.diff_topn(dt, order_by): the oracle for a dynamic table whose
-- query ends in ORDER BY ... LIMIT n, where rows that tie on the ORDER BY
-- can be cut by the LIMIT: PostgreSQL may then return any of the tied
-- rows, and any answer it could give is right (issue 13).  order_by is the
-- query's ORDER BY over its output columns ('revenue DESC, o_orderdate').
-- The defining query without its LIMIT (as dt.dynamic_tables prints it,
-- the last line " LIMIT n") gives every row with its rank; the table is
-- right iff it has min(n, all rows) rows, holds every row whose ties all
-- rank within n (those are in every answer) and nothing but rows that rank
-- within n (the ties at the cut).  Where the ORDER BY orders every row, this
-- is an exact multiset comparison.  Rows compare by equality (numeric
-- equality ignores display scale), without diff's tolerance for floats.
-- Returns the rows that are wrong, as diff does.
CREATE OR REPLACE FUNCTION dt_test.diff_topn(dt regclass, order_by text)
RETURNS TABLE (side text, row_data text)
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    m text[];
    cols text;
BEGIN
    SELECT d.query INTO q FROM dt.dynamic_tables d
     WHERE (d.schema_name, d.table_name) =  -- columns of every version's view
           (SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = dt);
    IF q IS NULL THEN
        RAISE EXCEPTION '% is not a dynamic table', dt;
    END IF;
    m := regexp_match(q, '^(.*)\s+LIMIT\s+(\d+)\s*;?\s*$');
    IF m IS NULL THEN
        RAISE EXCEPTION 'the query of % does not end in LIMIT n', dt;
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute a WHERE a.attrelid = dt AND a.attnum > 0 AND NOT a.attisdropped;
    RETURN QUERY EXECUTE format($q$
        WITH r AS (SELECT %1$s, rank() OVER (ORDER BY %2$s) AS dt_test_rank,
                          count(*) OVER (ORDER BY %2$s) AS dt_test_through
                     FROM (%3$s) x),
             t AS (SELECT %1$s FROM %4$s)
        SELECT 'only in table', e::text
          FROM (SELECT * FROM t EXCEPT ALL SELECT %1$s FROM r WHERE dt_test_rank <= %5$s) e
        UNION ALL
        SELECT 'only in query', e::text
          FROM (SELECT %1$s FROM r WHERE dt_test_through <= %5$s EXCEPT ALL SELECT * FROM t) e
        UNION ALL
        SELECT 'row count', format('%%s rows, %%s expected', c.t, c.r)
          FROM (SELECT (SELECT count(*) FROM t) AS t, least(%5$s, (SELECT count(*) FROM r)) AS r) c
         WHERE c.t <> c.r$q$,
        cols, order_by, m[1], dt, m[2]);
END
$$;
