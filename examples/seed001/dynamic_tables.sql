-- Seed 001: the dashboard's three tiers of summary tables, as dynamic
-- tables.  The seed rebuilt them with a daily cron job; here each is kept
-- within its target lag and refreshed incrementally: every tier is created
-- with refresh_mode 'incremental', so creating one fails, naming the
-- construct, if it could not be maintained incrementally.
--
--   financials x asin x brand
--     -> financials_summary_monthly_asin_marketplace   (tier 1: ASIN + marketplace + month + metric)
--          -> financials_summary_monthly_brand         (tier 2: brand + marketplace + month + metric)
--               -> financials_summary_monthly_category (tier 3: category + month + metric)
--          -> financials_summary_monthly_brand_combined (tier 2 as the seed has it: per marketplace and 'ALL')
--
-- The seed's brand summary holds both the per-marketplace rows and an 'ALL'
-- marketplace row per brand, month and metric: that is
-- financials_summary_monthly_brand_combined, one GROUPING SETS query over
-- tier 1.  The per-marketplace tier 2 that tier 3 reads merges its changes;
-- the combined one recomputes the brands the changes touch.

-- Each tier reads the one above it, so a refresh of the category summary
-- refreshes tiers 1 and 2 with it, in one transaction and one snapshot.
-- Tier 1 keeps brand_id, the brand's name and its category in its group
-- key, so that the tiers below it need no join: a change to an asin or brand
-- row (an ASIN moving to another brand, a brand renamed or moved to another
-- category) reaches tier 1 through its join, and the tiers below through
-- tier 1's changes.
--
-- :lag is the target lag of every tier (psql -v lag="'1 hour'"); it defaults
-- to 1 minute.  updated_at is CURRENT_TIMESTAMP: the time of the refresh
-- that last wrote the row (the seed's "last updated" monitoring query works
-- unchanged).

SET search_path = seed001, public;
\if :{?lag}
\else
\set lag '''1 minute'''
\endif

-- Tier 1: per ASIN, marketplace, month and metric; the drill-down by product.
SELECT dt.create_dynamic_table('seed001.financials_summary_monthly_asin_marketplace', $$
SELECT
    f.asin,
    a.brand_id,
    b.name AS brand_name,
    b.category,
    f.marketplace,
    date_trunc('month', f.posted_date)::date AS month,
    f.metric,
    sum(f.amount) AS total_amount,
    count(*) AS transaction_count,
    min(f.amount) AS min_amount,
    max(f.amount) AS max_amount,
    CURRENT_TIMESTAMP AS updated_at
FROM seed001.financials f
JOIN seed001.asin a ON a.asin = f.asin
JOIN seed001.brand b ON b.brand_id = a.brand_id
GROUP BY f.asin, a.brand_id, b.name, b.category, f.marketplace,
         date_trunc('month', f.posted_date)::date, f.metric
$$, target_lag => :lag, refresh_mode => 'incremental');

-- The seed's indexes on tier 1; the first also finds a brand's rows for
-- the combined brand summary below.
CREATE INDEX ON seed001.financials_summary_monthly_asin_marketplace (brand_id, marketplace, month, metric);
CREATE INDEX ON seed001.financials_summary_monthly_asin_marketplace (category, marketplace, month, metric);

-- Tier 2: per brand, marketplace, month and metric, from tier 1; the
-- dashboard and the profitability pages.
SELECT dt.create_dynamic_table('seed001.financials_summary_monthly_brand', $$
SELECT
    brand_id,
    brand_name,
    category,
    marketplace,
    month,
    metric,
    sum(total_amount) AS total_amount,
    sum(transaction_count) AS transaction_count,
    count(*) AS asin_count,
    min(min_amount) AS min_amount,
    max(max_amount) AS max_amount,
    CURRENT_TIMESTAMP AS updated_at
FROM seed001.financials_summary_monthly_asin_marketplace
GROUP BY brand_id, brand_name, category, marketplace, month, metric
$$, target_lag => :lag, refresh_mode => 'incremental');

-- Tier 2 as the seed has it: per brand, month and metric, both per
-- marketplace and over 'ALL' marketplaces, from tier 1, with GROUPING SETS.
-- Each brand's rows are recomputed from tier 1 when a change touches the
-- brand (tier 1's index on brand_id finds them).  asin_count counts an ASIN
-- sold in several marketplaces once in the 'ALL' row.
SELECT dt.create_dynamic_table('seed001.financials_summary_monthly_brand_combined', $$
SELECT
    brand_id,
    brand_name,
    category,
    coalesce(marketplace, 'ALL') AS marketplace,
    month,
    metric,
    sum(total_amount) AS total_amount,
    sum(transaction_count) AS transaction_count,
    count(DISTINCT asin) AS asin_count,
    min(min_amount) AS min_amount,
    max(max_amount) AS max_amount,
    CURRENT_TIMESTAMP AS updated_at
FROM seed001.financials_summary_monthly_asin_marketplace
GROUP BY GROUPING SETS ((brand_id, brand_name, category, marketplace, month, metric),
                        (brand_id, brand_name, category, month, metric))
$$, target_lag => :lag, refresh_mode => 'incremental');

-- Tier 3: per category, month and metric, from tier 2; the categories
-- dashboard.
SELECT dt.create_dynamic_table('seed001.financials_summary_monthly_category', $$
SELECT
    category,
    month,
    metric,
    sum(total_amount) AS total_amount,
    sum(transaction_count) AS transaction_count,
    count(DISTINCT brand_id) AS brand_count,
    min(min_amount) AS min_amount,
    max(max_amount) AS max_amount,
    CURRENT_TIMESTAMP AS updated_at
FROM seed001.financials_summary_monthly_brand
GROUP BY category, month, metric
$$, target_lag => :lag, refresh_mode => 'incremental');

-- The seed's indexes for the dashboard's lookups.
CREATE INDEX ON seed001.financials_summary_monthly_brand (brand_id, metric, month);
CREATE INDEX ON seed001.financials_summary_monthly_brand (category, metric, month);
CREATE INDEX ON seed001.financials_summary_monthly_brand (marketplace);
CREATE INDEX ON seed001.financials_summary_monthly_brand_combined (category, metric, month);
CREATE INDEX ON seed001.financials_summary_monthly_category (category, metric, month);
