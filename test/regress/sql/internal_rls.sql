-- A DT whose subqueries are internal DTs, over a table on which its owner
-- enables row-level security (policies that do not apply to the owner,
-- who owns the table): its plans are full for now and run the query as
-- written, over the inputs of the internal DTs.  Their changes are
-- consumed by the internal DTs' refreshes, so a window over them cannot
-- say nothing changed: every refresh is full (it said NO_DATA and kept
-- the old maximum), and once the policies go the internal tables are
-- rebuilt.
CREATE TABLE rc (id int PRIMARY KEY, region text);
CREATE TABLE ro (id serial PRIMARY KEY, cust int, amount int);
INSERT INTO rc SELECT i, 'r' || i % 3 FROM generate_series(1, 10) i;
INSERT INTO ro (cust, amount) SELECT i % 10 + 1, i FROM generate_series(1, 300) i;
SELECT dt.create_dynamic_table('rls_top', $$
WITH revenue (cust, total) AS (SELECT cust, sum(amount) FROM ro GROUP BY cust)
SELECT rc.id, rc.region, revenue.total
  FROM rc, revenue
 WHERE rc.id = revenue.cust
   AND revenue.total = (SELECT max(total) FROM revenue)
$$, refresh_mode => 'incremental') IS NOT NULL AS created;
INSERT INTO ro (cust, amount) VALUES (1, 100000);
SELECT action FROM dt.refresh('rls_top');
SELECT dt_test.check('rls_top');
ALTER TABLE rc ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON rc USING (id < 8);
INSERT INTO ro (cust, amount) VALUES (2, 900000);
SELECT action FROM dt.refresh('rls_top');
SELECT dt_test.check('rls_top');
SELECT state_message FROM dt.refresh_history WHERE relid = 'rls_top'::regclass
 ORDER BY refresh_id DESC LIMIT 1;
INSERT INTO ro (cust, amount) VALUES (4, 1900000);
SELECT action FROM dt.refresh('rls_top');
SELECT dt_test.check('rls_top');
DROP POLICY p ON rc;
ALTER TABLE rc DISABLE ROW LEVEL SECURITY;
INSERT INTO ro (cust, amount) VALUES (7, 2900000);
SELECT action FROM dt.refresh('rls_top');
SELECT dt_test.check('rls_top');
INSERT INTO ro (cust, amount) VALUES (8, 3900000);
SELECT action FROM dt.refresh('rls_top');
SELECT dt_test.check('rls_top');
SELECT dt.drop_dynamic_table('rls_top');
DROP TABLE rc, ro;
