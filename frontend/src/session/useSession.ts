// The signed-in session as settings shows it (the relay, the user, when the
// sign-in expires: the backend renews it, so it is read again each time
// settings opens), the language, and signing out.
import { computed, shallowRef } from 'vue'
import type { ApiClient, Session } from '../api'
import type { MenuItem } from '../console/menu'
import type { Say } from '../console/useNotice'
import { currentLocale, dateTime, failedText, i18n, locales, machineZone, setLocale, type Locale } from '../i18n'

export interface SessionOptions {
  /** The relay the console was started for, when the session does not name one. */
  relay: string
  say: Say
  /** Signed out on the officer's word. */
  signedOut(reason: string): void
  /** Closes the settings menu. */
  close(): void
  /**
   * The zone the officer's own times are read in: that of the sites they
   * watch, from the relay's catalogue. The machine's clock may be UTC (a
   * server image) while the officer works on Beijing time.
   */
  timeZone?(): string
}

export function useSession(api: ApiClient, initial: Session, opts: SessionOptions) {
  const { t } = i18n.global
  const current = shallowRef<Session>(initial)

  async function refresh(): Promise<void> {
    try {
      const s = await api.session()
      if (s.signedIn) current.value = s
    } catch {
      // Settings shows what it knew.
    }
  }

  const items = computed<MenuItem[]>(() => [
    ...locales.map((l) => ({
      id: `lang:${l}`,
      label: t('settings.language', { language: t(l === 'en' ? 'language.en' : 'language.zh') }),
      current: currentLocale() === l,
    })),
    { id: 'signout', label: t('settings.signOut'), detail: current.value.user?.name },
  ])

  const notice = computed(() => {
    const s = current.value
    const parts = [t('settings.relay', { relay: s.relay || opts.relay })]
    if (s.expiresAt) parts.push(t('settings.expires', { time: dateTime(s.expiresAt, opts.timeZone?.() || machineZone()) }))
    return parts.join(' · ')
  })

  async function choose(id: string): Promise<void> {
    if (id.startsWith('lang:')) {
      setLocale(id.slice(5) as Locale)
      opts.close()
      return
    }
    if (id === 'signout') {
      try {
        await api.signOut()
      } catch (err) {
        opts.say(failedText(err))
        return
      }
      opts.signedOut('signed_out')
    }
  }

  return { current, items, notice, refresh, choose }
}

export type SessionState = ReturnType<typeof useSession>
