#!/usr/bin/env bash
# Draws one PNG of two panels from the harnesses' own outputs (gnuplot, Debian gnuplot-nox):
#   left:  end-to-end throughput against worker lcores, from perf/e2e_pcap.sh outputs (one per
#          lcore count): queries per second answered in total, and the sum of the workers'
#          queries per CPU-second (what they would answer each on a whole core: on a shared
#          machine a busy-polling worker gets only part of its core)
#   right: sextant-perf's latency percentiles (p50, p90, p99, p99.9, max), one line per run
#
# Usage: perf/plot.sh [--note TEXT] --out FILE.png --e2e E2E_OUTPUT... --latency PERF_OUTPUT...
#   --note  a line printed under the title (e.g. "small scale, machine under load")
# The inputs are what the tools print, e.g.
#   QUEUES=1 perf/e2e_pcap.sh > e2e-1.txt
#   QUEUES=2 LCORES='0@0,1@0,2@1' perf/e2e_pcap.sh > e2e-2.txt
#   sextant-perf -l 0-1 --no-huge -m 1024 --no-pci -- --seconds 5 --window 1 > perf-w1.txt
set -euo pipefail

out='' note='' mode=
e2e=() lat=()
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --note) note=$2; shift 2 ;;
    --e2e) mode=e2e; shift ;;
    --latency) mode=lat; shift ;;
    *)
      case $mode in
        e2e) e2e+=("$1") ;;
        lat) lat+=("$1") ;;
        *) echo "plot.sh: $1: put it after --e2e or --latency" >&2; exit 2 ;;
      esac
      shift ;;
  esac
done
[[ -n $out && ${#e2e[@]} -gt 0 && ${#lat[@]} -gt 0 ]] || {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
command -v gnuplot >/dev/null ||
  { echo "plot.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }

work=$(mktemp -d /tmp/sxplot.XXXXXX)
trap 'rm -rf "$work"' EXIT

# e2e: worker lines are "lcore rx tx queries share Mq/cpu-s drops ..." (control_block_counters.py).
for f in "${e2e[@]}"; do
  awk '$1 ~ /^[0-9]+$/ && NF >= 7 { n++; q += $4; if ($6 != "-") c += $6 }
       END { if (n) printf "%d %.3f %.3f\n", n, q, c }' "$f"
done | sort -n >"$work/e2e.dat"
[[ -s $work/e2e.dat ]] || { echo "plot.sh: no worker lines in ${e2e[*]}" >&2; exit 1; }

# sextant-perf: the first line names the load; the "latency us" line has the percentiles.
labels=()
for f in "${lat[@]}"; do
  label=$(sed -n 's/.*; \(closed loop, window [0-9]*\|open loop at [0-9]* qps\);.*/\1/p' "$f" |
    head -1)
  labels+=("${label:-$(basename "$f")}")
  awk '/latency us/ {
      for (k = 1; k <= NF; k++) v[$k] = $(k + 1)
      split("p50 p90 p99 p99.9 max", names, " ")
      for (k = 1; k <= 5; k++) print k, v[names[k]]
    }' "$f" >"$work/lat${#labels[@]}.dat"
  [[ -s $work/lat${#labels[@]}.dat ]] || { echo "plot.sh: no latency line in $f" >&2; exit 1; }
done

{
  echo "set terminal pngcairo size 1400,560 noenhanced font ',10'"
  echo "set output '$out'"
  # Double quotes: gnuplot turns \n into a line break there; the note may not hold a double quote.
  title="Sextant: e2e_pcap.sh and sextant-perf${note:+\\n$note}"
  echo "set multiplot layout 1,2 title \"$title\" font ',11'"
  echo "set title 'End to end (net_pcap -> dataplane -> net_null) against worker lcores'"
  echo "set xlabel 'worker lcores'; set ylabel 'Mqps'; set key top left; set grid"
  echo "set xtics 1; set xrange [0.4:$(tail -1 "$work/e2e.dat" | cut -d' ' -f1).6]"
  echo "set yrange [0:*]; set style fill solid 0.6; set boxwidth 0.35"
  echo "plot '$work/e2e.dat' using (\$1-0.2):2 with boxes title 'answered, total Mqps', \\"
  echo "     '' using (\$1+0.2):3 with boxes \\"
  echo "       title 'each worker on a whole core: sum of Mq per CPU-second', \\"
  echo "     '' using (\$1-0.2):2:(sprintf('%.2f', \$2)) with labels offset 0,0.7 notitle, \\"
  echo "     '' using (\$1+0.2):3:(sprintf('%.2f', \$3)) with labels offset 0,0.7 notitle"
  echo "set title 'sextant-perf latency percentiles (ring ports, every answer checked)'"
  echo "set xlabel 'percentile'; set ylabel 'microseconds (log)'; set logscale y"
  echo "set key bottom right box opaque"
  echo "set xtics ('p50' 1, 'p90' 2, 'p99' 3, 'p99.9' 4, 'max' 5); set xrange [0.7:5.3]"
  echo "unset yrange; unset boxwidth"
  printf "plot "
  for ((k = 1; k <= ${#labels[@]}; k++)); do
    ((k > 1)) && printf ", "
    printf "'%s' using 1:2 with linespoints pt 7 lw 2 title '%s'" "$work/lat$k.dat" \
      "${labels[k - 1]}"
  done
  echo
  echo "unset multiplot"
} >"$work/plot.gp"
gnuplot "$work/plot.gp"
echo "plot.sh: $out"
