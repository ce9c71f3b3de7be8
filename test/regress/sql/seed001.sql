-- Seed 001 acceptance: the example of examples/seed001 (a financials fact
-- table joined with its asin and brand dimensions, summarised in three
-- tiers of dynamic tables) under seeded random writes on every table.
--
-- The example's files are loaded as they are (test/run runs pg_regress from
-- the top of the tree).  Then 20 rounds each write to financials (new rows,
-- corrections of amounts, dates moved to the next month, rows moved to
-- another ASIN, marketplace or metric, deletes), asin (ASINs moved to another
-- brand or to none, deleted, re-added, launched) and brand (moved to another
-- category, renamed, deleted and re-added), then refresh: the category
-- summary (which refreshes tiers 1 and 2 with it) and the 'ALL' brand
-- summary, in both orders, and in some rounds tier 1 or the middle tier
-- alone half-way through the writes, or inside the writing transaction.
-- After every refresh every tier must equal its defining query
-- (dt_test.check), and no refresh may be FULL.

\set ECHO none
\i examples/seed001/schema.sql
\i examples/seed001/generate.sql
\set ECHO all

-- A small catalogue and three months of sales, so that the oracle stays
-- fast.  Some rows name an ASIN the catalogue does not know; the rounds
-- give some ASINs no brand, or a brand that does not exist.
SELECT seed001.generate(1000, 0.0101, n_brands => 30, n_asins => 150,
                        since => date '2024-07-01', days => 92) AS financials;
SELECT count(*) AS brands, count(DISTINCT category) AS categories FROM seed001.brand;
SELECT count(*) AS asins, count(*) FILTER (WHERE brand_id IS NULL) AS without_brand FROM seed001.asin;
SELECT marketplace, count(*) FROM seed001.financials GROUP BY marketplace ORDER BY count(*) DESC, marketplace;

\set ECHO none
\i examples/seed001/dynamic_tables.sql
\set ECHO all
RESET search_path;

-- Every tier is incremental (refresh_mode 'incremental' would have refused
-- it otherwise), and reads what it should.
SELECT name, refresh_mode, inputs
  FROM dt.dynamic_tables WHERE relid::text LIKE 'seed001.%' ORDER BY relid::text;

-- Each tier equals its query after creation.  t_check(round, step, tiers)
-- checks the tiers named (by default all of them): a tier that was not
-- refreshed is behind its inputs, as it should be.
CREATE FUNCTION seed001.t_check(round int, step text,
                                tiers text[] DEFAULT ARRAY['asin_marketplace', 'brand',
                                                           'brand_combined', 'category'])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY tiers LOOP
        BEGIN
            PERFORM dt_test.check(('seed001.financials_summary_monthly_' || t)::regclass,
                                  '{updated_at}');
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'round %, %: %', round, step, SQLERRM;
        END;
    END LOOP;
END $$;
SELECT seed001.t_check(0, 'after creation');

SELECT (SELECT count(*) FROM seed001.financials_summary_monthly_asin_marketplace) AS tier1,
       (SELECT count(*) FROM seed001.financials_summary_monthly_brand) AS tier2,
       (SELECT count(*) FROM seed001.financials_summary_monthly_brand_combined) AS tier2_combined,
       (SELECT count(*) FROM seed001.financials_summary_monthly_category) AS tier3;

