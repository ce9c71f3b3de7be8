-- The value counts of a DT (its auxiliary tables) are filled with room
-- left on every page (fill factor 85), so that a merge that changes the
-- count of a value already counted updates it in place: a HOT update, on
-- the page the count was on, with no new index entry.  A fill packed the
-- pages full, and every such update then moved its row to another page
-- and inserted into the index again (the most of a refresh at 10M rows).

CREATE SCHEMA dt_vch;
SET search_path = dt_vch, public;

CREATE TABLE v (id int PRIMARY KEY, g int, x int);
INSERT INTO v SELECT i, i % 2, i FROM generate_series(1, 4000) i;
SELECT dt.create_dynamic_table('vc', $$
SELECT g, count(*) AS n, count(DISTINCT x) AS dx, max(x) AS max_x,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS med_x
  FROM v GROUP BY g
$$, refresh_mode => 'incremental');

-- counts(): the value counts of x up to 12, with the page each is on
CREATE FUNCTION counts() RETURNS TABLE (v int, c bigint, page int) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT a.v, a.c, (a.ctid::text::point)[0]::int FROM %s a WHERE a.v <= 12',
                                (SELECT c.oid::regclass FROM pg_class c
                                  WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relkind = 'r'
                                    AND c.relname ~ ('^aux_' || 'dt_vch.vc'::regclass::oid || '_')));
END $$;
CREATE TABLE before AS SELECT * FROM counts();
SELECT count(*) AS counted FROM before;

-- The fill leaves more room than that (refresh.c, AUX_FILL_FILLFACTOR:
-- 70%), the table keeping 85 for the rows a merge adds: PostgreSQL prunes
-- a page on every visit once its free space is below the table's fill
-- factor's share, so a page filled just to 85% was pruned each time a
-- merge updated a count on it.  The fullest page's rows (line pointers
-- included) take at most 70% of it.
CREATE FUNCTION fill() RETURNS TABLE (fullest_page numeric, reloptions text[]) LANGUAGE plpgsql AS $$
DECLARE
    aux regclass := (SELECT c.oid FROM pg_class c
                      WHERE c.relnamespace = 'dt_internal'::regnamespace AND c.relkind = 'r'
                        AND c.relname ~ ('^aux_' || 'dt_vch.vc'::regclass::oid || '_'));
BEGIN
    RETURN QUERY EXECUTE format('SELECT round(max(p.bytes)::numeric / %s, 2), (SELECT c.reloptions FROM pg_class c WHERE c.oid = %s)
                                   FROM (SELECT sum(pg_column_size(a.*) + 4) AS bytes FROM %s a
                                          GROUP BY (a.ctid::text::point)[0]) p',
                                current_setting('block_size'), aux::oid, aux);
END $$;
SELECT * FROM fill();

-- a second row for each of those values: every count goes 1 -> 2, in place
INSERT INTO v SELECT 10000 + x, x % 2, x FROM generate_series(1, 12) x;
SELECT action FROM dt.refresh('vc');
SELECT count(*) FILTER (WHERE a.c = b.c + 1) AS counted_again,
       count(*) FILTER (WHERE a.page = b.page) AS on_the_same_page
  FROM counts() a JOIN before b USING (v);
SELECT count(*) AS differences FROM dt_test.diff('vc');
SELECT dt_test.bad_value_counts('vc');

-- and back (1 -> 0 removes the row): still exact
DELETE FROM v WHERE id > 10000 OR id IN (3, 4000);
SELECT action FROM dt.refresh('vc');
SELECT count(*) AS differences FROM dt_test.diff('vc');
SELECT count(*) AS counted FROM counts();

-- A fill run inside a DDL command, where event triggers are (the
-- extension's own sql_drop one): its fill factor is set without ALTER
-- TABLE's machinery, which took itself for a subcommand of that command
-- (CREATE TABLE ... AS crashed PostgreSQL up to 15.18).
CREATE TABLE made AS
SELECT dt.create_dynamic_table('vc_made', $$ SELECT g, max(x) AS max_x FROM v GROUP BY g $$,
                               refresh_mode => 'incremental') AS dt;
SELECT count(*) AS differences FROM dt_test.diff('vc_made');

DROP SCHEMA dt_vch CASCADE;
