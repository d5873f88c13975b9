// Every key the console answers to, in one table: the handlers look keys up
// here and the `?` overlay lists this table, so the two cannot disagree.
//
// A scope is where keyboard focus is. Keys not bound in the tree or the
// filter box fall through to the wall (a digit picks a tile from anywhere);
// so do those the checklist and the findings panel leave (f flags from the
// checklist too). Menus, the flag picker and the finding dialog are modal
// and take only their own keys.

export type Scope = 'wall' | 'tree' | 'filter' | 'menu' | 'checklist' | 'flag' | 'findings' | 'finding' | 'review' | 'reviewDetail'

/** Groups in the `?` overlay. */
export type Section =
  | 'tiles'
  | 'layouts'
  | 'tour'
  | 'findings'
  | 'general'
  | 'checklist'
  | 'flag'
  | 'findingsPanel'
  | 'findingDetail'
  | 'tree'
  | 'filter'
  | 'menu'
  | 'review'
  | 'reviewDetail'

interface BindingOf<A extends string> {
  action: A
  scope: Scope
  section: Section
  /** KeyboardEvent.key values, letters in lower case, " " as "Space". */
  keys: readonly string[]
}

/** One section of a scope: each action with its keys, in the order the overlay lists them. */
function group<A extends string>(scope: Scope, section: Section, actions: Record<A, readonly string[]>): BindingOf<A>[] {
  return (Object.entries(actions) as [A, readonly string[]][]).map(([action, keys]) => ({ action, scope, section, keys }))
}

const table = [
  ...group('wall', 'tiles', {
    'tile.number': ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'],
    'tile.move': ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'],
    'tile.focus': ['Enter'],
    back: ['Escape'],
    'tile.clear': ['Delete', 'Backspace'],
    'tile.swap': ['m'],
  }),
  ...group('wall', 'layouts', {
    'grid.fewer': ['-'],
    'grid.more': ['=', '+'],
    'layout.save': ['s'],
    'layout.open': ['l'],
  }),
  ...group('wall', 'tour', {
    'tour.toggle': ['Space'],
    'tour.next': ['n'],
    'tour.previous': ['p'],
    'tour.choose': ['t'],
    'tour.stop': ['x'],
    'tour.leastWatched': ['u'],
  }),
  ...group('wall', 'findings', {
    'flag.open': ['f'],
    'tile.snapshot': ['i'],
    'checklist.open': ['k'],
    'findings.open': ['r'],
    'coverage.open': ['g'],
    'moment.go': ['j'],
  }),
  ...group('wall', 'general', {
    'tree.go': ['c'],
    'filter.go': ['/'],
    settings: [','],
    help: ['?'],
    'window.fullscreen': ['F11'],
    'wall.second': ['w'],
    // Shift+H too: keyName reads the letter, not the case.
    'handover.open': ['h'],
    // A supervisor's review workspace (issue 13), where w comes back here.
    'workspace.open': ['v'],
  }),
  // The supervisors' review list and a finding opened from it (issue 13).
  ...group('review', 'review', {
    'review.move': ['j', 'k', 'ArrowDown', 'ArrowUp'],
    'review.open': ['Enter'],
    'review.search': ['/'],
    'review.reviewed': ['r'],
    'review.more': ['m'],
    'review.tab': ['1', '2', '3', '4'],
    'review.wall': ['w'],
    'review.help': ['?'],
  }),
  ...group('reviewDetail', 'reviewDetail', {
    'reviewDetail.reviewed': ['r'],
    'reviewDetail.comment': ['c'],
    'reviewDetail.outcome': ['o'],
    'reviewDetail.close': ['Escape'],
  }),
  ...group('tree', 'tree', {
    'tree.move': ['ArrowUp', 'ArrowDown'],
    'tree.page': ['PageUp', 'PageDown'],
    'tree.ends': ['Home', 'End'],
    'tree.assign': ['Enter'],
    'tree.leave': ['Escape'],
  }),
  ...group('filter', 'filter', {
    'filter.toList': ['ArrowDown'],
    'filter.assign': ['Enter'],
    'filter.clear': ['Escape'],
  }),
  ...group('menu', 'menu', {
    'menu.move': ['ArrowUp', 'ArrowDown'],
    'menu.choose': ['Enter'],
    'menu.delete': ['Delete'],
    'menu.edit': ['e'],
    'menu.new': ['n'],
    'menu.close': ['Escape'],
  }),
  ...group('checklist', 'checklist', {
    'step.move': ['ArrowUp', 'ArrowDown'],
    'step.done': ['d'],
    'step.deviation': ['x'],
    'step.notSeen': ['n'],
    'step.clear': ['Backspace'],
    'step.timer': ['Space'],
    'proposal.confirm': ['Enter'],
    'proposal.edit': ['e'],
    'proposal.dismiss': ['Delete'],
    'checklist.template': ['t'],
    'checklist.end': ['q'],
    'checklist.close': ['Escape'],
  }),
  ...group('flag', 'flag', {
    'flag.choose': ['ArrowUp', 'ArrowDown'],
    'flag.save': ['Enter'],
    'flag.cancel': ['Escape'],
  }),
  ...group('findings', 'findingsPanel', {
    'findings.move': ['ArrowUp', 'ArrowDown'],
    'findings.show': ['Enter'],
    'findings.withdraw': ['w'],
    'findings.close': ['Escape'],
  }),
  ...group('finding', 'findingDetail', {
    'finding.verify': ['v'],
    'finding.reopen': ['x'],
    'finding.camera': ['o'],
    'finding.retry': ['r'],
    'finding.close': ['Escape'],
    'clip.play': ['Space'],
    'clip.step': [',', '.'],
    'clip.speed': ['[', ']'],
  }),
]

/** Everything a key can do. */
export type Action = (typeof table)[number]['action']
export type Binding = BindingOf<Action>

export const bindings: readonly Binding[] = table

export const sections: readonly Section[] = ['tiles', 'layouts', 'tour', 'findings', 'general', 'checklist', 'flag', 'findingsPanel', 'findingDetail', 'tree', 'filter', 'menu', 'review', 'reviewDetail']

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
  review: undefined,
  reviewDetail: undefined,
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