-- A refresh, raising if it was FULL.
CREATE FUNCTION seed001.t_refresh(dt regclass, round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a text;
BEGIN
    SELECT action INTO a FROM dt.refresh(dt);
    IF a NOT IN ('INCREMENTAL', 'NO_DATA') THEN
        RAISE EXCEPTION 'round %: refresh of % was %', round, dt, a;
    END IF;
END $$;

-- Writes to the fact table.  Rows and ASINs are picked by number from the
-- session's seeded random(), not by the order of a scan, so a round does
-- the same writes whatever the physical layout.
CREATE FUNCTION seed001.t_write_financials() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    max_id bigint;
    other text := seed001.asin_code(1 + floor(random() * 160)::int);
BEGIN
    PERFORM seed001.add_financials(5 + floor(random() * 15)::int, date '2024-07-01', 92);
    SELECT max(id) INTO max_id FROM seed001.financials;
    -- corrections
    UPDATE seed001.financials SET amount = amount + 1.25
     WHERE id IN (SELECT 1 + floor(random() * max_id)::bigint FROM generate_series(1, 6));
    -- posted a month later (into the next group, or a new one)
    UPDATE seed001.financials SET posted_date = posted_date + 31
     WHERE id IN (SELECT 1 + floor(random() * max_id)::bigint FROM generate_series(1, 3));
    -- booked against the wrong ASIN (sometimes one the catalogue does not know)
    UPDATE seed001.financials SET asin = other
     WHERE id IN (SELECT 1 + floor(random() * max_id)::bigint FROM generate_series(1, 3));
    UPDATE seed001.financials SET marketplace = 'UK', metric = 'refunds', amount = -amount
     WHERE id IN (SELECT 1 + floor(random() * max_id)::bigint FROM generate_series(1, 2));
    DELETE FROM seed001.financials
     WHERE id IN (SELECT 1 + floor(random() * max_id)::bigint FROM generate_series(1, 8));
END $$;

-- Writes to the dimension tables; t_log counts the kinds that happened.
CREATE TABLE seed001.t_log (kind text);
CREATE FUNCTION seed001.t_write_dimensions() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b int := 1 + floor(random() * 30)::int;
    b2 int := 1 + floor(random() * 32)::int;     -- 31 and 32 are not brands
    b3 int := 1 + floor(random() * 30)::int;
    a text := seed001.asin_code(1 + floor(random() * 150)::int);
    a2 text := seed001.asin_code(1 + floor(random() * 150)::int);
    a3 text := seed001.asin_code(1 + floor(random() * 150)::int);
    cat text := (seed001.categories())[1 + floor(random() * 20)::int];
    op float8 := random();
    flip float8 := random();
BEGIN
    -- ASINs move to another brand (or to none, or to one that does not exist)
    UPDATE seed001.asin SET brand_id = CASE WHEN op < 0.15 THEN NULL ELSE b2 END WHERE asin = a;
    UPDATE seed001.asin SET brand_id = b WHERE asin = a2;
    -- a brand moves to another category, or is renamed
    IF flip < 0.5 THEN
        UPDATE seed001.brand SET category = cat WHERE brand_id = b;
        INSERT INTO seed001.t_log VALUES ('brand moved to another category');
    ELSE
        UPDATE seed001.brand SET name = name || ' Co' WHERE brand_id = b3;
        INSERT INTO seed001.t_log VALUES ('brand renamed');
    END IF;
    IF op < 0.25 THEN
        -- a brand is deleted: its ASINs' rows stop matching
        DELETE FROM seed001.brand WHERE brand_id = b3;
        INSERT INTO seed001.t_log VALUES ('brand deleted');
    ELSIF op < 0.45 THEN
        -- and deleted brands come back, perhaps in another category
        INSERT INTO seed001.brand (brand_id, name, category)
        SELECT g, 'Reborn ' || g, (seed001.categories())[1 + (g % 20)]
          FROM generate_series(1, 30) g
        ON CONFLICT (brand_id) DO NOTHING;
        INSERT INTO seed001.t_log VALUES ('brands re-added');
    ELSIF op < 0.60 THEN
        -- an ASIN is deleted
        DELETE FROM seed001.asin WHERE asin = a3;
        INSERT INTO seed001.t_log VALUES ('asin deleted');
    ELSIF op < 0.75 THEN
        -- deleted ASINs come back, and a new one (or one the financials
        -- already named) is launched
        INSERT INTO seed001.asin (asin, brand_id, title)
        SELECT seed001.asin_code(i), 1 + (i * 7) % 30, 'Relisted ' || i
          FROM generate_series(1, 150 + (b % 3)) i
        ON CONFLICT (asin) DO NOTHING;
        INSERT INTO seed001.t_log VALUES ('asins re-added');
    ELSIF op < 0.85 THEN
        -- a brand deleted and re-added in the same transaction, in another
        -- category and with another name
        DELETE FROM seed001.brand WHERE brand_id = b2;
        INSERT INTO seed001.brand (brand_id, name, category) VALUES (b2, 'Renamed ' || b2, cat)
        ON CONFLICT (brand_id) DO NOTHING;
        INSERT INTO seed001.t_log VALUES ('brand deleted and re-added');
    ELSE
        -- an ASIN deleted and re-added under another brand, with a sale
        DELETE FROM seed001.asin WHERE asin = a;
        INSERT INTO seed001.asin (asin, brand_id, title) VALUES (a, b, 'Moved')
        ON CONFLICT (asin) DO NOTHING;
        INSERT INTO seed001.financials (asin, marketplace, posted_date, metric, amount)
        VALUES (a, 'DE', date '2024-09-15', 'revenue', 19.99);
        INSERT INTO seed001.t_log VALUES ('asin deleted and re-added');
    END IF;
END $$;

-- 20 rounds.  Each commits its writes and refreshes in separate
-- transactions, except every third round, which refreshes inside the
-- writing transaction.
SELECT setseed(0.2024);
DO $$
BEGIN
    FOR round IN 1 .. 20 LOOP
        PERFORM seed001.t_write_financials();
        PERFORM seed001.t_write_dimensions();
        IF round % 3 <> 0 THEN
            COMMIT;
        END IF;
        IF round % 4 = 1 THEN
            -- the middle tier alone (it refreshes tier 1 with it), then
            -- more writes before the whole chain
            PERFORM seed001.t_refresh('seed001.financials_summary_monthly_brand', round);
            PERFORM seed001.t_check(round, 'middle tier alone', '{asin_marketplace, brand}');
            COMMIT;
            PERFORM seed001.t_write_financials();
            PERFORM seed001.t_write_dimensions();
            COMMIT;
        ELSIF round % 5 = 2 THEN
            -- tier 1 alone: the tiers below it consume its changes later
            PERFORM seed001.t_refresh('seed001.financials_summary_monthly_asin_marketplace', round);
            PERFORM seed001.t_check(round, 'tier 1 alone', '{asin_marketplace}');
            COMMIT;
            PERFORM seed001.t_write_dimensions();
            COMMIT;
        END IF;
        IF round % 2 = 0 THEN
            PERFORM seed001.t_refresh('seed001.financials_summary_monthly_category', round);
            PERFORM seed001.t_refresh('seed001.financials_summary_monthly_brand_combined', round);
        ELSE
            PERFORM seed001.t_refresh('seed001.financials_summary_monthly_brand_combined', round);
            PERFORM seed001.t_refresh('seed001.financials_summary_monthly_category', round);
        END IF;
        PERFORM seed001.t_check(round, 'end of round');
        COMMIT;
    END LOOP;
END $$;

-- Every refresh after creation was incremental or had nothing to do, and
-- every one succeeded.
SELECT refresh_trigger, refresh_action, state, count(*) > 0 AS happened
  FROM dt.refresh_history WHERE name LIKE 'seed001.%'
 GROUP BY refresh_trigger, refresh_action, state
 ORDER BY refresh_trigger, refresh_action, state;
SELECT name, count(*) FILTER (WHERE refresh_action = 'INCREMENTAL') > 0 AS some_incremental,
       count(*) FILTER (WHERE refresh_trigger <> 'CREATION' AND refresh_action NOT IN ('INCREMENTAL', 'NO_DATA')) AS not_incremental
  FROM dt.refresh_history WHERE name LIKE 'seed001.%'
 GROUP BY name ORDER BY name;

-- Every kind of dimension write happened (besides an ASIN or two moved to
-- another brand and financials writes in every call).
SELECT kind, count(*) FROM seed001.t_log GROUP BY kind ORDER BY kind;
SELECT count(*) AS financials FROM seed001.financials;

-- The seed's combined brand summary: per-marketplace and 'ALL' rows.
SELECT count(DISTINCT marketplace) AS marketplaces,
       count(*) FILTER (WHERE marketplace = 'ALL') > 0 AS all_rows,
       count(*) FILTER (WHERE marketplace <> 'ALL') = (SELECT count(*) FROM seed001.financials_summary_monthly_brand) AS marketplace_rows
  FROM seed001.financials_summary_monthly_brand_combined;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA seed001 CASCADE;
RESET client_min_messages;
SELECT count(*) AS dynamic_tables_left FROM dt.dynamic_tables WHERE relid::text LIKE 'seed001.%';
