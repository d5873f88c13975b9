import { describe, expect, it } from 'vitest'
import { ApiClient } from '../api'
import { dateTime, i18n, machineZone } from '../i18n'
import { useSession } from './useSession'

describe('the sign-in expiry in settings', () => {
  // 02:58 UTC is 10:58 in Shanghai: the officer's clock is the sites', not
  // the machine's (the tests, like a server image, run in UTC).
  const session = { signedIn: true, relay: 'http://relay', expiresAt: new Date('2026-12-03T02:58:08Z') }
  const cases: { name: string; zone?: string; want: string }[] = [
    { name: "in the zone of the officer's sites", zone: 'Asia/Shanghai', want: 'Signed in until 2026-12-03 10:58' },
    { name: 'in the machine’s without one', want: `Signed in until ${dateTime(session.expiresAt, machineZone())}` },
  ]
  for (const c of cases) {
    it(c.name, () => {
      i18n.global.locale.value = 'en'
      const s = useSession(new ApiClient({}), session, { relay: '', say: () => {}, signedOut: () => {}, close: () => {}, timeZone: c.zone ? () => c.zone! : undefined })
      expect(s.notice.value).toBe(`Relay: http://relay · ${c.want}`)
    })
  }
})
