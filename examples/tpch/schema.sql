-- TPC-H-shaped workload: the eight tables of the TPC-H specification, in a
-- schema tpch, as a PostgreSQL user would create them for the benchmark's
-- data: the specification's column types, a primary key on every table and
-- an index on every join column the 22 queries use that no primary key
-- covers.  No foreign-key constraints (the specification allows but does
-- not require them, and their per-row checks would slow the refresh
-- functions); the data generator keeps the references valid.
--
-- The data come from our own generator (generate.sql), the 22 queries as
-- dynamic tables from queries.sql, the refresh functions from refresh.sql.
-- Load everything with one command (load.sql says which variables it takes):
--
--   psql -v sf=0.1 -f examples/tpch/load.sql
--
-- or step by step:
--
--   psql -f schema.sql -f generate.sql -f refresh.sql \
--        -c 'SELECT tpch.generate(0.1, 1)' -f queries.sql
--
-- Cardinalities at scale factor SF: region 5, nation 25, supplier
-- SF * 10,000, customer SF * 150,000, part SF * 200,000, partsupp
-- SF * 800,000, orders SF * 1,500,000, lineitem about SF * 6,000,000.

CREATE SCHEMA IF NOT EXISTS tpch;
SET search_path = tpch, public;

CREATE TABLE region (
    r_regionkey  integer PRIMARY KEY,
    r_name       char(25) NOT NULL,
    r_comment    varchar(152) NOT NULL
);

CREATE TABLE nation (
    n_nationkey  integer PRIMARY KEY,
    n_name       char(25) NOT NULL,
    n_regionkey  integer NOT NULL,           -- region
    n_comment    varchar(152) NOT NULL
);
CREATE INDEX nation_regionkey_idx ON nation (n_regionkey);

CREATE TABLE supplier (
    s_suppkey    integer PRIMARY KEY,
    s_name       char(25) NOT NULL,
    s_address    varchar(40) NOT NULL,
    s_nationkey  integer NOT NULL,           -- nation
    s_phone      char(15) NOT NULL,
    s_acctbal    numeric(15, 2) NOT NULL,
    s_comment    varchar(101) NOT NULL
);
CREATE INDEX supplier_nationkey_idx ON supplier (s_nationkey);

CREATE TABLE customer (
    c_custkey    integer PRIMARY KEY,
    c_name       varchar(25) NOT NULL,
    c_address    varchar(40) NOT NULL,
    c_nationkey  integer NOT NULL,           -- nation
    c_phone      char(15) NOT NULL,
    c_acctbal    numeric(15, 2) NOT NULL,
    c_mktsegment char(10) NOT NULL,
    c_comment    varchar(117) NOT NULL
);
CREATE INDEX customer_nationkey_idx ON customer (c_nationkey);

CREATE TABLE part (
    p_partkey     integer PRIMARY KEY,
    p_name        varchar(55) NOT NULL,
    p_mfgr        char(25) NOT NULL,
    p_brand       char(10) NOT NULL,
    p_type        varchar(25) NOT NULL,
    p_size        integer NOT NULL,
    p_container   char(10) NOT NULL,
    p_retailprice numeric(15, 2) NOT NULL,
    p_comment     varchar(23) NOT NULL
);

-- The suppliers of each part (four per part); the primary key finds a
-- part's rows, the second index a supplier's.
CREATE TABLE partsupp (
    ps_partkey    integer NOT NULL,          -- part
    ps_suppkey    integer NOT NULL,          -- supplier
    ps_availqty   integer NOT NULL,
    ps_supplycost numeric(15, 2) NOT NULL,
    ps_comment    varchar(199) NOT NULL,
    PRIMARY KEY (ps_partkey, ps_suppkey)
);
CREATE INDEX partsupp_suppkey_idx ON partsupp (ps_suppkey);

CREATE TABLE orders (
    o_orderkey      integer PRIMARY KEY,
    o_custkey       integer NOT NULL,        -- customer
    o_orderstatus   char(1) NOT NULL,
    o_totalprice    numeric(15, 2) NOT NULL,
    o_orderdate     date NOT NULL,
    o_orderpriority char(15) NOT NULL,
    o_clerk         char(15) NOT NULL,
    o_shippriority  integer NOT NULL,
    o_comment       varchar(79) NOT NULL
);
CREATE INDEX orders_custkey_idx ON orders (o_custkey);

-- One row per line of an order (one to seven per order).  The primary key
-- finds an order's lines; (l_partkey, l_suppkey) is the reference to
-- partsupp and finds a part's lines; l_suppkey a supplier's.
CREATE TABLE lineitem (
    l_orderkey      integer NOT NULL,        -- orders
    l_partkey       integer NOT NULL,        -- part (and partsupp)
    l_suppkey       integer NOT NULL,        -- supplier (and partsupp)
    l_linenumber    integer NOT NULL,
    l_quantity      numeric(15, 2) NOT NULL,
    l_extendedprice numeric(15, 2) NOT NULL,
    l_discount      numeric(15, 2) NOT NULL,
    l_tax           numeric(15, 2) NOT NULL,
    l_returnflag    char(1) NOT NULL,
    l_linestatus    char(1) NOT NULL,
    l_shipdate      date NOT NULL,
    l_commitdate    date NOT NULL,
    l_receiptdate   date NOT NULL,
    l_shipinstruct  char(25) NOT NULL,
    l_shipmode      char(10) NOT NULL,
    l_comment       varchar(44) NOT NULL,
    PRIMARY KEY (l_orderkey, l_linenumber)
);
CREATE INDEX lineitem_part_supp_idx ON lineitem (l_partkey, l_suppkey);
CREATE INDEX lineitem_suppkey_idx ON lineitem (l_suppkey);

-- What generate() made: the scale factor and seed, and the sizes the
-- refresh functions pick rows from.  One row.
CREATE TABLE generation (
    scale_factor numeric NOT NULL,
    seed         integer NOT NULL,
    suppliers    integer NOT NULL,
    customers    integer NOT NULL,
    parts        integer NOT NULL,
    orders       bigint NOT NULL,            -- orders generated (order numbers 1 .. orders)
    clerks       integer NOT NULL
);

-- The text that comments are cut from (generate.sql, tpch.random_text).  One row.
CREATE TABLE text_pool (
    pool bytea NOT NULL
);
ALTER TABLE text_pool ALTER pool SET STORAGE EXTERNAL;

RESET search_path;
