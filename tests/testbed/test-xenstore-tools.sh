#!/bin/bash
# SPDX-License-Identifier: MIT
# The test bed driven by Debian's xenstore-* tools, as independent clients:
# every operation, watches, permissions between simulated domains, and the
# testbed command itself.
set -u

build=${XBD_BUILD:?XBD_BUILD is not set}
testbed=$build/tests/testbed/testbed
for tool in xenstore-read xenstore-write xenstore-ls xenstore-list \
	xenstore-rm xenstore-exists xenstore-chmod xenstore-watch; do
	command -v $tool >/dev/null || { echo "skip: no $tool"; exit 77; }
done

tmp=$(mktemp -d /tmp/xbd-tools.XXXXXX)
sim=$tmp/sim
failures=0
cleanup() {
	kill $(jobs -p) 2>/dev/null
	"$testbed" stop "$sim"
	"$testbed" stop "$tmp/sim2"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { "$@" >/dev/null 2>&1 || fail "$*"; }
not() { ! "$@" >/dev/null 2>&1 || fail "should have failed: $*"; }
# same DESCRIPTION EXPECTED COMMAND...: the command prints EXPECTED.
same() {
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	[ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
}
# as DOMID COMMAND...: runs the command as that simulated domain.
as() {
	local domid=$1
	shift
	( eval "$("$testbed" env "$sim" "$domid")" && "$@" )
}
# perms_of PARENT NAME: the permissions of PARENT/NAME, as xenstore-ls -p
# shows them.
perms_of() {
	xenstore-ls -p "$1" | sed -n "s/^$2 = .*(\(.*\))\$/\1/p"
}
# watch_start DOMID FILE N PATH...: xenstore-watch as that domain for N
# events into FILE, once its watches are set.
watch_start() {
	local domid=$1 file=$2 n=$3
	shift 3
	: >"$file"
	( eval "$("$testbed" env "$sim" "$domid")" &&
	  exec timeout 20 xenstore-watch -n "$n" "$@" ) >"$file" 2>&1 &
	wait_lines "$file" $#	# one initial event per watch
}
wait_lines() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "$1 has fewer than $2 lines: $(cat "$1")"
}

echo "# testbed start/env/stop"
ok "$testbed" start "$sim"
not "$testbed" start "$sim"		# already running
same "env output" "export XENSTORED_PATH='$sim/xs/0'
export XENSIM_DIR='$sim'
export XENSIM_DOMID='0'
export LD_LIBRARY_PATH='$(cd "$build/tests" && pwd)/simlib'" \
	env -u LD_LIBRARY_PATH "$testbed" env "$sim" 0
same "LD_LIBRARY_PATH is prepended" \
	"export LD_LIBRARY_PATH='$(cd "$build/tests" && pwd)/simlib:/x'" \
	sh -c "LD_LIBRARY_PATH=/x '$testbed' env '$sim' 0 | grep LD_LIB"
not "$testbed" env "$sim" 70000		# not a domain id
not "$testbed" env "$tmp/none" 0	# not running
long=$tmp/$(printf 'd%.0s' {1..100})
not "$testbed" start "$long"		# sockets would not fit
"$testbed" start "$long" 2>&1 | grep -q "name too long" ||
	fail "no clear error for a long DIR"
mkdir "$tmp/notsim" && touch "$tmp/notsim/file"
not "$testbed" start "$tmp/notsim"	# not empty
not "$testbed" stop "$tmp/notsim"	# not ours: not removed
[ -e "$tmp/notsim/file" ] || fail "stop removed a directory not its own"
ok "$testbed" stop "$tmp/never-started"	# nothing to stop is fine

eval "$("$testbed" env "$sim" 0)"
same "dom0 home" "0" xenstore-read /local/domain/0/domid
same "dom0 name" "Domain-0" xenstore-read /local/domain/0/name

echo "# read, write, list, ls, exists, rm"
ok xenstore-write /t/a hello /t/b "two words"
same "read" "hello" xenstore-read /t/a
same "read spaces" "two words" xenstore-read /t/b
same "read several" "hello
two words" xenstore-read /t/a /t/b
not xenstore-read /t/missing
ok xenstore-exists /t/a
not xenstore-exists /t/missing
ok xenstore-write /t/p/q/r deep
same "implicit parent" "" xenstore-read /t/p/q
same "list" "a
b
p" xenstore-list /t
same "ls" 'a = "hello"
b = "two words"
p = ""
 q = ""
  r = "deep"' xenstore-ls /t
ok xenstore-rm /t/p
not xenstore-exists /t/p/q/r
ok xenstore-rm /t/p			# already gone, parent exists
not xenstore-rm /t/p/q			# parent missing
not xenstore-read /t//a
not xenstore-write /t/a/ x
same "relative path" "0" xenstore-read domid
ok xenstore-write /t/escape 'tab\there'
same "escapes" 'tab\there' xenstore-read /t/escape

# A directory bigger than one reply (XS_DIRECTORY_PART).
for i in $(seq -w 1 250); do
	echo "/t/big/a-fairly-long-child-name-number-$i x"
done | xargs -L 50 xenstore-write
same "big directory" 250 sh -c 'xenstore-list /t/big | wc -l'

# Values: 4000 bytes for dom0, over the 2048-byte node quota refused
# for guests.
v4000=$(head -c 4000 /dev/zero | tr '\0' v)
ok xenstore-write /t/v4000 "$v4000"
same "4000-byte value" 4000 sh -c 'xenstore-read /t/v4000 | tr -d "\n" | wc -c'

echo "# domains and permissions"
ok "$testbed" env "$sim" 5
ok "$testbed" env "$sim" 7
same "domain home" "domid = \"5\"
name = \"dom5\"
control = \"\"
 shutdown = \"\"
device = \"\"
data = \"\"
drivers = \"\"
feature = \"\"
attr = \"\"
error = \"\"" xenstore-ls /local/domain/5
same "home perms" "n0,r5" perms_of /local/domain 5
same "guest dir perms" "n5" perms_of /local/domain/5 data
same "dom5 reads its home" 5 as 5 xenstore-read domid
not as 5 xenstore-write /local/domain/5/x 1	# home is the toolstack's
ok as 5 xenstore-write data/mine 5
not as 5 xenstore-write /local/domain/7/data/x 5
not as 5 xenstore-write /t/a 5
not as 5 xenstore-read /t/a			# dom0's nodes are n0
ok as 7 xenstore-write data/secret s7
not as 5 xenstore-read /local/domain/7/data/secret
not as 5 xenstore-list /local/domain/7/data
same "dom0 reads all" s7 xenstore-read /local/domain/7/data/secret
ok as 7 xenstore-chmod /local/domain/7/data/secret n7 r5
same "granted read" s7 as 5 xenstore-read /local/domain/7/data/secret
not as 5 xenstore-write /local/domain/7/data/secret 5
not as 5 xenstore-chmod /local/domain/7/data/secret n7 b5	# not owner
not as 7 xenstore-chmod /local/domain/7/data/secret n5		# give away
ok as 7 xenstore-chmod /local/domain/7/data/secret n7 b5
ok as 5 xenstore-write /local/domain/7/data/secret s5
same "granted write" s5 xenstore-read /local/domain/7/data/secret
ok as 7 xenstore-chmod /local/domain/7/data/secret n7
not as 5 xenstore-read /local/domain/7/data/secret		# revoked
# A guest's new node inherits the parent's list but is its own.
ok as 7 xenstore-write data/shared ""
ok as 7 xenstore-chmod data/shared n7 b5
ok as 5 xenstore-write /local/domain/7/data/shared/c v
same "inherited perms" "n5,b5" perms_of /local/domain/7/data/shared c
ok as 0 xenstore-write /local/domain/7/data/shared/by0 v
same "dom0 does not take ownership" "n7,b5" \
	perms_of /local/domain/7/data/shared by0
# dom0 can do all, including giving nodes away; chmod -r recurses.
ok xenstore-chmod /local/domain/7/data/shared n5
ok xenstore-chmod -r /t n0 r5 r7
same "recursive chmod" hello as 5 xenstore-read /t/a
same "recursive chmod" "two words" as 7 xenstore-read /t/b
same "recursive chmod" "n0,r5,r7" perms_of /t b
not as 5 xenstore-write /t/a x
not as 5 xenstore-write data/big "$(head -c 2100 /dev/zero | tr '\0' b)"
ok xenstore-write /local/domain/5/data/big "$(head -c 2100 /dev/zero | tr '\0' b)"

echo "# watches"
w=$tmp/watch1
watch_start 0 "$w" 5 /w
ok xenstore-write /w/a/b 1
ok xenstore-write /w v
ok xenstore-rm /w/a
ok xenstore-write /elsewhere 1		# no event
ok xenstore-rm /w
wait
same "watch events" "/w
/w/a/b
/w
/w/a
/w" cat "$w"

# A watch below a removed node fires with its own path.
w=$tmp/watch2
ok xenstore-write /w2/a/b/c 1
watch_start 0 "$w" 2 /w2/a/b
ok xenstore-rm /w2
wait
same "removal of a parent" "/w2/a/b
/w2/a/b" cat "$w"

# A guest's relative watch gets relative paths.
w=$tmp/watch3
watch_start 5 "$w" 3 data
ok as 5 xenstore-write data/r 1
ok as 5 xenstore-rm data/r
wait
same "relative watch" "data
data/r
data/r" cat "$w"

# Events only for what the watcher may read: dom5 watches dom7's private
# node and its own sentinel; dom7's write to the private node must not
# show, the later sentinel write must.
w=$tmp/watch4
ok as 7 xenstore-write data/private p
watch_start 5 "$w" 4 /local/domain/7/data/private \
	/local/domain/5/data/sentinel
ok as 7 xenstore-write data/private p2
ok xenstore-write /local/domain/5/data/sentinel 1
ok as 7 xenstore-chmod data/private n7 r5
wait
same "watch permissions" "/local/domain/7/data/private
/local/domain/5/data/sentinel
/local/domain/5/data/sentinel
/local/domain/7/data/private" cat "$w"

# @introduceDomain and @releaseDomain.
w=$tmp/watch5
watch_start 0 "$w" 4 @introduceDomain @releaseDomain
ok "$testbed" env "$sim" 9
ok "$testbed" destroy "$sim" 9
wait
same "special watches" "@introduceDomain
@releaseDomain
@introduceDomain
@releaseDomain" cat "$w"
not xenstore-exists /local/domain/9
[ -e "$sim/xs/9" ] && fail "socket of a destroyed domain remains"

echo "# several simulations at once"
ok "$testbed" start "$tmp/sim2"
ok sh -c "eval \"\$('$testbed' env '$tmp/sim2' 0)\" && xenstore-write /which two"
ok xenstore-write /which one
same "separate stores" "two" sh -c "eval \"\$('$testbed' env '$tmp/sim2' 0)\" && xenstore-read /which"
same "separate stores" "one" xenstore-read /which
ok "$testbed" stop "$tmp/sim2"
[ -e "$tmp/sim2" ] && fail "stop left $tmp/sim2"

"$testbed" stop "$sim" || fail "testbed stop"
[ -e "$sim" ] && fail "stop left $sim"
if [ $failures -gt 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
