# tools/pgenv.sh: the shell library behind demo/run, test/run and bench/run.
#
# It does five things, the same way for every entry point:
#   1. installs the Debian packages the project needs (apt-get, as root or
#      through sudo), so a fresh Debian 12 machine needs nothing else;
#   2. when started as root, copies the source tree to a directory owned by
#      the "postgres" user and re-runs the calling script as that user,
#      because PostgreSQL refuses to run as root;
#   3. builds the extension and installs it into a private tree under
#      .build/install, next to relocated copies of the server binaries, the
#      way PostgreSQL's own "make check" uses tmp_install: the system
#      installation is never written to;
#   4. starts and stops private PostgreSQL instances on a Unix socket;
#   5. builds the dashboard (dt_dashboard) and installs its npm packages.
#
# Scripts source this file and then call pgenv_bootstrap "$0" "$@" first.

set -euo pipefail

PGDT_PG_MAJOR=${PGDT_PG_MAJOR:-15}
# The server the extension is built for and tested with: Debian's, or
# another build of the same major version (one configured with
# --enable-cassert, say) named by its pg_config.
PGDT_PG_CONFIG=${PGDT_PG_CONFIG:-/usr/lib/postgresql/$PGDT_PG_MAJOR/bin/pg_config}
PGDT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGDT_BUILD=$PGDT_ROOT/.build

pgenv_log() { printf '%s\n' "$*" >&2; }

