import { describe, expect, it } from 'vitest'
import { createSSRApp } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { createI18n } from 'vue-i18n'
import HelpOverlay from '../components/HelpOverlay.vue'
import { locales, messages } from '../i18n/messages'
import { bindings, keyCap, keyName, resolve, TileNumberEntry, type Scope } from './keymap'

const scopes: Scope[] = ['wall', 'tree', 'filter', 'menu', 'checklist', 'flag', 'findings', 'finding', 'review', 'reviewDetail']

describe('the key table', () => {
  it('binds every key once in each scope', () => {
    for (const scope of scopes) {
      const keys = bindings.filter((b) => b.scope === scope).flatMap((b) => b.keys)
      const twice = keys.filter((k, i) => keys.indexOf(k) !== i)
      expect(twice, scope).toEqual([])
    }
  })

  it('lists every action once, with at least one key', () => {
    const actions = bindings.map((b) => `${b.scope}:${b.action}`)
    expect(new Set(actions).size).toBe(actions.length)
    for (const b of bindings) expect(b.keys.length, b.action).toBeGreaterThan(0)
  })

  it('spells keys as keyName gives them', () => {
    for (const b of bindings) for (const k of b.keys) expect(k.length === 1 ? k.toLowerCase() : k, b.action).toBe(k)
  })
})

describe('resolve', () => {
  const cases: { scope: Scope; key: string; mods?: object; want: string | undefined }[] = [
    { scope: 'wall', key: '7', want: 'tile.number' },
    { scope: 'wall', key: 'ArrowLeft', want: 'tile.move' },
    { scope: 'wall', key: 'Enter', want: 'tile.focus' },
    { scope: 'wall', key: 'Escape', want: 'back' },
    { scope: 'wall', key: ' ', want: 'tour.toggle' },
    { scope: 'wall', key: 'N', want: 'tour.next' },
    { scope: 'wall', key: '?', want: 'help' },
    { scope: 'wall', key: '+', want: 'grid.more' },
    { scope: 'wall', key: 'q', want: undefined },
    { scope: 'wall', key: 's', mods: { ctrlKey: true }, want: undefined },
    { scope: 'wall', key: '1', mods: { altKey: true }, want: undefined },
    { scope: 'wall', key: 'r', mods: { metaKey: true }, want: undefined },
    // The camera list answers its own keys and passes the rest to the wall.
    { scope: 'tree', key: 'ArrowDown', want: 'tree.move' },
    { scope: 'tree', key: 'Enter', want: 'tree.assign' },
    { scope: 'tree', key: 'Escape', want: 'tree.leave' },
    { scope: 'tree', key: '5', want: 'tile.number' },
    { scope: 'tree', key: ' ', want: 'tour.toggle' },
    // Typing in the filter box is typing.
    { scope: 'filter', key: 'n', want: undefined },
    { scope: 'filter', key: '5', want: undefined },
    { scope: 'filter', key: 'Enter', want: 'filter.assign' },
    { scope: 'filter', key: 'ArrowDown', want: 'filter.toList' },
    // Menus are modal.
    { scope: 'menu', key: 'Delete', want: 'menu.delete' },
    { scope: 'menu', key: '1', want: undefined },
    { scope: 'menu', key: ' ', want: undefined },
    { scope: 'wall', key: 'f', want: 'flag.open' },
    { scope: 'wall', key: 'k', want: 'checklist.open' },
    { scope: 'wall', key: 'r', want: 'findings.open' },
    // The checklist shadows n (not seen) and Space (timer), and passes the rest on.
    { scope: 'checklist', key: 'n', want: 'step.notSeen' },
    { scope: 'checklist', key: ' ', want: 'step.timer' },
    { scope: 'checklist', key: 'Enter', want: 'proposal.confirm' },
    { scope: 'checklist', key: 'f', want: 'flag.open' },
    { scope: 'checklist', key: '3', want: 'tile.number' },
    // The flag picker is modal: Enter saves, nothing reaches the wall.
    { scope: 'flag', key: 'Enter', want: 'flag.save' },
    { scope: 'flag', key: 'f', want: undefined },
    { scope: 'flag', key: '1', want: undefined },
    { scope: 'findings', key: 'w', want: 'findings.withdraw' },
    { scope: 'findings', key: 'Enter', want: 'findings.show' },
    { scope: 'findings', key: 'k', want: 'checklist.open' },
    // The finding dialog is modal: v, x, o, r are its own; digits do not reach the wall.
    { scope: 'finding', key: 'v', want: 'finding.verify' },
    { scope: 'finding', key: 'X', want: 'finding.reopen' },
    { scope: 'finding', key: 'o', want: 'finding.camera' },
    { scope: 'finding', key: 'r', want: 'finding.retry' },
    { scope: 'finding', key: 'Escape', want: 'finding.close' },
    { scope: 'finding', key: '1', want: undefined },
    { scope: 'finding', key: 'f', want: undefined },
  ]
  for (const c of cases) {
    it(`${c.scope}: ${JSON.stringify(c.key)}${c.mods ? ' with a modifier' : ''} → ${c.want ?? 'nothing'}`, () => {
      expect(resolve(c.scope, { key: c.key, ...c.mods })?.action).toBe(c.want)
    })
  }

  it('resolves every bound key to its own binding', () => {
    for (const b of bindings) {
      for (const k of b.keys) expect(resolve(b.scope, { key: k === 'Space' ? ' ' : k })?.binding, `${b.scope} ${k}`).toBe(b)
    }
  })

  it('names keys', () => {
    expect(keyName({ key: ' ' })).toBe('Space')
    expect(keyName({ key: 'S' })).toBe('s')
    expect(keyName({ key: 'PageDown' })).toBe('PageDown')
    expect(keyCap('ArrowUp')).toBe('↑')
    expect(keyCap('s')).toBe('S')
  })
})

