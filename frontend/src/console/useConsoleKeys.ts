// The keys the window hears on the signed-in screen: the wall's own, the
// tour's, and the way to everything else; and one command table for both
// the keys and the toolbar's buttons (runAction), so a click does exactly
// what its key does.
import { i18n } from '../i18n'
import { runAction, useWindowKeys, type Action, type Commands, type Modal } from '../keys'
import type { ToursState } from '../tour/useTours'
import type { WallControl } from '../wall/useWallControl'
import type { WallState } from '../wall/useWall'
import type { Say } from './useNotice'
import type { Overlays } from './useOverlays'
import type { useWork } from './useWork'
import { openSecondWall, secondWallQuery, toggleFullscreen } from './windowShell'

export interface ConsoleKeyParts {
  overlays: Overlays
  control: WallControl
  tours: ToursState
  wall: WallState
  work: ReturnType<typeof useWork>
  openFlag(): void
  /** Keeps the still of the tile in use (stills.ts). */
  snapshot(): void
  /** The bridge's secret, which a second wall in the browser signs in with. */
  token: string
  say: Say
}

export function useConsoleKeys(p: ConsoleKeyParts) {
  const { overlays, work } = p
  const commands: Commands = {
    ...p.control.commands,
    ...p.tours.commands,
    // Esc goes back one level: from a finding's camera enlarged for its
    // re-check back to that finding in the list, else the wall's own.
    back: (r) => {
      if (!work.leaveRecheck()) p.control.commands.back?.(r)
    },
    'layout.save': () => overlays.open('save'),
    'layout.open': () => overlays.open('layouts'),
    'tree.go': () => overlays.treeView.value?.focus(),
    'filter.go': () => overlays.treeView.value?.focusFilter(),
    settings: () => overlays.open('settings'),
    help: () => overlays.open('help'),
    'flag.open': () => p.openFlag(),
    'tile.snapshot': () => p.snapshot(),
    'checklist.open': work.openChecklist,
    'findings.open': work.openFindings,
    'window.fullscreen': () => void toggleFullscreen().catch(() => p.say(i18n.global.t('app.failed', { message: 'fullscreen' }))),
    'wall.second': () => {
      const query = secondWallQuery({ layout: p.wall.layoutName.value || null, grid: p.wall.view.value.grid })
      if (!openSecondWall(query, p.token)) p.say(i18n.global.t('toolbar.secondWallBlocked'))
    },
  }

  function modal(): Modal | undefined {
    const o = overlays.overlay.value
    if (!o) return undefined
    return { closeKeys: o === 'help' ? ['Escape', '?'] : ['Escape'], close: o === 'finding' ? work.closeFinding : () => overlays.close() }
  }

  useWindowKeys({ scope: 'wall', commands, modal })

  return {
    commands,
    /** A toolbar button: the action its key runs. */
    run: (a: Action) => runAction(commands, a),
  }
}
