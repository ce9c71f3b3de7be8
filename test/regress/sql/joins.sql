-- Inner joins maintained incrementally.  A fact table and two dimension
-- tables take seeded random writes on every table: sales come and go and
-- move between products, products move to another category, change
-- weight, disappear (their sales stop matching) and come back, categories
-- are renamed.  After every round each dynamic table must equal its
-- defining query, and every refresh must have been incremental.

CREATE TABLE category (category_id int PRIMARY KEY, name text);
CREATE TABLE product (product_id int PRIMARY KEY, category_id int, name text, weight numeric);
CREATE TABLE sale (id serial PRIMARY KEY, product_id int, region text, amount numeric, qty int);
CREATE INDEX ON sale (product_id);

SELECT setseed(0.4242);
INSERT INTO category SELECT g, 'cat' || g FROM generate_series(1, 5) g;
INSERT INTO product SELECT g, 1 + g % 6, 'p' || g, g * 1.5 FROM generate_series(1, 40) g;
CREATE FUNCTION add_sales(cnt int) RETURNS void LANGUAGE sql AS $$
INSERT INTO sale (product_id, region, amount, qty)
SELECT 1 + floor(random() * 45)::int,                -- some match no product
       (ARRAY['north', 'south', NULL])[1 + floor(random() * 3)::int],
       round((random() * 100)::numeric, 2),
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 5)::int END
  FROM generate_series(1, cnt)
$$;
SELECT add_sales(300);

-- JOIN ... ON and USING, grouped by columns of two tables, with holistic
-- aggregates over columns of both.
SELECT dt.create_dynamic_table('j_cat', $$
SELECT c.name AS category, s.region,
       count(*) AS n, sum(s.amount) AS total, avg(s.qty) AS avg_qty,
       min(s.amount) AS min_amount, max(p.weight) AS max_weight,
       count(DISTINCT p.product_id) AS products,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.amount) AS median_amount
  FROM sale s
  JOIN product p ON p.product_id = s.product_id
  JOIN category c USING (category_id)
 GROUP BY c.name, s.region
$$, refresh_mode => 'incremental');

-- Comma joins with the condition in WHERE, an expression over both sides,
-- a filter, HAVING.
SELECT dt.create_dynamic_table('j_weight', $$
SELECT p.category_id, sum(s.qty * p.weight) AS weight, count(*) AS n
  FROM sale s, product p
 WHERE s.product_id = p.product_id AND s.qty > 1
 GROUP BY p.category_id
HAVING count(*) > 2
$$, refresh_mode => 'incremental');

-- A self-join: pairs of products in the same category.
SELECT dt.create_dynamic_table('j_pairs', $$
SELECT a.category_id, count(*) AS pairs, sum(a.weight + b.weight) AS weight
  FROM product a JOIN product b ON a.category_id = b.category_id AND a.product_id < b.product_id
 GROUP BY a.category_id
$$, refresh_mode => 'incremental');

-- No GROUP BY: one row.
SELECT dt.create_dynamic_table('j_total', $$
SELECT count(*) AS n, sum(s.amount) AS total, max(c.name) AS last_category
  FROM sale s JOIN product p USING (product_id) JOIN category c USING (category_id)
$$, refresh_mode => 'incremental');

-- A dynamic table over the join's dynamic table.
SELECT dt.create_dynamic_table('j_by_category', $$
SELECT category, sum(n) AS n, sum(total) AS total FROM j_cat GROUP BY category
$$, refresh_mode => 'incremental');

SELECT name, refresh_mode, inputs FROM dt.dynamic_tables WHERE relid::text LIKE 'j\_%' ORDER BY relid::text;

CREATE FUNCTION refresh_all() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dt.refresh('j_cat');
    PERFORM dt.refresh('j_weight');
    PERFORM dt.refresh('j_pairs');
    PERFORM dt.refresh('j_total');
    PERFORM dt.refresh('j_by_category');
END $$;

CREATE FUNCTION check_all() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dt_test.check('j_cat');
    PERFORM dt_test.check('j_weight');
    PERFORM dt_test.check('j_pairs');
    PERFORM dt_test.check('j_total');
    PERFORM dt_test.check('j_by_category');
END $$;

CREATE FUNCTION write_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    op float8;
BEGIN
    FOR step IN 1 .. 4 LOOP
        op := random();
        IF op < 0.25 THEN
            PERFORM add_sales(10 + floor(random() * 20)::int);
        ELSIF op < 0.35 THEN
            UPDATE sale SET product_id = 1 + floor(random() * 45)::int, amount = amount + 1
             WHERE id IN (SELECT id FROM sale ORDER BY random() LIMIT 8);
        ELSIF op < 0.45 THEN
            DELETE FROM sale WHERE id IN (SELECT id FROM sale ORDER BY random() LIMIT 10);
        ELSIF op < 0.55 THEN
            -- products move to another category (or to none that exists)
            UPDATE product SET category_id = 1 + floor(random() * 6)::int
             WHERE product_id IN (SELECT product_id FROM product ORDER BY random() LIMIT 3);
        ELSIF op < 0.62 THEN
            UPDATE product SET weight = weight * 2
             WHERE product_id IN (SELECT product_id FROM product ORDER BY random() LIMIT 4);
        ELSIF op < 0.70 THEN
            UPDATE category SET name = name || '+' WHERE category_id = 1 + floor(random() * 5)::int;
        ELSIF op < 0.78 THEN
            -- a product disappears; its sales stop matching
            DELETE FROM product WHERE product_id = (SELECT product_id FROM product ORDER BY random() LIMIT 1);
        ELSIF op < 0.86 THEN
            -- and products come back
            INSERT INTO product
            SELECT g, 1 + floor(random() * 6)::int, 'q' || g, round((random() * 50)::numeric, 1)
              FROM generate_series(1, 45) g
            ON CONFLICT (product_id) DO NOTHING;
        ELSIF op < 0.93 THEN
            -- both sides in one statement's transaction
            UPDATE product SET category_id = category_id % 5 + 1 WHERE product_id % 7 = step;
            PERFORM add_sales(5);
        ELSE
            INSERT INTO category VALUES (6, 'six') ON CONFLICT (category_id) DO UPDATE SET name = 'six again';
        END IF;
    END LOOP;
