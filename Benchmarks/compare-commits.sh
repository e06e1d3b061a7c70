#!/usr/bin/env bash
# Compares the benchmark's figures of two commits, for costs that cannot be switched off at run time
# (the always-on worker metrics, say). Builds async-worker-bench (release) at each commit in a git
# worktree under .build-compare/, then runs the two binaries alternately, RUNS times each, so that a
# drift in the machine's load falls on both. For each row it prints the median over runs of the row's
# median, for each commit, and new / old.
#
#     Benchmarks/compare-commits.sh OLD NEW [--scenario NAME] [--runs N] [--rounds N] [--rows REGEX]
#
# Defaults: --scenario roundtrip, --runs 5, --rounds 3, every row of the table.
# Compare ratios against an in-process baseline (ping-pong, task floor) rather than absolute times:
# the baselines are the same code in both binaries, so they show how much the machine moved between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
old=$(git rev-parse --short "$1")
new=$(git rev-parse --short "$2")
shift 2
scenario=roundtrip runs=5 rounds=3 rows='.'
while [ $# -gt 0 ]; do
    case "$1" in
        --scenario) scenario=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        *) usage ;;
    esac
done

root=.build-compare
mkdir -p "$root"
build() {
    local commit=$1 tree="$root/$1"
    if [ ! -d "$tree" ]; then
        git worktree add --detach "$tree" "$commit" > /dev/null
    fi
    echo "building $commit ($(git log -1 --format=%s "$commit"))" >&2
    swift build -c release --package-path "$tree" --product async-worker-bench > "$root/$commit.build.log" 2>&1 \
        || { cat "$root/$commit.build.log" >&2; exit 1; }
    echo "$tree/.build/release/async-worker-bench"
}
old_bin=$(build "$old")
new_bin=$(build "$new")

# One run: the table's rows as "measure<TAB>median in base units (ns, per second or ratio)".
run() {
    "$1" --scenario "$scenario" --rounds "$rounds" 2> /dev/null | awk -F'|' -v rows="$rows" '
        NF >= 4 && $2 ~ rows && $3 ~ /[0-9]/ {
            measure = $2; gsub(/^ +| +$/, "", measure)
            cell = $3; gsub(/^ +| +$/, "", cell)
            split(cell, parts, " ")
            value = parts[1] + 0; unit = parts[2]
            if (cell ~ /×$/) { value = substr(cell, 1, length(cell) - 1) + 0 }
            else if (unit == "µs") value *= 1e3
            else if (unit == "ms") value *= 1e6
            else if (unit == "s") value *= 1e9
            else if (unit == "k/s") value *= 1e3
            else if (unit == "M/s") value *= 1e6
            else if (unit == "KiB") value *= 1024
            else if (unit == "MiB") value *= 1048576
            printf "%s\t%s\n", measure, value
        }'
}

results="$root/results-$old-$new-$scenario.tsv"
: > "$results"
for index in $(seq 1 "$runs"); do
    # Alternate which binary goes first.
    if [ $((index % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for side in $order; do
        echo "run $index/$runs: $side" >&2
        if [ "$side" = old ]; then bin=$old_bin; else bin=$new_bin; fi
        run "$bin" | sed "s/^/$side\t/" >> "$results"
    done
done

echo "scenario $scenario: $runs runs of $rounds rounds per commit, alternated; old = $old, new = $new"
echo "values: median over runs of each run's median (times in ns, rates per second, ratios as is)"
awk -F'\t' '
    function median(list,   count, sorted, i, j, t) {
        count = split(list, sorted, ",")
        for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++)
            if (sorted[j] + 0 < sorted[i] + 0) { t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t }
        return count % 2 ? sorted[(count + 1) / 2] : (sorted[count / 2] + sorted[count / 2 + 1]) / 2
    }
    {
        if (!($2 in seen)) { seen[$2] = 1; names[++n] = $2 }
        key = $1 SUBSEP $2
        values[key] = (key in values) ? values[key] "," $3 : $3
    }
    END {
        printf "| %-70s | %14s | %14s | %9s |\n", "measure", "old", "new", "new / old"
        for (i = 1; i <= n; i++) {
            a = median(values["old" SUBSEP names[i]]); b = median(values["new" SUBSEP names[i]])
            printf "| %-70s | %14.4g | %14.4g | %8.3f× |\n", names[i], a, b, (a == 0 ? 0 : b / a)
        }
    }' "$results"
