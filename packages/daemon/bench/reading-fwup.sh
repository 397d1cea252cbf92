#!/usr/bin/env bash
# fwup for the update benchmarks: the command line the daemon uses (`--version`; `-V` or `-a` with `--framing`
# and `-i FILE`; other options are accepted and ignored) and the framed answers fwup gives, but all it does is
# read the whole archive once per run, as fwup's verify and apply each do. It checks and writes nothing, so the
# benchmark times the daemon and the reading, not fwup.
#
# READING_FWUP_APPLY_STATUS=N: an apply fails with exit status N after reading the file (the soak benchmark
# uses it to run many update cycles in one daemon process: a successful apply ends with a reboot).
set -u
export LC_ALL=C
mode='' input=''
while [ $# -gt 0 ]; do
  case "$1" in
    --version) echo 1.16.0; exit 0 ;;
    -V | --verify) mode=verify ;;
    -a | --apply) mode=apply ;;
    -i | --input) input=${2-}; shift ;;
    -d | -t | --task | -p | --public-key | --public-key-file) shift ;;
  esac
  shift
done

# One fwup frame: 4-byte big-endian length, 2-letter type, 2-byte code, text.
frame() {
  local type=$1 code=$2 text=${3-}
  local length=$((4 + ${#text}))
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((length >> 24 & 255)) $((length >> 16 & 255)) \
    $((length >> 8 & 255)) $((length & 255)))%s$(printf '\\x%02x\\x%02x' $((code >> 8 & 255)) \
    $((code & 255)))" "$type"
  printf '%s' "$text"
}

# fwup says where it is while it writes; the daemon reports it as progress.
[ "$mode" = apply ] && frame PR 0
if [ -z "$input" ] || ! cat -- "$input" >/dev/null; then
  frame ER 0 "Failed to open '$input'"
  exit 1
fi
case "$mode" in
  verify) frame OK 0 'Valid archive with a good signature' ;;
  apply)
    frame PR 100
    if [ -n "${READING_FWUP_APPLY_STATUS-}" ]; then
      frame ER 0 "apply refused on purpose (READING_FWUP_APPLY_STATUS=$READING_FWUP_APPLY_STATUS)"
      exit "$READING_FWUP_APPLY_STATUS"
    fi
    frame OK 0 ;;
  *) frame ER 0 'Specify -a or -V'; exit 1 ;;
esac
