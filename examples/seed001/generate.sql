-- Seed 001 data generator.
--
-- seed001.generate(n_financials, seed [, n_brands, n_asins, since, days])
--   fills the catalogue (n_brands brands, default 300, in 20 categories;
--   n_asins ASINs, default 5000) if it is not there yet, then inserts
--   n_financials financial rows posted between since (default 2023-01-01)
--   and since + days (default 730: two years).  The same arguments give the
--   same data.
-- seed001.make_catalog(n_brands, n_asins) and
-- seed001.add_financials(n, since, days) do the two halves with the
--   session's random() (call setseed first for repeatable data); the tests
--   use add_financials for new rows.
--
-- The shape:
--   - brands are spread over the categories unevenly; a brand's ASIN count
--     is skewed (a few large brands, a long tail), and about 1% of ASINs
--     have no brand yet;
--   - sales are skewed towards popular ASINs (ASIN number 1 is the best
--     seller) and grow over time (more rows in recent months);
--   - 8 marketplaces, the US about 45% of the rows;
--   - 6 metrics: revenue and units (positive; units is a count),
--     referral_fees, fba_fees, refunds and advertising (negative), each
--     consistent with the ASIN's price;
--   - about 0.5% of the rows name an ASIN the catalogue does not know.

SET search_path = seed001, public;

