// What the sign-in screen says, from the backend's error codes and the
// reasons a session ends. Every code maps to a message in both languages.
import { ApiError, type Session } from '../api'

export interface Said {
  key: string
  params: Record<string, string>
  /** The backend's own words (often English, often technical), shown under the message. */
  detail?: string
}

/** Codes with their own message under signIn.errors.*; the rest are "other". */
export const signInCodes = ['wrong_password', 'relay_unreachable', 'bad_request', 'session_expired', 'signed_out', 'network'] as const

/** @param relay the address the officer asked for, named in "cannot reach". */
export function signInMessage(err: unknown, relay = ''): Said {
  if (err instanceof ApiError) {
    const code = (signInCodes as readonly string[]).includes(err.code) ? err.code : 'other'
    // Wrong credentials may come back as the relay's plain 401.
    if (code === 'other' && err.status === 401) return { key: 'signIn.errors.wrong_password', params: {} }
    if (code === 'relay_unreachable' || code === 'network') {
      return { key: `signIn.errors.${code}`, params: { address: code === 'network' ? '' : relay || err.detail }, detail: err.detail }
    }
    return { key: `signIn.errors.${code}`, params: { message: err.detail } }
  }
  return { key: 'signIn.errors.other', params: { message: err instanceof Error ? err.message : String(err) } }
}

/** What a signed-out session found at launch says, if anything. */
export function sessionMessage(s: Session): Said | undefined {
  if (s.signedIn) return undefined
  if (s.retrying) return { key: 'signIn.retrying', params: { relay: s.relay }, detail: s.message }
  switch (s.reason) {
    case 'session_expired':
      return { key: 'signIn.errors.session_expired', params: {} }
    case 'relay_unreachable':
      return { key: 'signIn.errors.relay_unreachable', params: { address: s.relay }, detail: s.message }
    default:
      // Not signed in yet, or signed out on purpose: nothing to explain.
      return undefined
  }
}

/** Why the console went back to the sign-in screen. */
export function endedMessage(reason: string): Said {
  return { key: reason === 'signed_out' ? 'signIn.errors.signed_out' : 'signIn.errors.session_expired', params: {} }
}

const relayKey = 'qly.relay'

/** The relay address typed last on this machine, for when the backend does not remember one. */
export function rememberedRelay(): string {
  try {
    return localStorage.getItem(relayKey) ?? ''
  } catch {
    return ''
  }
}

export function rememberRelay(url: string): void {
  try {
    localStorage.setItem(relayKey, url)
  } catch {
    // Not remembered; typed again next time.
  }
}
