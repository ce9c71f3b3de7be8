#!/usr/bin/env bash
# tools/check-format.sh: fail if `make format` would change anything.
#
# It formats a copy of the C sources of src/ with tools/pgindent.sh, the
# formatter `make format` runs, and compares: no output and exit status 0
# when the tree is as the formatter leaves it; otherwise the differences
# and status 1 (run `make format`, and if a type name is mangled into
# "Type * name", add it to tools/typedefs.list).  test/run runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
mkdir "$copy/src"
cp "$root"/src/*.c "$root"/src/*.h "$copy/src/"
"$root/tools/pgindent.sh" "$copy"/src/*.c "$copy"/src/*.h
status=0
for f in "$copy"/src/*; do
	name=src/$(basename "$f")
	if ! cmp -s "$root/$name" "$f"; then
		diff -u "$root/$name" "$f" | sed "s|$copy/||" || true
		status=1
	fi
done
[ $status -eq 0 ] || echo "check-format.sh: run \"make format\"" >&2
exit $status
