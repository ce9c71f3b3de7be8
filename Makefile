# Makefile for pg_dynamic_tables (PGXS).
#
#   make               build the extension
#   make install       install it into the PostgreSQL found by pg_config
#   make format        format the C sources with pg_bsd_indent (tools/pgindent.sh)
#   make check-format  fail if `make format` would change anything
#   make check-layers  fail if a file of src/ uses one of a higher layer, or
#                      files use each other (tools/check-layers.pl)
#   make installcheck  the pg_regress and isolation tests against the server
#                      PG* reach (README.md, "Try it", says what it needs)
#   make loadtest      build loadtest/dt_loadtest
#   make dashboard     build dashboard/dt_dashboard
#   test/run           build, install privately and run every test
#
# The C sources live in src/, one file per subsystem, in layers that use
# only the layers below them (src/README.md draws them).

MODULE_big = pg_dynamic_tables
OBJS = \
	src/analysis.o \
	src/api.o \
	src/capture.o \
	src/catalog.o \
	src/ddl_guard.o \
	src/deparse.o \
	src/dump.o \
	src/floatsum.o \
	src/internal.o \
	src/lifecycle.o \
	src/merge.o \
	src/names.o \
	src/percentile.o \
	src/pg_dynamic_tables.o \
	src/querytree.o \
	src/read_guard.o \
	src/recompute.o \
	src/window.o \
	src/refresh.o \
	src/schedule.o \
	src/settings.o \
	src/spi_util.o \
	src/workers.o

EXTENSION = pg_dynamic_tables
DATA = sql/pg_dynamic_tables--1.0.sql sql/pg_dynamic_tables--1.0--1.1.sql
PGFILEDESC = "pg_dynamic_tables - incrementally maintained dynamic tables"

# The tests of test/regress and test/isolation, for `make installcheck`
# against an installed server, as contrib modules have them.  Their
# databases are made by test/setup-db (with the oracle and helpers the
# tests use) before pg_regress runs, which then uses them as they are.
REGRESS = $(sort $(notdir $(basename $(wildcard $(srcdir)/test/regress/sql/*.sql))))
REGRESS_OPTS = --inputdir=$(srcdir)/test/regress --use-existing
ISOLATION = $(sort $(notdir $(basename $(wildcard $(srcdir)/test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=$(srcdir)/test/isolation --use-existing
REGRESS_PREP = installcheck-databases

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wmissing-prototypes -Wpointer-arith -Werror=vla -Wendif-labels \
	-Wmissing-format-attribute -Wformat-security

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# A source file includes the header of its layer, which includes those below.
$(OBJS): $(wildcard $(srcdir)/src/*.h)

# The databases of the tests, made again for each run of installcheck.
.PHONY: installcheck-databases
installcheck-databases:
	PSQL='$(bindir)/psql' $(srcdir)/test/setup-db $(CONTRIB_TESTDB)
	PSQL='$(bindir)/psql' $(srcdir)/test/setup-db $(ISOLATION_TESTDB)

.PHONY: format check-format check-layers
format:
	tools/pgindent.sh src/*.c src/*.h

check-format:
	tools/check-format.sh

check-layers:
	tools/check-layers.pl

# dt_loadtest, the concurrent-client latency tester (see loadtest/).
.PHONY: loadtest
loadtest:
	$(MAKE) -C loadtest PG_CONFIG=$(PG_CONFIG)

# dt_dashboard, the web server of the dashboard and console (see
# dashboard/; its pages need "npm ci" there for the chart library).
.PHONY: dashboard
dashboard:
	$(MAKE) -C dashboard PG_CONFIG=$(PG_CONFIG)
