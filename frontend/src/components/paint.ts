// Work that needs the page's layout (scrolling a row into view, moving the
// keyboard's focus) done while the console is still being built lays the
// whole page out at once, and again after the next change: at a cold start
// that was ~100 ms a time (docs/PERFORMANCE.md, "The console's first
// render"). After the frame was painted, the layout is there to be read.

/** Runs cb once the frame being prepared has been painted. */
export function afterPaint(cb: () => void): void {
  requestAnimationFrame(() => setTimeout(cb, 0))
}