describe('the ? overlay', () => {
  async function render(locale: 'zh-CN' | 'en'): Promise<string> {
    const i18n = createI18n({ legacy: false, locale, messages, missingWarn: false, fallbackWarn: false })
    return renderToString(createSSRApp(HelpOverlay).use(i18n))
  }

  for (const locale of locales) {
    it(`lists exactly the bound keys, each with its action (${locale})`, async () => {
      const html = await render(locale)
      const rows = [...html.matchAll(/<div class="row"[^>]*data-action="([^"]+)" data-scope="([^"]+)"[^>]*>(.*?)<\/div>/gs)]
      const listed = rows.map((r) => ({ action: r[1], scope: r[2], keys: [...r[3]!.matchAll(/data-key="([^"]+)"/g)].map((m) => m[1]) }))
      expect(listed).toEqual(
        expect.arrayContaining(bindings.map((b) => ({ action: b.action, scope: b.scope, keys: [...b.keys] }))),
      )
      expect(listed).toHaveLength(bindings.length)
      // Every row has its description, not a message key.
      for (const r of rows) expect(r[3]).not.toMatch(/keys\.actions\./)
    })
  }
})

describe('TileNumberEntry', () => {
  // [digit, ms since start, grid, tile wanted (0-based, -1 none)]
  const cases: { name: string; presses: [string, number, number, number][] }[] = [
    { name: 'one digit picks its tile', presses: [['3', 0, 16, 2]] },
    { name: 'two digits quickly make 10–25', presses: [['1', 0, 16, 0], ['2', 300, 16, 11]] },
    { name: 'a slow second digit starts over', presses: [['1', 0, 16, 0], ['2', 2000, 16, 1]] },
    { name: 'a number past the grid starts over at the last digit', presses: [['1', 0, 16, 0], ['7', 100, 16, 6]] },
    { name: '2 then 5 on a 25 grid', presses: [['2', 0, 25, 1], ['5', 100, 25, 24]] },
    { name: '1 then 0 is tile 10', presses: [['1', 0, 16, 0], ['0', 100, 16, 9]] },
    { name: '0 alone is no tile', presses: [['0', 0, 16, -1]] },
    { name: 'a digit past a small grid is no tile', presses: [['5', 0, 4, -1]] },
    { name: 'a third digit starts over', presses: [['1', 0, 25, 0], ['1', 100, 25, 10], ['1', 200, 25, 0]] },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const e = new TileNumberEntry(900)
      for (const [d, at, grid, want] of c.presses) expect(e.push(d, grid, at), `${d}@${at}`).toBe(want)
    })
  }
})
