#!/bin/sh
# Run every cmocka unit test binary given; print one summary line.
passed=0 failed=0
for t in "$@"; do
	echo "== $t"
	if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done
echo "unit test programs: $passed passed, $failed failed"
[ "$failed" = 0 ]
