-- Seed 001: the marketplace-seller financials of a catalogue of brands, in
-- PostgreSQL.  One fact table (financials: one row per posted amount of one
-- metric, for one ASIN, in one marketplace, on one day) and two dimension
-- tables (asin -> brand -> category).  The dashboard's summary tables are
-- the dynamic tables of dynamic_tables.sql.
--
-- As in the seed's installation, the tables have no foreign keys between
-- them: financial reports are imported from marketplace exports and may
-- name an ASIN before the catalogue knows it, and the catalogue may hold
-- ASINs without a brand yet.  Such rows simply do not match the inner
-- joins of the summaries.
--
-- Load with:  psql -f schema.sql -f generate.sql -f dynamic_tables.sql

CREATE SCHEMA IF NOT EXISTS seed001;
SET search_path = seed001, public;

-- A few hundred brands, each in one of about twenty categories.
CREATE TABLE brand (
    brand_id    integer PRIMARY KEY,
    name        text NOT NULL,
    category    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX brand_category_idx ON brand (category);

-- Thousands of products (Amazon Standard Identification Numbers).
CREATE TABLE asin (
    asin         text PRIMARY KEY,          -- 'B0' and 8 characters
    brand_id     integer,                   -- NULL: not yet assigned to a brand
    title        text NOT NULL,
    parent_asin  text,                      -- the variation family, if any
    launch_date  date,
    status       text NOT NULL DEFAULT 'active'   -- active, inactive
);
CREATE INDEX asin_brand_idx ON asin (brand_id);

-- The fact table: tens of millions of rows in the seed's installation.
CREATE TABLE financials (
    id           bigserial PRIMARY KEY,
    asin         text NOT NULL,
    marketplace  text NOT NULL,             -- US, UK, DE, FR, IT, ES, CA, JP
    posted_date  date NOT NULL,
    metric       text NOT NULL,             -- revenue, units, referral_fees, fba_fees, refunds, advertising
    amount       numeric(14, 2) NOT NULL,   -- in USD, converted at import; fees,
                                            -- refunds and advertising are negative
    order_id     text,                      -- NULL for amounts not tied to an order
    imported_at  timestamptz NOT NULL DEFAULT now()
);
-- The join from a changed asin or brand row to its fact rows goes through
-- this index: a refresh after a dimension change reads only the financials
-- of the ASINs that changed.
CREATE INDEX financials_asin_idx ON financials (asin);
CREATE INDEX financials_posted_date_idx ON financials (posted_date);
CREATE INDEX financials_marketplace_date_idx ON financials (marketplace, posted_date);
CREATE INDEX financials_order_idx ON financials (order_id) WHERE order_id IS NOT NULL;
