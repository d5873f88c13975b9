export { actionMessage, bindings, keyCap, keyName, resolve, sections, TileNumberEntry } from './keymap'
export type { Action, Binding, KeyLike, Resolved, Scope, Section } from './keymap'
export { elementOf, panelKeys, typing, useWindowKeys, windowKey } from './useKeyboard'
export type { Commands, KeyEventLike, Modal, WindowKeys } from './useKeyboard'
