# bench/e2e/lib/chart.sh — the PNG: one row per scenario, requests/s on the
# left and p99 latency on the right (S6: KiB per idle connection, RSS and PSS),
# one bar per proxy, the median across rounds printed on each bar. A proxy
# with errors gets an empty bar labelled with its error count. Reads the data
# files lib/report.py wrote.

# write_chart DATA_DIR PNG SCENARIOS BACKEND
write_chart() {
  local dir=$1 png=$2 scenarios=$3 backend=$4 s rows=0 script
  script="$dir/chart.gp"
  for s in ${scenarios//,/ }; do [[ -s "$dir/$s.dat" ]] && rows=$((rows + 1)); done
  ((rows > 0)) || return 1
  {
    echo "set terminal pngcairo size 1200,$((60 + 250 * rows)) font 'DejaVu Sans,10'"
    echo "set output '$png'"
    echo "set multiplot layout $rows,2 title 'ringgate vs nginx vs HAProxy vs the floor, backend $backend, $(date +%Y-%m-%d) (medians)'"
    echo "set style fill solid 0.85 border -1"
    echo "set boxwidth 0.6"
    echo "set grid ytics"
    echo "set yrange [0:*]"
    echo "set offsets 0.5, 0.5, graph 0.18, 0"
    echo "set linetype 1 lc rgb '#e6550d'"
    echo "set linetype 2 lc rgb '#31a354'"
    echo "set linetype 3 lc rgb '#3182bd'"
    echo "set linetype 4 lc rgb '#969696'"
    for s in ${scenarios//,/ }; do
      [[ -s "$dir/$s.dat" ]] || continue
      if [[ "$s" == S6 ]]; then
        plot_panel "$dir/$s.dat" 2 4 "$s: KiB per idle connection, RSS (lower is better)"
        plot_panel "$dir/$s.dat" 3 5 "$s: KiB per idle connection, PSS (lower is better)"
      else
        plot_panel "$dir/$s.dat" 2 4 "$s: requests/s (higher is better)"
        plot_panel "$dir/$s.dat" 3 5 "$s: p99 latency, ms (lower is better)"
      fi
    done
    echo "unset multiplot"
  } >"$script"
  gnuplot "$script" >"$dir/gnuplot.log" 2>&1
}

# One bar panel: value column $2, label column $3 of data file $1, title $4.
plot_panel() {
  echo "set title '$4'"
  echo "plot '$1' using 0:$2:6:xtic(1) with boxes lc variable notitle, \\"
  echo "     '' using 0:$2:$3 with labels offset 0,0.8 notitle"
}