END $$;

DO $$
BEGIN
    FOR round IN 1 .. 30 LOOP
        PERFORM write_round();
        PERFORM refresh_all();
        PERFORM check_all();
        COMMIT;
    END LOOP;
END $$;

-- Every refresh after creation was incremental (or had nothing to do).
SELECT refresh_action, count(*) > 0 AS happened
  FROM dt.refresh_history
 WHERE relid = ANY (ARRAY['j_cat', 'j_weight', 'j_pairs', 'j_total', 'j_by_category']::regclass[]::oid[])
   AND refresh_trigger = 'MANUAL'
 GROUP BY refresh_action ORDER BY refresh_action;

-- A change to a dimension table only: the refresh reads that change and
-- the fact rows it joins, and gets it right.
UPDATE category SET name = 'renamed' WHERE category_id = 2;
SELECT action FROM dt.refresh('j_cat');
SELECT dt_test.check('j_cat');

-- Outer joins are not merged: the groups the changes touch are recomputed.
SELECT dt.create_dynamic_table('j_left', $$
SELECT p.category_id, count(s.id) AS n FROM product p LEFT JOIN sale s USING (product_id) GROUP BY p.category_id
$$);
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'j_left'::regclass;

-- Columns read through a join's alias (j.region of FROM (sale JOIN
-- product ...) j), in the group key, an aggregate and a correlated
-- subquery: the statements name the tables they are read from (the
-- creation failed: missing FROM-clause entry for table "t3").
SELECT dt.create_dynamic_table('j_alias', $$
SELECT j.region, j.category_id, count(*) AS n, sum(j.weight) AS w
  FROM (sale JOIN product USING (product_id)) j
 WHERE EXISTS (SELECT FROM category c WHERE c.category_id = j.category_id)
 GROUP BY j.region, j.category_id
$$, refresh_mode => 'incremental');
UPDATE product SET category_id = 3 WHERE product_id IN (4, 5);
UPDATE sale SET region = 'west' WHERE id % 7 = 0;
DELETE FROM category WHERE category_id = 1;
SELECT action FROM dt.refresh('j_alias');
SELECT dt_test.check('j_alias');

-- and by affected-key recompute (an outer join), its refresh explained
-- (ruleutils recursed through the join's alias until the stack ran out)
SELECT dt.create_dynamic_table('j_alias_rows', $$
SELECT j.id, j.region, j.weight FROM (sale LEFT JOIN product USING (product_id)) j WHERE j.qty > 1
$$, refresh_mode => 'incremental');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'j_alias_rows'::regclass;
UPDATE product SET weight = weight + 1 WHERE product_id IN (4, 7);
UPDATE sale SET qty = 4 WHERE id % 5 = 0;
SELECT count(*) > 0 AS explained FROM dt.explain_refresh('j_alias_rows');
SELECT action FROM dt.refresh('j_alias_rows');
SELECT dt_test.check('j_alias_rows');

-- and an inner join's alias over a subquery merged into the level (its
-- statement named the join, gone from its FROM list: missing FROM-clause
-- entry for table "j")
SELECT dt.create_dynamic_table('j_alias_merged', $$
SELECT j.id, j.region, j.name FROM (sale JOIN (SELECT product_id, name FROM product WHERE weight > 10) p USING (product_id)) j
$$, refresh_mode => 'incremental');
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'j_alias_merged'::regclass;
UPDATE product SET weight = weight + 20 WHERE product_id IN (2, 3);
UPDATE product SET name = 'renamed' WHERE product_id IN (9, 30);
SELECT action FROM dt.refresh('j_alias_merged');
SELECT dt_test.check('j_alias_merged');

-- A whole-row reference to a join (row_to_json(j)) is not merged: it
-- was, as a ROW() of the columns, whose names it lost (keys f1, f2...).
SELECT dt.create_dynamic_table('j_alias_whole', $$
SELECT j.category_id, count(*) AS n, max(row_to_json(j)::text) AS r
  FROM (product JOIN category USING (category_id)) j GROUP BY j.category_id
$$);
SELECT refresh_mode, refresh_mode_reason FROM dt.dynamic_tables WHERE relid = 'j_alias_whole'::regclass;
SELECT dt_test.check('j_alias_whole');
UPDATE category SET name = name || '.' WHERE category_id = 2;
UPDATE product SET weight = weight * 2 WHERE product_id = 8;
SELECT action FROM dt.refresh('j_alias_whole');
SELECT dt_test.check('j_alias_whole');

SET client_min_messages = warning;
DROP TABLE sale, product, category CASCADE;
RESET client_min_messages;
SELECT count(*) AS dynamic_tables_left FROM dt.dynamic_tables WHERE relid::text LIKE 'j\_%';
