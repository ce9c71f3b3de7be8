-- test/oracle.sql: the correctness oracle of every test (DESIGN.md, "How
-- correctness is proven").  Loaded into the test databases by test/run.
--
-- dt_test.diff(dt) compares the content of a dynamic table with its
-- defining query evaluated now, as multisets.  Rows are paired on their
-- exactly comparable columns (one hash join, so large tables check fast);
-- floating-point and numeric columns must then
-- agree within a relative tolerance (summation order differs).  Columns
-- named in ignore (the refreshed_at of seed 000, which is the time of the
-- refresh by definition) are left out.  It returns the rows that differ,
-- so "SELECT count(*) FROM dt_test.diff(...)" is 0 when the table is right.
--
-- dt_test.check(dt) raises an error with the first differences instead.

CREATE SCHEMA IF NOT EXISTS dt_test;

CREATE OR REPLACE FUNCTION dt_test.diff(dt regclass, ignore text[] DEFAULT '{}',
                                         tolerance float8 DEFAULT 1e-9)
RETURNS TABLE (side text, row_data text)
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    exact text[] := '{}';
    approx text[] := '{}';
    col record;
    exact_list text;
    approx_list text;
    part text;
    ord text;
    cond text := 'true';
    sql text;
BEGIN
    SELECT d.query INTO q FROM dt.dynamic_tables d
     WHERE (d.schema_name, d.table_name) =  -- columns of every version's view
           (SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = dt);
    IF q IS NULL THEN
        RAISE EXCEPTION '% is not a dynamic table', dt;
    END IF;
    FOR col IN
        SELECT a.attname, a.atttypid
          FROM pg_attribute a
         WHERE a.attrelid = dt AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname <> ALL (ignore)
         ORDER BY a.attnum
    LOOP
        IF col.atttypid IN ('float4'::regtype, 'float8'::regtype, 'numeric'::regtype) THEN
            approx := approx || quote_ident(col.attname);
        ELSE
            exact := exact || quote_ident(col.attname);
        END IF;
    END LOOP;

    exact_list := array_to_string(exact, ', ');
    approx_list := array_to_string(approx, ', ');
    part := CASE WHEN exact_list = '' THEN '' ELSE 'PARTITION BY ' || exact_list END;
    ord := CASE WHEN approx_list = '' THEN '' ELSE 'ORDER BY ' || approx_list END;
    -- pair on one record of the exact columns and the rank: record equality
    -- takes NULLs as equal and hashes, so the pairing is one hash join
    cond := 'a.dt_test_key = b.dt_test_key';

    sql := format($q$
        WITH a0 AS (SELECT %1$s%2$s row_number() OVER (%3$s %4$s) AS dt_test_rn, x::text AS dt_test_row
                      FROM %5$s x),
             b0 AS (SELECT %1$s%2$s row_number() OVER (%3$s %4$s) AS dt_test_rn, y::text AS dt_test_row
                      FROM (%6$s) y),
             a AS (SELECT a0.*, ROW(%9$sdt_test_rn) AS dt_test_key FROM a0),
             b AS (SELECT b0.*, ROW(%9$sdt_test_rn) AS dt_test_key FROM b0)
        SELECT CASE WHEN a.dt_test_rn IS NULL THEN 'only in query'
                    WHEN b.dt_test_rn IS NULL THEN 'only in table'
                    ELSE 'values differ' END,
               coalesce(a.dt_test_row, '') || ' / ' || coalesce(b.dt_test_row, '')
          FROM a FULL JOIN b ON %7$s
         WHERE a.dt_test_rn IS NULL OR b.dt_test_rn IS NULL %8$s$q$,
        exact_list, CASE WHEN exact_list = '' THEN '' ELSE ', ' END
                    || CASE WHEN approx_list = '' THEN '' ELSE approx_list || ', ' END,
        part, ord, dt, q, cond,
        (SELECT coalesce(string_agg(format(
             ' OR NOT (a.%1$s IS NOT DISTINCT FROM b.%1$s OR abs(a.%1$s::float8 - b.%1$s::float8) '
             '<= %2$s * greatest(abs(a.%1$s::float8), abs(b.%1$s::float8)))', c, tolerance), ''), '')
           FROM unnest(approx) c),
        CASE WHEN exact_list = '' THEN '' ELSE exact_list || ', ' END);
    RETURN QUERY EXECUTE sql;
END
$$;

CREATE OR REPLACE FUNCTION dt_test.check(dt regclass, ignore text[] DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    first text;
BEGIN
    SELECT count(*), min(side || ': ' || row_data) INTO n, first FROM dt_test.diff(dt, ignore);
    IF n > 0 THEN
        RAISE EXCEPTION 'dynamic table % differs from its query in % rows, e.g. %', dt, n, first;
    END IF;
END
$$;
