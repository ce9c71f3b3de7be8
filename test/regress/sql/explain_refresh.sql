-- dt.explain_refresh(name): what a refresh would do now, without doing it:
-- how each part of the query is maintained, the action and why, the
-- changes pending per input, and the statements.  Guards: it follows the
-- changes (NO_DATA, INCREMENTAL, FULL after TRUNCATE), refreshes nothing,
-- matches the action the refresh then takes, checks its argument, and
-- shows the action, counts and statements (which quote the query's
-- constants) only to roles entitled to the table's data.

CREATE SCHEMA dt_expl;
SET search_path = dt_expl, public;
CREATE TABLE sales (id int PRIMARY KEY, region text, amount numeric, qty int);
CREATE TABLE regions (region text PRIMARY KEY, zone text);
INSERT INTO regions VALUES ('north', 'A'), ('south', 'B');
INSERT INTO sales SELECT g, CASE WHEN g % 2 = 0 THEN 'north' ELSE 'south' END, g, g % 5 FROM generate_series(1, 20) g;
SELECT dt.create_dynamic_table('by_zone', $$
    SELECT r.zone, count(*) AS n, sum(s.amount) AS total, max(s.qty) AS top,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY s.amount) AS median
      FROM sales s JOIN regions r USING (region) WHERE s.amount > 1 GROUP BY r.zone $$);
CREATE INDEX ON sales (region);
SELECT dt.create_dynamic_table('latest', $$
    SELECT DISTINCT ON (region) region, id, amount FROM sales ORDER BY region, id DESC $$);
SELECT dt.create_dynamic_table('ranked', 'SELECT id, rank() OVER (ORDER BY amount) AS r FROM sales');

-- the statements, shortened: their first words and whether they quote the query's constant
CREATE FUNCTION explain(t regclass) RETURNS TABLE (step int, kind text, object text, detail text)
LANGUAGE sql AS $$
SELECT step, kind, object,
       CASE WHEN kind = 'statement' THEN left(regexp_replace(detail, '[0-9]+', 'N', 'g'), 30) || CASE WHEN detail LIKE '%> (1)::numeric%' OR detail LIKE '%> 1::numeric%'
                                                              THEN ' ... (the query''s filter)' ELSE ' ...' END
            ELSE detail END
  FROM dt.explain_refresh(t)
$$;

-- Nothing changed: NO_DATA, no statement
SELECT * FROM explain('by_zone');
-- Changes to both inputs: INCREMENTAL, counts per input, the statements
INSERT INTO sales VALUES (21, 'north', 7, 3), (22, 'south', 8, 1);
UPDATE regions SET zone = 'C' WHERE region = 'south';
SELECT * FROM explain('by_zone');
SELECT action FROM dt.refresh('by_zone');
SELECT dt_test.check('by_zone');
-- Recompute by key, and a TRUNCATE (FULL)
DELETE FROM sales WHERE id = 3;
SELECT * FROM explain('latest');
SELECT action FROM dt.refresh('latest');
TRUNCATE regions;
SELECT kind, object, detail FROM dt.explain_refresh('by_zone') WHERE kind IN ('action', 'input');
SELECT action FROM dt.refresh('by_zone');
-- A table over an internal table: when only the internal table's inputs
-- changed, its refresh refreshes the internal table first and reads what
-- that changed (explain said NO_DATA, and the refresh was incremental)
SELECT dt.create_dynamic_table('sizes', $$
    SELECT n, count(*) AS regions FROM (SELECT region, count(*) AS n FROM sales GROUP BY region) c GROUP BY n $$);
SELECT kind, detail FROM dt.explain_refresh('sizes') WHERE kind = 'action';
INSERT INTO sales VALUES (30, 'north', 9, 2);
SELECT kind, detail FROM dt.explain_refresh('sizes') WHERE kind = 'action';
SELECT action FROM dt.refresh('sizes');
SELECT dt_test.check('sizes');
-- A query neither strategy maintains: FULL, with the reason
SELECT kind, object, detail FROM dt.explain_refresh('ranked') WHERE kind <> 'statement';
-- Explaining refreshes nothing
SELECT count(*) AS refreshes FROM dt.refresh_history WHERE relid = 'ranked'::regclass;

-- Input: not a dynamic table, a dropped OID, NULL (STRICT)
SELECT * FROM dt_test.fails($$SELECT * FROM dt.explain_refresh('sales')$$);
SELECT * FROM dt_test.fails($$SELECT * FROM dt.explain_refresh(999999::oid::regclass)$$);
SELECT count(*) FROM dt.explain_refresh(NULL);

-- Another role that may not read the table is refused (how it is
-- maintained, its keys and internal tables are not shown to it); with
-- SELECT on it, it sees the strategy and the parts, not the action, the
-- counts or the statements; with pg_read_all_stats it sees them
CREATE ROLE dt_expl_other;
GRANT USAGE ON SCHEMA dt_expl TO dt_expl_other;
INSERT INTO sales VALUES (23, 'north', 9, 2);
SET ROLE dt_expl_other;
SELECT * FROM dt.explain_refresh('dt_expl.latest');
RESET ROLE;
GRANT SELECT ON latest TO dt_expl_other;
SET ROLE dt_expl_other;
SELECT kind, object, detail FROM dt.explain_refresh('dt_expl.latest');
RESET ROLE;
GRANT pg_read_all_stats TO dt_expl_other;
SET ROLE dt_expl_other;
SELECT kind, object, detail IS NOT NULL AS shown FROM dt.explain_refresh('dt_expl.latest') WHERE kind IN ('action', 'input', 'statement');
RESET ROLE;

SET client_min_messages = warning;
DROP SCHEMA dt_expl CASCADE;
DROP ROLE dt_expl_other;
RESET client_min_messages;
