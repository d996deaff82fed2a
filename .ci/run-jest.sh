# Sourced by .ci/run (and by test/integration/ci-bound.test.ts): run_jest and its bounds. Needs
# `work` (a directory for its progress files) and `root` (the checkout) set.
# Bounds of one engine's jest: the whole of it (a file stuck past jest's own 10-minute backstop per
# test and hook, or an event loop held for good), and its exit once it has written its results
# (closing what is open takes under a second; longer, a test left something open and jest would
# wait for it forever: session 40 saw 14 minutes). Past either, jest and everything under it are
# killed, the files it was running (or those that failed, when it hung after its results) are
# named, and the run fails.
engine_seconds=${C360_CI_ENGINE_SECONDS:-3600}
exit_seconds=${C360_CI_EXIT_SECONDS:-120}
bounds_failed=0

kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
}

# run_jest ENGINE RESULTS [VAR=value...]: npm test on one engine, bounded; answers jest's status.
run_jest() {
  local engine=$1 out=$2
  shift 2
  local progress="$work/$engine.progress" start=$SECONDS results_at="" pid
  : >"$progress"
  env "$@" C360_CI_PROGRESS="$progress" npm test -- --json --outputFile="$out" \
    --reporters=default --reporters="$root/test/ci-progress-reporter.js" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    [ -z "$results_at" ] && [ -f "$out" ] && results_at=$SECONDS
    if [ -n "$results_at" ] && [ $((SECONDS - results_at)) -ge "$exit_seconds" ]; then
      echo "ci: jest ($engine) wrote its results ${exit_seconds} s ago and has not exited: a test left something open." >&2
      # A hook that timed out leaves its setup running: the failed files are where to look first.
      node -e '
        const failed = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).testResults.filter((r) => r.status !== "passed");
        console.error(failed.length ? `ci: files that failed:\n${failed.map((r) => `  ${r.name}`).join("\n")}` : "ci: every file passed");
      ' "$out"
      kill_tree "$pid"
      wait "$pid" 2>/dev/null # gone before the run goes on
      bounds_failed=$((bounds_failed + 1))
      return 1
    fi
    if [ $((SECONDS - start)) -ge "$engine_seconds" ]; then
      echo "ci: jest ($engine) ran past its bound of ${engine_seconds} s; the files it was running:" >&2
      awk '$2 == "start" { s[$3] = $1 } $2 == "done" { delete s[$3] } END { for (f in s) printf "  %s (since %s)\n", f, s[f] }' "$progress" >&2
      kill_tree "$pid"
      wait "$pid" 2>/dev/null
      return 1 # no results written: counted as a failure below
    fi
  done
  wait "$pid"
}
