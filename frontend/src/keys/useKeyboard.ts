// Keys into actions. The window hears the keys no panel took and runs the
// wall's actions; a panel (the camera list, the checklist, the findings)
// runs its own and lets the rest pass on to the window. Either way the
// action is looked up in the key table (keymap.ts) and done by a command
// of the part of the screen it belongs to.
import { onBeforeUnmount, onMounted } from 'vue'
import { bindings, resolve, type Action, type KeyLike, type Resolved, type Scope } from './keymap'

/** What each action does; an action without a command does nothing. */
export type Commands = Partial<Record<Action, (r: Resolved) => void>>

/** What the handlers need of a KeyboardEvent. */
export interface KeyEventLike extends KeyLike {
  target: EventTarget | null
  defaultPrevented: boolean
  preventDefault(): void
  stopPropagation(): void
}

/** An open modal overlay: it takes its own keys. */
export interface Modal {
  /** The keys that close it even when pressed with the focus outside it. */
  closeKeys: readonly string[]
  close(): void
}

export interface WindowKeys {
  scope: Scope
  commands: Commands
  /** The modal overlay open now, if any. */
  modal(): Modal | undefined
}

/** The element a key went to; outside a browser (the unit tests) there are none. */
export function elementOf(target: EventTarget | null): Element | null {
  return typeof Element !== 'undefined' && target instanceof Element ? target : null
}

/** A key typed into a field, or Space/Enter on a button, is not a command. */
export function typing(e: KeyEventLike): boolean {
  const el = elementOf(e.target)
  if (!el) return false
  if (el.closest('input, textarea, select, [contenteditable="true"]')) return true
  return (e.key === ' ' || e.key === 'Enter') && el.closest('button, a[href], summary') !== null
}

/** One key at the window. */
export function windowKey(e: KeyEventLike, keys: WindowKeys): void {
  if (e.defaultPrevented) return
  const modal = keys.modal()
  if (modal) {
    // The modal handles keys pressed inside it; this catches a closing key
    // pressed with the focus outside it.
    if (modal.closeKeys.includes(e.key)) {
      e.preventDefault()
      modal.close()
    }
    return
  }
  if (typing(e)) return
  const r = resolve(keys.scope, e)
  if (!r) return
  e.preventDefault()
  keys.commands[r.action]?.(r)
}

/**
 * Runs an action as its (first) key would: a button showing a key does
 * exactly what the key does.
 */
export function runAction(commands: Commands, action: Action): void {
  const binding = bindings.find((b) => b.action === action)
  if (binding) commands[action]?.({ action, key: binding.keys[0]!, binding })
}

/** Listens at the window while the component calling it is mounted. */
export function useWindowKeys(keys: WindowKeys): void {
  const listener = (e: KeyboardEvent) => windowKey(e, keys)
  onMounted(() => window.addEventListener('keydown', listener))
  onBeforeUnmount(() => window.removeEventListener('keydown', listener))
}

/**
 * A panel's keydown handler: the scope's own keys run its commands and go
 * no further; the others (the wall's) pass on to the window. Keys pressed
 * in a field or on a button are theirs, unless the panel is the field
 * (the filter box).
 */
export function panelKeys(scope: Scope, commands: Commands, opts: { field?: boolean } = {}): (e: KeyEventLike) => void {
  return (e) => {
    if (!opts.field && elementOf(e.target)?.closest('input, textarea, select, button')) return
    const r = resolve(scope, e)
    if (!r || r.binding.scope !== scope) return
    e.preventDefault()
    e.stopPropagation()
    commands[r.action]?.(r)
  }
}
