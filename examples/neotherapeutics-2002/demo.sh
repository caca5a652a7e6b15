#!/usr/bin/env bash
# The seed, end to end: record the two journals one after the other into a fresh SQLite
# ledger, then ask the questions the Mutual Rescission Agreement raises.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${DEMO_DIR:-demo-ledger}"
rm -rf "$out" && mkdir -p "$out"
export CAPLEDGER_LEDGER="$out/neotherapeutics.sqlite"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Record the June 2002 purchase and warrant, then the July agreement"
first=$(capledger record "$here/1-securities-purchase-2002-06-07.yaml" --json)
echo "$first"
between=$(printf '%s' "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recorded_at"])')
capledger record "$here/2-mutual-rescission-2002-07-25.yaml"

for d in 2002-06-07 2002-07-24 2002-07-25; do
  say "Holdings as of $d"
  capledger holdings --as-of "$d"
done

say "Consideration: paid 2002-06-07, refunded 2002-07-25"
capledger consideration --as-of 2002-12-31

for d in 2002-07-24 2002-07-25 2002-12-07 2002-12-08; do
  say "Warrants as of $d"
  capledger warrants --as-of "$d"
done

say "Fully diluted cap table as of 2002-12-08"
capledger captable --as-of 2002-12-08

say "As of 2002-08-01, as known between the two recordings ($between)"
capledger holdings --as-of 2002-08-01 --known-at "$between"
capledger warrants --as-of 2002-08-01 --known-at "$between"

say "As of 2002-08-01, as known now"
capledger holdings --as-of 2002-08-01
capledger warrants --as-of 2002-08-01

say "Where Stonestreet's figures come from, as of 2002-12-08"
capledger explain stonestreet --as-of 2002-12-08

say "The audit replay: every entry, in the order it applies"
capledger history

say "The hash chain: write the head hash down; a later audit checks it (--expect-head)"
capledger audit verify

say "Reports: the stockholder ledger (CSV) and one HTML file to open in a browser"
capledger report ledger --as-of 2002-12-08 -o "$out/stockholder-ledger.csv"
capledger report html --as-of 2002-12-08 "$out/report.html"
