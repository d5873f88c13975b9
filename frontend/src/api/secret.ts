// The per-launch secret of `qianliyan --serve` arrives once in the address
// (?token=…). It is kept in sessionStorage so a reload works, and taken out
// of the address bar so it does not end up in history, bookmarks or
// screenshots. The Wails window has none: its requests need no secret.

const storageKey = 'qly.secret'

export interface SecretStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}

export interface AddressBar {
  readonly href: string
  replace(url: string): void
}

/** Returns the secret from the address or from earlier in this tab, or undefined. */
export function takeSecret(bar: AddressBar, store: SecretStore | undefined): string | undefined {
  const url = new URL(bar.href)
  const fromURL = url.searchParams.get('token')
  if (fromURL) {
    try {
      store?.setItem(storageKey, fromURL)
    } catch {
      // Storage can be disabled; the secret then lasts until a reload.
    }
    url.searchParams.delete('token')
    bar.replace(url.toString())
    return fromURL
  }
  try {
    return store?.getItem(storageKey) ?? undefined
  } catch {
    return undefined
  }
}

/** The browser's address bar and sessionStorage, for takeSecret. */
export function browserSecret(): string | undefined {
  let store: SecretStore | undefined
  try {
    store = window.sessionStorage
  } catch {
    store = undefined
  }
  return takeSecret(
    { href: window.location.href, replace: (u) => window.history.replaceState(window.history.state, '', u) },
    store,
  )
}
