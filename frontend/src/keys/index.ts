export { actionMessage, bindings, keyCap, keyName, resolve, sections, TileNumberEntry } from './keymap'
export type { Action, Binding, KeyLike, Resolved, Scope, Section } from './keymap'
