-- TPC-H-shaped workload: the one-command loader.  Creates schema tpch
-- (schema.sql), the generator and the refresh functions (generate.sql,
-- refresh.sql), generates the data, gathers statistics and creates the 22
-- dynamic tables (queries.sql), into the database psql connects to, which
-- needs pg_dynamic_tables (CREATE EXTENSION pg_dynamic_tables) and no
-- schema tpch yet (DROP SCHEMA tpch CASCADE removes one):
--
--   psql -v sf=0.1 -f examples/tpch/load.sql
--
-- psql variables: sf, the scale factor (default 0.01: 60k lineitems, a few
-- seconds; 0.1 is 600k lineitems, about a minute with the dynamic
-- tables); seed (default 1); mode and lag, as queries.sql takes them.
-- Then, for example, a round of changes at 1% of the orders and the
-- refresh of one table:
--
--   SELECT tpch.change_round(0.01, 2);
--   SELECT * FROM dt.refresh('tpch.q05');

\set ON_ERROR_STOP on
\if :{?sf}
\else
\set sf 0.01
\endif
\if :{?seed}
\else
\set seed 1
\endif

\ir schema.sql
\ir generate.sql
\ir refresh.sql
SELECT tpch.generate(:sf, :seed);
ANALYZE tpch.region, tpch.nation, tpch.supplier, tpch.customer, tpch.part, tpch.partsupp,
        tpch.orders, tpch.lineitem;
\ir queries.sql
SELECT name, refresh_mode, refresh_mode_reason FROM dt.dynamic_tables
 WHERE schema_name = 'tpch' ORDER BY relid::text;
