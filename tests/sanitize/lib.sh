# Build the library's sources once with clang and a set of sanitizer flags,
# into an archive the sanitizer tests and the fuzz targets link against.
#   sanitize_lib NAME "FLAGS"   -> prints the archive's path
# Objects are rebuilt only when their source is newer, on every core.
sanitize_lib() {
	_dir="$top_builddir/tests/sanitize/build/$1"
	mkdir -p "$_dir"
	SAN_FLAGS=$2 SAN_DIR=$_dir
	export SAN_FLAGS SAN_DIR CLANG FUZZ_CFLAGS top_srcdir top_builddir
	for _s in $LIB_SOURCES; do
		_o="$_dir/$(echo "$_s" | tr / _).o"
		if [ ! -f "$_o" ] || [ "$top_srcdir/$_s" -nt "$_o" ] ||
			[ "$top_builddir/config.h" -nt "$_o" ]; then
			echo "$_s"
		fi
	done | xargs -r -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c '
		o="$SAN_DIR/$(echo "{}" | tr / _).o"
		# shellcheck disable=SC2086
		exec "$CLANG" -g -O1 $SAN_FLAGS -include "$top_builddir/config.h" $FUZZ_CFLAGS \
			-c "$top_srcdir/{}" -o "$o"' >&2 || return 1
	_objs=""
	for _s in $LIB_SOURCES; do
		_objs="$_objs $_dir/$(echo "$_s" | tr / _).o"
	done
	rm -f "$_dir/lib.a"
	# shellcheck disable=SC2086
	ar rcs "$_dir/lib.a" $_objs >&2 || return 1
	echo "$_dir/lib.a"
}
