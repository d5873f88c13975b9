import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { ApiError } from '../api'
import { locales, messages } from '../i18n/messages'
import { endedMessage, sessionMessage, signInCodes, signInMessage } from './messages'

describe('signInMessage', () => {
  const cases: { name: string; err: unknown; key: string }[] = [
    { name: 'wrong password', err: new ApiError(401, 'wrong_password', 'POST /api/v1/session: no', 'no'), key: 'signIn.errors.wrong_password' },
    { name: 'a plain 401', err: new ApiError(401, 'unauthorized', 'x'), key: 'signIn.errors.wrong_password' },
    { name: 'relay unreachable', err: new ApiError(502, 'relay_unreachable', 'x', 'dial tcp 10.0.0.9:8080: connection refused'), key: 'signIn.errors.relay_unreachable' },
    { name: 'bad request', err: new ApiError(400, 'bad_request', 'x', 'relay: not a URL'), key: 'signIn.errors.bad_request' },
    { name: 'the backend gone', err: new ApiError(0, 'network', 'x', 'Failed to fetch'), key: 'signIn.errors.network' },
    { name: 'something else', err: new ApiError(500, 'internal', 'x', 'boom'), key: 'signIn.errors.other' },
    { name: 'not an ApiError', err: new TypeError('odd'), key: 'signIn.errors.other' },
  ]
  for (const c of cases) it(c.name, () => expect(signInMessage(c.err).key).toBe(c.key))

  it('names the relay address it could not reach, in both languages, with the backend’s words below', () => {
    const said = signInMessage(new ApiError(502, 'relay_unreachable', 'POST /api/v1/session: …', 'dial tcp 10.0.0.9:8080: connection refused'), 'http://10.0.0.9:8080')
    expect(said.detail).toBe('dial tcp 10.0.0.9:8080: connection refused')
    for (const l of locales) {
      const i18n = createI18n({ legacy: false, locale: l, messages })
      const text = i18n.global.t(said.key, said.params)
      expect(text, l).toContain('http://10.0.0.9:8080')
      expect(text, l).not.toContain('POST')
    }
  })

  it('falls back to the backend’s words for the address when the form had none', () => {
    expect(signInMessage(new ApiError(502, 'relay_unreachable', 'x', 'cannot reach http://r')).params.address).toBe('cannot reach http://r')
  })

  it('has a message for every code and every ending, in both languages', () => {
    const keys = [...signInCodes.map((c) => `signIn.errors.${c}`), 'signIn.errors.other', endedMessage('session_expired').key, endedMessage('signed_out').key]
    for (const l of locales) {
      const i18n = createI18n({ legacy: false, locale: l, messages, missingWarn: false })
      for (const k of keys) expect(i18n.global.te(k), `${l} ${k}`).toBe(true)
    }
  })

  it('tells an expired session from signing out', () => {
    expect(endedMessage('session_expired').key).toBe('signIn.errors.session_expired')
    expect(endedMessage('anything').key).toBe('signIn.errors.session_expired')
    expect(endedMessage('signed_out').key).toBe('signIn.errors.signed_out')
  })
})

describe('sessionMessage', () => {
  const cases: { name: string; s: Parameters<typeof sessionMessage>[0]; key: string | undefined }[] = [
    { name: 'signed in', s: { signedIn: true, relay: 'http://r' }, key: undefined },
    { name: 'never signed in', s: { signedIn: false, relay: '' }, key: undefined },
    { name: 'signed out on purpose', s: { signedIn: false, relay: 'http://r', reason: 'signed_out' }, key: undefined },
    { name: 'expired', s: { signedIn: false, relay: 'http://r', reason: 'session_expired' }, key: 'signIn.errors.session_expired' },
    { name: 'the launch sign-in being retried', s: { signedIn: false, relay: 'http://r', reason: 'relay_unreachable', retrying: true, message: 'refused' }, key: 'signIn.retrying' },
    { name: 'the launch sign-in given up', s: { signedIn: false, relay: 'http://r', reason: 'relay_unreachable', message: 'refused' }, key: 'signIn.errors.relay_unreachable' },
  ]
  for (const c of cases) it(c.name, () => expect(sessionMessage(c.s)?.key).toBe(c.key))

  it('names the relay being retried in both languages', () => {
    const said = sessionMessage({ signedIn: false, relay: 'http://10.0.0.9:8080', retrying: true, message: 'connection refused' })!
    expect(said.detail).toBe('connection refused')
    for (const l of locales) {
      const text = createI18n({ legacy: false, locale: l, messages }).global.t(said.key, said.params)
      expect(text, l).toContain('http://10.0.0.9:8080')
    }
  })
})
