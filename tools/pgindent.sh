#!/usr/bin/env bash
# tools/pgindent.sh FILE...: lay C files out as PostgreSQL's pgindent does,
# with pg_bsd_indent (Debian package pg-bsd-indent) and its options, the
# PostgreSQL type names of tools/typedefs.list and those the files define
# themselves, and pgindent's fix for a pointer return type alone on its
# line.  `make format` runs it on src/.
set -euo pipefail
command -v pg_bsd_indent >/dev/null || { echo "pgindent.sh: install pg-bsd-indent" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
types=()
while read -r t; do types+=("-T$t"); done < <(cat "$here/typedefs.list"; grep -ohE '^\}[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' "$@" | tr -d '}; \t')
for f in "$@"; do
	pg_bsd_indent -bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4 -l79 -lp -lpl \
		-nip -npro -sac -tpg -ts4 "${types[@]}" "$f" "$f.indent"
	# "List	   *" above a function name is "List *" in PostgreSQL's sources
	sed -E 's/^([A-Za-z_][A-Za-z0-9_]*)[[:space:]]+\*$/\1 */' "$f.indent" >"$f"
	rm -f "$f.indent"
done
