#!/usr/bin/env bash
# Runs the product on its embedded defaults: a demo relay on loopback, 3 sites
# × 4 simulated cameras publishing to it, and the console window signed in.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${QLY_DEMO_PORT:-8080}"
data=".demo"
mkdir -p "$data"

pids=()
cleanup() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

bin/relay --demo --listen "127.0.0.1:$port" --data "$data/relay" &
pids+=($!)

for _ in $(seq 1 50); do
	curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: the relay did not start (is port $port free? set QLY_DEMO_PORT)" >&2; exit 1; }
	sleep 0.2
done
# shellcheck source=/dev/null
source "$data/relay/demo-credentials.env"
export QLY_PASSWORD QLY_PUBLISH_TOKEN

bin/sitesim --relay "$QLY_RELAY" --sites 3 --cameras 4 &
pids+=($!)

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
	echo
	echo "demo: no display (DISPLAY is not set), so the desktop window cannot open."
	echo "demo: serving the console to a browser instead; run 'xvfb-run make demo' or set DISPLAY for the window."
	bin/qianliyan --relay "$QLY_RELAY" --user "$QLY_USER" --data "$data/console" --serve "127.0.0.1:$((port + 1))" &
else
	# The window opens maximised, which is the window manager's to do: on a
	# bare X server (xvfb-run) it would stay blank. Real desktops have one;
	# a bare one gets openbox for the demo's length.
	if [ -n "${DISPLAY:-}" ] && ! xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; then
		if command -v openbox >/dev/null; then
			openbox --sm-disable &
			pids+=($!)
			for _ in $(seq 1 100); do
				xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break
				sleep 0.2
			done
		else
			echo "demo: no window manager on $DISPLAY and no openbox (scripts/setup.sh installs it): the maximised window may stay blank" >&2
		fi
	fi
	bin/qianliyan --relay "$QLY_RELAY" --user "$QLY_USER" --data "$data/console" &
fi
pids+=($!)

# The demo ends when the console does (window closed) or on Ctrl-C.
wait "${pids[-1]}"
