# tests/run itself, on a fake tree: a suite binary that did not build, or
# one that exits non-zero after another suite's failure, fails the run.
source "$(dirname "$0")/lib.sh"
RUN=$(realpath "$(dirname "$0")/../run")

# tree NAME: $TMP/NAME with tests/run, one source per suite and a unit
# test that passes; the caller adds the other binaries.
tree() {
	T=$TMP/$1
	mkdir -p "$T/tests/unit" "$T/tests/packet" "$T/tests/fuzz" \
		"$T/build/asan" "$T/build/fuzz"
	cp "$RUN" "$T/tests/run"
	touch "$T/tests/unit/test_a.c" "$T/tests/unit/test_b.c" \
		"$T/tests/packet/test_p.c" "$T/tests/fuzz/fuzz_f.c"
	bin "$T/build/asan/test_a" 'echo "ok 1 - a"'
}

# bin FILE LINE: an executable script running LINE.
bin() { printf '#!/bin/sh\n%s\n' "$2" >"$1" && chmod +x "$1"; }

tree built
bin "$T/build/asan/test_b" 'echo "ok 1 - b"'
bin "$T/build/asan/packet_test_p" 'echo "ok 1 - p"'
bin "$T/build/fuzz/fuzz_f" 'exit 0'
run bash "$T/tests/run"
expect_rc "run: everything built and passing" 0
expect_out "run: it counts every suite" "4 passed, 0 failed"

tree missing
touch "$T/build/asan/test_b" # there, but not executable
run bash "$T/tests/run"
expect_rc "run: binaries missing" 1
expect_out "run: a missing unit test fails" \
	"[unit] not ok 0 - unit/test_b did not build"
expect_out "run: a missing packet test fails" \
	"[packet] not ok 0 - packet/packet_test_p did not build"
expect_out "run: a missing fuzzer fails" \
	"[fuzz] not ok 0 - fuzz/fuzz_f did not build"
expect_out "run: the total counts them" "1 passed, 3 failed"

tree crash
bin "$T/build/asan/test_a" 'echo "not ok 1 - a"'
bin "$T/build/asan/test_b" 'exit 3'
bin "$T/build/asan/packet_test_p" 'echo "ok 1 - p"'
bin "$T/build/fuzz/fuzz_f" 'exit 0'
run bash "$T/tests/run"
expect_rc "run: a failure, then a binary exiting 3" 1
expect_out "run: the exit counts although the suite had a not ok" \
	"[unit] not ok 0 - build/asan/test_b exited with status 3"
expect_out "run: both counted" "2 passed, 2 failed"
exit 0
