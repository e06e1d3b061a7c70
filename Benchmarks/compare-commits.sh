#!/usr/bin/env bash
# Compares the benchmark's figures of two or more commits, for costs that cannot be switched off at run
# time (the always-on worker metrics, say). Builds async-worker-bench (release) at each commit in a git
# worktree under .build-compare/, then runs the binaries in turn, RUNS times each (the order rotates from
# run to run), so that a drift in the machine's load falls on all. For each row it prints the median over
# runs of the row's median, per commit, and each commit's figure over the first one's.
#
#     Benchmarks/compare-commits.sh BASE OTHER... [--scenario NAME] [--runs N] [--rounds N] [--rows REGEX]
#                                   [--bench-from REV]
#
# Defaults: --scenario roundtrip, --runs 5, --rounds 3, every row of the table.
# --bench-from REV builds every commit with the benchmark sources (Benchmarks/AsyncWorkerBench) of REV,
# so a library change is measured by the same benchmark on both sides.
# Read the rows of the in-process baselines (ping-pong, task floor) first: they are the same code in
# every binary, so their spread is the noise any other difference must stand out from.
# The worktrees stay for the next comparison; `git worktree remove --force .build-compare/COMMIT` drops one.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
commits=()
while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do
    commits+=("$(git rev-parse --short "$1")")
    shift
done
[ ${#commits[@]} -ge 2 ] || usage
scenario=roundtrip runs=5 rounds=3 rows='.' bench_from=''
while [ $# -gt 0 ]; do
    case "$1" in
        --scenario) scenario=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --bench-from) bench_from=$(git rev-parse --short "$2"); shift 2 ;;
        *) usage ;;
    esac
done

root=.build-compare
mkdir -p "$root"
suffix=${bench_from:+-bench-$bench_from}
for commit in "${commits[@]}"; do
    tree="$root/$commit$suffix"
    if [ ! -d "$tree" ]; then
        git worktree add --detach "$tree" "$commit" > /dev/null
        if [ -n "$bench_from" ]; then
            rm -rf "$tree/Benchmarks/AsyncWorkerBench"
            git archive "$bench_from" Benchmarks/AsyncWorkerBench | tar -x -C "$tree"
        fi
    fi
    echo "building $commit ($(git log -1 --format=%s "$commit"))" >&2
    swift build -c release --package-path "$tree" --product async-worker-bench > "$tree.build.log" 2>&1 \
        || { cat "$tree.build.log" >&2; exit 1; }
done

# One run: the table's rows as "measure<TAB>median in base units (ns, per second or ratio)".
run() {
    "$root/$1$suffix/.build/release/async-worker-bench" --scenario "$scenario" --rounds "$rounds" 2> /dev/null \
        | awk -F'|' -v rows="$rows" '
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

results="$root/results-$(IFS=-; echo "${commits[*]}")-$scenario.tsv"
: > "$results"
count=${#commits[@]}
for index in $(seq 1 "$runs"); do
    for offset in $(seq 0 $((count - 1))); do
        commit=${commits[$(((offset + index) % count))]}
        echo "run $index/$runs: $commit" >&2
        run "$commit" | sed "s/^/$commit\t/" >> "$results"
    done
done

echo "scenario $scenario: $runs runs of $rounds rounds per commit, in rotating order; base = ${commits[0]}"
echo "values: median over runs of each run's median (times in ns, rates per second, ratios as is)"
awk -F'\t' -v commits="${commits[*]}" '
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
        m = split(commits, list, " ")
        line = sprintf("| %-66s", "measure")
        for (c = 1; c <= m; c++) line = line sprintf(" | %10s", list[c])
        for (c = 2; c <= m; c++) line = line sprintf(" | %8s", "/ base")
        print line " |"
        for (i = 1; i <= n; i++) {
            line = sprintf("| %-66s", names[i])
            for (c = 1; c <= m; c++) {
                k = list[c] SUBSEP names[i]
                figure[c] = (k in values) ? median(values[k]) : 0
                line = line sprintf(" | %10.4g", figure[c])
            }
            for (c = 2; c <= m; c++)
                line = line (figure[1] == 0 ? sprintf(" | %8s", "-") : sprintf(" | %7.3f×", figure[c] / figure[1]))
            print line " |"
        }
    }' "$results"