-- The ASIN of product number i: 'B0' and 8 hexadecimal digits, distinct
-- for every i below 2^32 (multiplication by an odd constant modulo 2^32).
CREATE OR REPLACE FUNCTION asin_code(i bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
SELECT 'B0' || upper(lpad(to_hex((i * 2654435761) % 4294967296), 8, '0'))
$$;

-- The list price of product number i, in USD.
CREATE OR REPLACE FUNCTION asin_price(i bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
SELECT (7 + (i * 37) % 143)::numeric + 0.99
$$;

CREATE OR REPLACE FUNCTION categories() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['Home & Kitchen', 'Toys & Games', 'Electronics', 'Sports & Outdoors',
             'Beauty & Personal Care', 'Health & Household', 'Pet Supplies', 'Baby',
             'Office Products', 'Tools & Home Improvement', 'Patio, Lawn & Garden',
             'Clothing, Shoes & Jewelry', 'Automotive', 'Grocery & Gourmet Food',
             'Arts, Crafts & Sewing', 'Kitchen & Dining', 'Video Games',
             'Industrial & Scientific', 'Musical Instruments', 'Cell Phones & Accessories']
$$;

CREATE OR REPLACE FUNCTION make_catalog(n_brands integer DEFAULT 300, n_asins integer DEFAULT 5000)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO seed001.brand (brand_id, name, category)
    SELECT b,
           (ARRAY['Nor', 'Vel', 'Kai', 'Zen', 'Ori', 'Lum', 'Tor', 'Bri', 'Sol', 'Ver',
                  'Ax', 'Mo', 'Pix', 'Ela', 'Qui', 'Ruv'])[1 + floor(random() * 16)::int]
           || (ARRAY['a', 'o', 'i', 'e', 'u', 'ae', 'ix', 'on'])[1 + floor(random() * 8)::int]
           || (ARRAY['tek', 'ly', 'wave', 'nest', 'forge', 'leaf', 'peak', ' Co', ' Labs',
                     ' Home', ' Goods', 'ra'])[1 + floor(random() * 12)::int],
           -- uneven: the first categories hold more brands
           (seed001.categories())[1 + floor(20 * random() ^ 1.4)::int]
      FROM generate_series(1, n_brands) b
    ON CONFLICT (brand_id) DO NOTHING;

    INSERT INTO seed001.asin (asin, brand_id, title, parent_asin, launch_date, status)
    SELECT seed001.asin_code(i),
           CASE WHEN u_brand < 0.01 THEN NULL
                ELSE 1 + floor(n_brands * u_skew ^ 2)::int END,
           (ARRAY['Classic', 'Premium', 'Compact', 'Deluxe', 'Eco', 'Pro', 'Mini', 'Ultra'])
               [1 + floor(u_title * 8)::int]
           || ' ' ||
           (ARRAY['Organizer', 'Set', 'Kit', 'Bottle', 'Stand', 'Cover', 'Lamp', 'Cable',
                  'Brush', 'Mat', 'Holder', 'Case'])[1 + (i % 12)::int]
           || ' ' || i,
           -- variations of the first product of their block of four
           CASE WHEN (i - 1) % 4 <> 0 AND u_parent < 0.4 THEN seed001.asin_code(i - (i - 1) % 4) END,
           date '2019-01-01' + floor(u_launch * 1800)::int,
           CASE WHEN u_status < 0.05 THEN 'inactive' ELSE 'active' END
      FROM (SELECT i, random() AS u_brand, random() AS u_skew, random() AS u_title,
                   random() AS u_parent, random() AS u_launch, random() AS u_status
              FROM generate_series(1, n_asins) i) r
    ON CONFLICT (asin) DO NOTHING;
END $$;

CREATE OR REPLACE FUNCTION add_financials(n bigint,
                                          since date DEFAULT date '2023-01-01',
                                          days integer DEFAULT 730)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n_asins bigint;
    inserted bigint;
BEGIN
    -- Products are numbered 1 .. n_asins by make_catalog(); rows go to
    -- products 1 .. the catalogue's current size (after deletes, some of
    -- them to ASINs it no longer has).
    SELECT greatest(count(*), 1) INTO n_asins FROM seed001.asin;
    WITH r AS (
        SELECT g,
               CASE WHEN random() < 0.005
                    THEN n_asins + 1 + floor(random() * 100)::bigint   -- not in the catalogue
                    ELSE 1 + floor(n_asins * random() ^ 2)::bigint END AS i,
               random() AS u_mkt, random() AS u_metric, random() AS u_date,
               random() AS u_units, random() AS u_ads
          FROM generate_series(1, n) g
    ), m AS (
        SELECT r.*,
               CASE WHEN u_mkt < 0.45 THEN 'US' WHEN u_mkt < 0.57 THEN 'UK'
                    WHEN u_mkt < 0.69 THEN 'DE' WHEN u_mkt < 0.76 THEN 'FR'
                    WHEN u_mkt < 0.82 THEN 'IT' WHEN u_mkt < 0.88 THEN 'ES'
                    WHEN u_mkt < 0.95 THEN 'CA' ELSE 'JP' END AS marketplace,
               CASE WHEN u_metric < 0.30 THEN 'revenue' WHEN u_metric < 0.55 THEN 'units'
                    WHEN u_metric < 0.72 THEN 'referral_fees' WHEN u_metric < 0.86 THEN 'fba_fees'
                    WHEN u_metric < 0.91 THEN 'refunds' ELSE 'advertising' END AS metric,
               -- growth: more rows in recent months
               since + floor(days * sqrt(u_date))::int AS posted_date,
               1 + floor(3 * u_units ^ 3)::int AS units,
               seed001.asin_price(i) AS price
          FROM r
    )
    INSERT INTO seed001.financials (asin, marketplace, posted_date, metric, amount, order_id)
    SELECT seed001.asin_code(i), marketplace, posted_date, metric,
           CASE metric
               WHEN 'revenue' THEN price * units
               WHEN 'units' THEN units
               WHEN 'referral_fees' THEN -round(price * units * 0.15, 2)
               WHEN 'fba_fees' THEN -(3.22 + (i % 5) * 0.75) * units
               WHEN 'refunds' THEN -price
               ELSE -round((0.5 + 40 * u_ads ^ 2)::numeric, 2)
           END,
           CASE WHEN metric IN ('fba_fees', 'advertising') THEN NULL
                ELSE format('%s-%s-%s', marketplace, to_char(posted_date, 'YYMMDD'),
                            lpad((g % 1000000)::text, 6, '0')) END
      FROM m;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN inserted;
END $$;

CREATE OR REPLACE FUNCTION generate(n_financials bigint,
                                    seed double precision DEFAULT 0.5,
                                    n_brands integer DEFAULT 300,
                                    n_asins integer DEFAULT 5000,
                                    since date DEFAULT date '2023-01-01',
                                    days integer DEFAULT 730)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    PERFORM seed001.make_catalog(n_brands, n_asins);
    RETURN seed001.add_financials(n_financials, since, days);
END $$;
