import { createI18n } from 'vue-i18n'
import { detailOf } from '../api/errors'
import type { LocalizedName } from '../api/types'
import { locales, messages, type Locale, type Messages } from './messages'

export { cameraLabel, dateTime, loadTimeZones, localName, machineZone, siteTime } from './format'
export { locales, messages } from './messages'
export type { Locale, Messages } from './messages'

const storageKey = 'qly.locale'

/** zh-CN unless the browser's language is English. */
export function detectLocale(language: string | undefined): Locale {
  return language?.toLowerCase().startsWith('en') ? 'en' : 'zh-CN'
}

function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(storageKey)
    if (saved && (locales as readonly string[]).includes(saved)) return saved as Locale
  } catch {
    // No storage: follow the browser.
  }
  return detectLocale(typeof navigator === 'undefined' ? undefined : navigator.language)
}

export const i18n = createI18n<[Messages], Locale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
})

/** Puts the UI in a language at once, without a reload. */
export function applyLocale(l: Locale): void {
  i18n.global.locale.value = l
  document.documentElement.lang = l
  document.title = i18n.global.t('app.title')
}

/** The user's choice: applied, and remembered for the next launch. */
export function setLocale(l: Locale): void {
  applyLocale(l)
  try {
    localStorage.setItem(storageKey, l)
  } catch {
    // Not remembered; the switch still works.
  }
}

/** Both languages' names of a zone key; an unknown key names itself. */
export function zoneName(zone: string): LocalizedName {
  const zh = (messages['zh-CN'].zone as Record<string, string>)[zone]
  const en = (messages.en.zone as Record<string, string>)[zone]
  return { 'zh-CN': zh ?? zone, en: en ?? zone }
}

/** The locale the view speaks now. */
export function currentLocale(): Locale {
  return i18n.global.locale.value
}

/** "That did not work: …" in the backend's own words: how a failed action is reported. */
export function failedText(err: unknown): string {
  return i18n.global.t('app.failed', { message: detailOf(err) })
}
