// The regions of the signed-in screen that take the keyboard, and how Esc
// walks back from each. The region shown as having the keys is worked out
// from where the keyboard focus is, the same thing that decides where a key
// goes: a key no region's element has reaches the window and the wall.

export type Region = 'wall' | 'tree' | 'findings' | 'checklist' | 'dialog'

const regions: readonly Region[] = ['wall', 'tree', 'findings', 'checklist', 'dialog']

/** What regionOf needs of a DOM element (an Element; a stand-in in the unit tests). */
export interface ElementLike {
  closest(selector: string): { getAttribute(name: string): string | null } | null
}

/**
 * The region holding the focused element. A modal dialog is one region
 * whatever is inside it; nothing focused (the page itself) is the wall,
 * since that is where the window sends the keys.
 */
export function regionOf(el: ElementLike | null | undefined): Region {
  if (!el) return 'wall'
  if (el.closest('[role="dialog"], [aria-modal="true"]')) return 'dialog'
  const named = el.closest('[data-region]')?.getAttribute('data-region')
  return regions.includes(named as Region) ? (named as Region) : 'wall'
}

/** What is open beside the wall, for where Esc goes back to. */
export interface Open {
  findings: boolean
  checklist: boolean
}

/**
 * Where Esc takes the keyboard from a region: one level back, never two.
 * A dialog goes back to the region it was opened from (if that is still on
 * screen); the panels and the camera list go back to the wall.
 */
export function escTarget(from: Region, openedFrom: Region | undefined, open: Open): Region {
  if (from !== 'dialog') return 'wall'
  const back = openedFrom ?? 'wall'
  if (back === 'findings' && !open.findings) return open.checklist ? 'checklist' : 'wall'
  if (back === 'checklist' && !open.checklist) return open.findings ? 'findings' : 'wall'
  return back === 'dialog' ? 'wall' : back
}
