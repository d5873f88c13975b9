// Package chromium starts the headless Chromium that browser tests drive
// with chromedp: the Debian package's binary, with the flags this machine
// needs (no sandbox as root, no GPU, nothing fetched from the network) and
// a profile of its own per test.
package chromium

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// Path is Debian's Chromium; tests never download a browser.
const Path = "/usr/bin/chromium"

// New starts a browser for the rest of the test and returns its chromedp
// context. extra adds or overrides flags (window size, language, autoplay).
func New(t testing.TB, ctx context.Context, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}
