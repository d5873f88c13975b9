// Every key the console answers to, in one table: the handlers look keys up
// here and the `?` overlay lists this table, so the two cannot disagree.
//
// A scope is where keyboard focus is. Keys not bound in the tree or the
// filter box fall through to the wall (a digit picks a tile from anywhere);
// so do those the checklist and the findings panel leave (f flags from the
// checklist too). Menus, the flag picker and the finding dialog are modal
// and take only their own keys.

export type Scope = 'wall' | 'tree' | 'filter' | 'menu' | 'checklist' | 'flag' | 'findings' | 'finding'

export type Action =
  | 'tile.number'
  | 'tile.move'
  | 'tile.focus'
  | 'tile.clear'
  | 'tile.swap'
  | 'back'
  | 'grid.fewer'
  | 'grid.more'
  | 'layout.save'
  | 'layout.open'
  | 'tour.toggle'
  | 'tour.next'
  | 'tour.previous'
  | 'tour.choose'
  | 'tour.stop'
  | 'tree.go'
  | 'filter.go'
  | 'settings'
  | 'help'
  | 'tree.move'
  | 'tree.page'
  | 'tree.ends'
  | 'tree.assign'
  | 'tree.leave'
  | 'filter.toList'
  | 'filter.assign'
  | 'filter.clear'
  | 'menu.move'
  | 'menu.choose'
  | 'menu.delete'
  | 'menu.edit'
  | 'menu.new'
  | 'menu.close'
  | 'flag.open'
  | 'checklist.open'
  | 'findings.open'
  | 'step.move'
  | 'step.done'
  | 'step.deviation'
  | 'step.notSeen'
  | 'step.clear'
  | 'step.timer'
  | 'checklist.template'
  | 'proposal.confirm'
  | 'proposal.dismiss'
  | 'checklist.close'
  | 'flag.choose'
  | 'flag.save'
  | 'flag.cancel'
  | 'findings.move'
  | 'findings.show'
  | 'findings.withdraw'
  | 'findings.close'
  | 'finding.verify'
  | 'finding.reopen'
  | 'finding.camera'
  | 'finding.retry'
  | 'finding.close'

/** Groups in the `?` overlay. */
export type Section = 'tiles' | 'layouts' | 'tour' | 'findings' | 'general' | 'checklist' | 'flag' | 'findingsPanel' | 'findingDetail' | 'tree' | 'filter' | 'menu'

export interface Binding {
  action: Action
  scope: Scope
  section: Section
  /** KeyboardEvent.key values, letters in lower case, " " as "Space". */
  keys: readonly string[]
}

export const bindings: readonly Binding[] = [
  { action: 'tile.number', scope: 'wall', section: 'tiles', keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] },
  { action: 'tile.move', scope: 'wall', section: 'tiles', keys: ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'] },
  { action: 'tile.focus', scope: 'wall', section: 'tiles', keys: ['Enter'] },
  { action: 'back', scope: 'wall', section: 'tiles', keys: ['Escape'] },
  { action: 'tile.clear', scope: 'wall', section: 'tiles', keys: ['Delete', 'Backspace'] },
  { action: 'tile.swap', scope: 'wall', section: 'tiles', keys: ['m'] },
  { action: 'grid.fewer', scope: 'wall', section: 'layouts', keys: ['-'] },
  { action: 'grid.more', scope: 'wall', section: 'layouts', keys: ['=', '+'] },
  { action: 'layout.save', scope: 'wall', section: 'layouts', keys: ['s'] },
  { action: 'layout.open', scope: 'wall', section: 'layouts', keys: ['l'] },
  { action: 'tour.toggle', scope: 'wall', section: 'tour', keys: ['Space'] },
  { action: 'tour.next', scope: 'wall', section: 'tour', keys: ['n'] },
  { action: 'tour.previous', scope: 'wall', section: 'tour', keys: ['p'] },
  { action: 'tour.choose', scope: 'wall', section: 'tour', keys: ['t'] },
  { action: 'tour.stop', scope: 'wall', section: 'tour', keys: ['x'] },
  { action: 'flag.open', scope: 'wall', section: 'findings', keys: ['f'] },
  { action: 'checklist.open', scope: 'wall', section: 'findings', keys: ['k'] },
  { action: 'findings.open', scope: 'wall', section: 'findings', keys: ['r'] },
  { action: 'tree.go', scope: 'wall', section: 'general', keys: ['c'] },
  { action: 'filter.go', scope: 'wall', section: 'general', keys: ['/'] },
  { action: 'settings', scope: 'wall', section: 'general', keys: [','] },
  { action: 'help', scope: 'wall', section: 'general', keys: ['?'] },
  { action: 'tree.move', scope: 'tree', section: 'tree', keys: ['ArrowUp', 'ArrowDown'] },
  { action: 'tree.page', scope: 'tree', section: 'tree', keys: ['PageUp', 'PageDown'] },
  { action: 'tree.ends', scope: 'tree', section: 'tree', keys: ['Home', 'End'] },
  { action: 'tree.assign', scope: 'tree', section: 'tree', keys: ['Enter'] },
  { action: 'tree.leave', scope: 'tree', section: 'tree', keys: ['Escape'] },
  { action: 'filter.toList', scope: 'filter', section: 'filter', keys: ['ArrowDown'] },
  { action: 'filter.assign', scope: 'filter', section: 'filter', keys: ['Enter'] },
  { action: 'filter.clear', scope: 'filter', section: 'filter', keys: ['Escape'] },
  { action: 'menu.move', scope: 'menu', section: 'menu', keys: ['ArrowUp', 'ArrowDown'] },
  { action: 'menu.choose', scope: 'menu', section: 'menu', keys: ['Enter'] },
  { action: 'menu.delete', scope: 'menu', section: 'menu', keys: ['Delete'] },
  { action: 'menu.edit', scope: 'menu', section: 'menu', keys: ['e'] },
  { action: 'menu.new', scope: 'menu', section: 'menu', keys: ['n'] },
  { action: 'menu.close', scope: 'menu', section: 'menu', keys: ['Escape'] },
  { action: 'step.move', scope: 'checklist', section: 'checklist', keys: ['ArrowUp', 'ArrowDown'] },
  { action: 'step.done', scope: 'checklist', section: 'checklist', keys: ['d'] },
  { action: 'step.deviation', scope: 'checklist', section: 'checklist', keys: ['x'] },
  { action: 'step.notSeen', scope: 'checklist', section: 'checklist', keys: ['n'] },
  { action: 'step.clear', scope: 'checklist', section: 'checklist', keys: ['Backspace'] },
  { action: 'step.timer', scope: 'checklist', section: 'checklist', keys: ['Space'] },
  { action: 'proposal.confirm', scope: 'checklist', section: 'checklist', keys: ['Enter'] },
  { action: 'proposal.dismiss', scope: 'checklist', section: 'checklist', keys: ['Delete'] },
  { action: 'checklist.template', scope: 'checklist', section: 'checklist', keys: ['t'] },
  { action: 'checklist.close', scope: 'checklist', section: 'checklist', keys: ['Escape'] },
  { action: 'flag.choose', scope: 'flag', section: 'flag', keys: ['ArrowUp', 'ArrowDown'] },
  { action: 'flag.save', scope: 'flag', section: 'flag', keys: ['Enter'] },
  { action: 'flag.cancel', scope: 'flag', section: 'flag', keys: ['Escape'] },
  { action: 'findings.move', scope: 'findings', section: 'findingsPanel', keys: ['ArrowUp', 'ArrowDown'] },
  { action: 'findings.show', scope: 'findings', section: 'findingsPanel', keys: ['Enter'] },
  { action: 'findings.withdraw', scope: 'findings', section: 'findingsPanel', keys: ['w'] },
  { action: 'findings.close', scope: 'findings', section: 'findingsPanel', keys: ['Escape'] },
  { action: 'finding.verify', scope: 'finding', section: 'findingDetail', keys: ['v'] },
  { action: 'finding.reopen', scope: 'finding', section: 'findingDetail', keys: ['x'] },
  { action: 'finding.camera', scope: 'finding', section: 'findingDetail', keys: ['o'] },
  { action: 'finding.retry', scope: 'finding', section: 'findingDetail', keys: ['r'] },
  { action: 'finding.close', scope: 'finding', section: 'findingDetail', keys: ['Escape'] },
]