# pgenv_packages: install what a fresh Debian 12 machine lacks: what every
# entry point needs (PostgreSQL, the compilers, libmicrohttpd, libpq, Node.js
# and npm for the dashboard), and the packages of PGDT_EXTRA_PACKAGES, an
# array of FILE:PACKAGE (PACKAGE is installed when FILE does not exist or,
# for a bare name, is no command) that a script sets before pgenv_bootstrap.
pgenv_packages() {
	local need=() extra file
	command -v make >/dev/null || need+=(make)
	command -v gcc >/dev/null || need+=(gcc)
	command -v rsync >/dev/null || need+=(rsync)
	[ -x /usr/lib/postgresql/$PGDT_PG_MAJOR/bin/postgres ] || need+=(postgresql-$PGDT_PG_MAJOR)
	[ -x /usr/lib/postgresql/$PGDT_PG_MAJOR/bin/pgbench ] || need+=(postgresql-client-$PGDT_PG_MAJOR)
	[ -f /usr/include/postgresql/$PGDT_PG_MAJOR/server/postgres.h ] || need+=(postgresql-server-dev-$PGDT_PG_MAJOR)
	perl -MIPC::Run -e 1 2>/dev/null || need+=(libipc-run-perl)
	[ -f /usr/include/microhttpd.h ] || need+=(libmicrohttpd-dev)
	[ -f /usr/include/postgresql/libpq-fe.h ] || need+=(libpq-dev)
	command -v node >/dev/null || need+=(nodejs)
	command -v npm >/dev/null || need+=(npm)
	for extra in ${PGDT_EXTRA_PACKAGES[@]+"${PGDT_EXTRA_PACKAGES[@]}"}; do
		file=${extra%%:*}
		if [[ $file == /* ]]; then
			[ -e "$file" ] || need+=("${extra#*:}")
		else
			command -v "$file" >/dev/null || need+=("${extra#*:}")
		fi
	done
	[ ${#need[@]} -eq 0 ] && return 0
	pgenv_log "installing Debian packages: ${need[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" </dev/null >/dev/null
}

# pgenv_bootstrap SCRIPT ARGS...: packages, then drop root privileges.
# As root, the tree is synchronised into PGDT_WORKDIR (owned by postgres)
# and SCRIPT runs again there as postgres; the root process waits, copies
# back the files the run produced under .build/results, and exits with the
# child's status.  As any other user it returns and the script goes on.
pgenv_bootstrap() {
	local script=$1
	shift
	pgenv_packages
	export PATH=$(dirname "$PGDT_PG_CONFIG"):$PATH
	[ "$(id -u)" -eq 0 ] || return 0

	local work=${PGDT_WORKDIR:-/var/tmp/pg_dynamic_tables-$(printf %s "$PGDT_ROOT" | cksum | cut -d" " -f1)}
	mkdir -p "$work"
	rsync -a --delete --exclude .build --exclude .git --exclude node_modules --exclude '*.o' --exclude '*.so' --exclude '*.bc' "$PGDT_ROOT/" "$work/src/"
	mkdir -p "$work/src/.build"
	# released source trees (pgenv_release_archive) come from git, which
	# the copy has not: carry them over
	[ ! -d "$PGDT_BUILD/releases" ] || rsync -a --delete "$PGDT_BUILD/releases/" "$work/src/.build/releases/"
	chown -R postgres:postgres "$work"
	local rel=${script#"$PGDT_ROOT"/}
	local status=0
	runuser -u postgres -- env HOME="$work" PGDT_FROM_ROOT=1 \
		bash "$work/src/$rel" "$@" || status=$?
	if [ -d "$work/src/.build/results" ]; then
		mkdir -p "$PGDT_BUILD/results"
		cp -a "$work/src/.build/results/." "$PGDT_BUILD/results/"
	fi
	exit $status
}

# pgenv_install: build the extension and lay out the private install tree.
# Sets PGDT_BIN to the directory holding initdb, postgres, pg_ctl, psql...
pgenv_install() {
	local pgconfig=$PGDT_PG_CONFIG
	local dest=$PGDT_BUILD/install

	pgenv_log "building pg_dynamic_tables"
	make -s -C "$PGDT_ROOT" PG_CONFIG="$pgconfig" >/dev/null
	rm -rf "$dest"
	make -s -C "$PGDT_ROOT" PG_CONFIG="$pgconfig" install DESTDIR="$dest" >/dev/null
	pgenv_layout "$dest"
	PGDT_BIN=$dest$($pgconfig --bindir)
	PGDT_PGXS=$($pgconfig --pgxs)
	PGDT_PGXS=$(dirname "$(dirname "$(dirname "$PGDT_PGXS")")")
	export PGDT_BIN PGDT_PGXS
}

# pgenv_layout DEST: complete an install tree DEST into which the extension
# was installed (make install DESTDIR=DEST) with the server of this
# machine.  The server finds its share and lib directories relative to its
# own executable, so real copies of the binaries that look those up are
# placed in the private tree; everything else is a symbolic link.
pgenv_layout() {
	local dest=$1
	local pgconfig=$PGDT_PG_CONFIG
	local bindir sharedir pkglibdir f
	bindir=$($pgconfig --bindir)
	sharedir=$($pgconfig --sharedir)
	pkglibdir=$($pgconfig --pkglibdir)

	mkdir -p "$dest$bindir" "$dest$sharedir/extension" "$dest$pkglibdir"
	for f in "$bindir"/*; do
		case $(basename "$f") in
			postgres | initdb | pg_ctl) cp "$f" "$dest$bindir/" ;;
			*) ln -sf "$f" "$dest$bindir/" ;;
		esac
	done
	ln -sf "$pgconfig" "$dest$bindir/pg_config"
	for f in "$sharedir"/*; do
		[ -e "$dest$sharedir/$(basename "$f")" ] || ln -s "$f" "$dest$sharedir/"
	done
	for f in "$sharedir"/extension/*; do
		[ -e "$dest$sharedir/extension/$(basename "$f")" ] || ln -s "$f" "$dest$sharedir/extension/"
	done
	for f in "$pkglibdir"/*; do
		[ -e "$dest$pkglibdir/$(basename "$f")" ] || ln -s "$f" "$dest$pkglibdir/"
	done
}

# pgenv_release_archive COMMIT: the source tree of a released version, the
# extension as users installed it, for the tests that start from it (the
# extension update test).  It is taken from git with "git archive" into
# $PGDT_BUILD/releases/COMMIT.tar.  It must run where the git history is:
# before pgenv_bootstrap, which carries the tarball into the copy it runs
# as postgres (the copy has no .git); there the tarball is found and used.
# A clone without COMMIT (a shallow clone) is an error, not a skipped test.
pgenv_release_archive() {
	local commit=$1
	local tar=$PGDT_BUILD/releases/$commit.tar
	[ -f "$tar" ] && return 0
	if ! command -v git >/dev/null; then
		pgenv_log "error: git is needed to take commit $commit (a released version of"
		pgenv_log "pg_dynamic_tables, for the extension update test) from the history"
		return 1
	fi
	if ! git -C "$PGDT_ROOT" rev-parse -q --verify "$commit^{commit}" >/dev/null; then
		pgenv_log "error: commit $commit (a released version of pg_dynamic_tables, needed by the"
		pgenv_log "extension update test) is not in the git history of $PGDT_ROOT."
		pgenv_log "A shallow clone lacks it: run \"git fetch --unshallow\" (or clone with full history)."
		return 1
	fi
	mkdir -p "$PGDT_BUILD/releases"
	git -C "$PGDT_ROOT" archive --format=tar -o "$tar.tmp" "$commit"
	mv "$tar.tmp" "$tar"
}

# pgenv_install_release COMMIT DEST: build the released version at COMMIT
# (from pgenv_release_archive's tarball, with that version's own Makefile)
# and lay out a private install tree DEST for it, as pgenv_install does for
# the current tree.  It builds in $PGDT_BUILD/release-src/COMMIT: the
# current build and install tree are not touched.  Sets PGDT_RELEASE_PATH
# to the directory whose bin/ and lib/ hold the server and the extension
# (what PostgreSQL::Test::Cluster calls an install_path).
pgenv_install_release() {
	local commit=$1 dest=$2
	local pgconfig=$PGDT_PG_CONFIG
	local tar=$PGDT_BUILD/releases/$commit.tar
	local src=$PGDT_BUILD/release-src/$commit
	if [ ! -f "$tar" ]; then
		pgenv_log "error: $tar is missing: pgenv_release_archive $commit must run first"
		return 1
	fi
	# extracted once: a commit does not change, and make then has nothing to do
	if [ ! -f "$src/.extracted" ]; then
		rm -rf "$src"
		mkdir -p "$src"
		tar -xf "$tar" -C "$src"
		touch "$src/.extracted"
	fi
	pgenv_log "building pg_dynamic_tables as released at ${commit:0:12}"
	rm -rf "$dest"
	env -u COPT make -s -C "$src" PG_CONFIG="$pgconfig" >/dev/null
	env -u COPT make -s -C "$src" PG_CONFIG="$pgconfig" install DESTDIR="$dest" >/dev/null
	pgenv_layout "$dest"
	PGDT_RELEASE_PATH=$(dirname "$dest$($pgconfig --bindir)")
}

# pgenv_dashboard: build dashboard/dt_dashboard and install the npm packages
# of its pages and browser tests (npm ci from the committed lockfile, again
# only when the lockfile changed).  Sets PGDT_DASHBOARD to the program;
# returns non-zero (also where errexit is off) if either step fails.
pgenv_dashboard() {
	local dir=$PGDT_ROOT/dashboard
	local stamp=$dir/node_modules/.installed-package-lock.json
	pgenv_log "building dt_dashboard"
	make -s -C "$dir" PG_CONFIG="/usr/lib/postgresql/$PGDT_PG_MAJOR/bin/pg_config" >/dev/null || return 1
	if ! cmp -s "$dir/package-lock.json" "$stamp"; then
		pgenv_log "installing the dashboard's npm packages (npm ci)"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
		cp "$dir/package-lock.json" "$stamp"
	fi
	PGDT_DASHBOARD=$dir/dt_dashboard
	export PGDT_DASHBOARD
}

# pgenv_start DATADIR PORT [EXTRA_CONF_FILE]: a fresh private instance that
# listens only on a Unix socket in DATADIR.  PGHOST/PGPORT are exported.
pgenv_start() {
	local data=$1 port=$2 extra=${3:-}
	rm -rf "$data"
	"$PGDT_BIN/initdb" -D "$data" -A trust -U "$(id -un)" -E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 ||
		{ cat "$data.initdb.log" >&2; return 1; }
	cat >>"$data/postgresql.conf" <<-EOF
		listen_addresses = ''
		port = $port
		unix_socket_directories = '$data'
		shared_preload_libraries = 'pg_dynamic_tables'
		log_min_messages = warning
		log_line_prefix = '%m [%p] '
	EOF
	[ -z "$extra" ] || cat "$extra" >>"$data/postgresql.conf"
	"$PGDT_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w start >/dev/null ||
		{ cat "$data/server.log" >&2; return 1; }
	export PGHOST=$data PGPORT=$port PGUSER
	PGUSER=$(id -un)
}

# pgenv_resume DATADIR PORT: start again an instance that pgenv_start made
# and pgenv_stop stopped, with its data.  PGHOST/PGPORT are exported.
pgenv_resume() {
	local data=$1 port=$2
	"$PGDT_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w start >/dev/null ||
		{ cat "$data/server.log" >&2; return 1; }
	export PGHOST=$data PGPORT=$port PGUSER
	PGUSER=$(id -un)
}

# pgenv_stop DATADIR: stop an instance started by pgenv_start, if running.
pgenv_stop() {
	[ -f "$1/postmaster.pid" ] && "$PGDT_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}
