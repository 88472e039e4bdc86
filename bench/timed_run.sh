# Sourced by the side-by-side bench scripts, after they set $work (a scratch
# folder). timed_run NAME COMMAND... runs COMMAND under /usr/bin/time, keeps
# its output in $work/out, prints "NAME wall_s peak_MiB fit_s test_accuracy"
# (fit_seconds and Testing score as the program printed them) and appends
# "NAME|wall_s|fit_s|peak_MiB" to $work/rows for the script's ratios.
timed_run() {
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
    { echo "$name failed:"; cat "$work/err"; return 1; }
  local wall kb fit acc
  read -r wall kb <"$work/time"
  fit=$(grep -Eo 'fit_seconds: [0-9.]+' "$work/out" | awk '{print $2}')
  acc=$(grep -E '^Testing score' "$work/out" | awk '{print $3}')
  printf "%-22s %8.2f %9.0f %8.3f %10s\n" "$name" "$wall" "$((kb / 1024))" "${fit:-nan}" "${acc:-?}"
  echo "$name|$wall|${fit:-nan}|$((kb / 1024))" >>"$work/rows"
}
