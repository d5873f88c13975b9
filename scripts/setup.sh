#!/usr/bin/env bash
# Installs everything the demo and the tests need on Debian 12, idempotently:
# Debian packages (only when one is missing), the frontend's npm packages and
# the Go modules. Safe to run again and again; `make demo` and `make test` do.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
	build-essential pkg-config          # cgo (SQLite, the Wails shell)
	libgtk-3-dev libwebkit2gtk-4.0-dev  # the Wails window
	gstreamer1.0-libav gstreamer1.0-plugins-good gstreamer1.0-plugins-bad # H.264 for WebCodecs in the webview
	xvfb xauth imagemagick              # the window without a screen, and screenshots of it
	openbox xdotool x11-utils           # the window test: a window manager to maximise it, keys typed as a keyboard does, xprop to see it manage
	chromium                            # browser tests
	ffmpeg                              # the simulated cameras, and probing evidence clips
	curl                                # the demo script waits for the relay
	fonts-dejavu-core fonts-noto-cjk    # the camera overlay text, and Chinese in the UI
	fonts-droid-fallback                # the CJK TrueType font the relay embeds in its PDFs (监督意见书, reports; relay/pdfdoc)
	poppler-utils                       # pdftotext: the tests read the PDFs back
	nodejs npm                          # only installed if node is missing
)

missing=()
for p in "${apt_packages[@]}"; do
	case "$p" in
	nodejs | npm) command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing Debian packages: ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
	echo "setup: Go 1.26 is required (expected at /usr/local/go/bin)" >&2
	exit 1
fi
go mod download

# npm ci rejects a lock file written on this platform (it lacks other
# platforms' optional rollup binaries), so install, and only when stale.
if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ] || [ frontend/package.json -nt frontend/node_modules/.package-lock.json ]; then
	echo "setup: installing frontend packages"
	(cd frontend && npm install --no-audit --no-fund --loglevel=error)
fi