export const sections: readonly Section[] = ['tiles', 'layouts', 'tour', 'findings', 'general', 'checklist', 'flag', 'findingsPanel', 'findingDetail', 'tree', 'filter', 'menu']

// Where a scope's unbound keys go. Typing in the filter box must not move
// tiles, so the filter passes nothing on.
const fallthrough: Record<Scope, Scope | undefined> = {
  wall: undefined,
  tree: 'wall',
  filter: undefined,
  menu: undefined,
  checklist: 'wall',
  flag: undefined,
  findings: 'wall',
  // The finding dialog is modal: a wall key there would act behind it.
  finding: undefined,
}

export interface KeyLike {
  key: string
  ctrlKey?: boolean
  altKey?: boolean
  metaKey?: boolean
}

/** The key's name as the table spells it, or undefined for chords the console leaves to the browser. */
export function keyName(e: KeyLike): string | undefined {
  if (e.ctrlKey || e.altKey || e.metaKey) return undefined
  if (e.key === ' ' || e.key === 'Spacebar') return 'Space'
  return e.key.length === 1 ? e.key.toLowerCase() : e.key
}

export interface Resolved {
  action: Action
  key: string
  binding: Binding
}

/** What a key does with focus in `scope`, or undefined. */
export function resolve(scope: Scope, e: KeyLike): Resolved | undefined {
  const key = keyName(e)
  if (key === undefined) return undefined
  for (let s: Scope | undefined = scope; s; s = fallthrough[s]) {
    const b = bindings.find((x) => x.scope === s && x.keys.includes(key))
    if (b) return { action: b.action, key, binding: b }
  }
  return undefined
}

/** How a key is written on its keycap. */
export function keyCap(key: string): string {
  return caps[key] ?? (key.length === 1 ? key.toUpperCase() : key)
}

const caps: Record<string, string> = {
  ArrowUp: '↑',
  ArrowDown: '↓',
  ArrowLeft: '←',
  ArrowRight: '→',
  Escape: 'Esc',
  Delete: 'Del',
  Backspace: '⌫',
  PageUp: 'PgUp',
  PageDown: 'PgDn',
  Space: 'Space',
}

/** The tile a run of digits names: "1" then "2" within the pause is tile 12 when the grid has one. */
export class TileNumberEntry {
  private digits = ''
  private at = -Infinity

  constructor(private readonly pauseMs = 900) {}

  /** Returns the 0-based tile, or -1 when the digits name none on this grid. */
  push(digit: string, grid: number, now: number): number {
    const joined = now - this.at <= this.pauseMs ? this.digits + digit : digit
    this.at = now
    const n = Number(joined)
    if (joined.length <= 2 && n >= 1 && n <= grid) {
      this.digits = joined
      return n - 1
    }
    this.digits = digit
    const single = Number(digit)
    return single >= 1 && single <= grid ? single - 1 : -1
  }
}

/** The message key of an action's description (keys.actions.*). */
export function actionMessage(a: Action): string {
  return `keys.actions.${a.replace('.', '_')}`
}
