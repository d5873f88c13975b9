// A tour as the officer reads it: a built-in's words in the reader's
// language ("脱卸间与医废点", not its key "doffing-and-waste"); a tour the
// officer named, as they typed it.
import type { Tour } from '../api'
import { currentLocale, localName, type Locale } from '../i18n'

export function tourName(t: Pick<Tour, 'name' | 'title'>, locale: Locale = currentLocale()): string {
  return (t.title && localName(t.title, locale)) || t.name
}

/** The name of the tour called `name` in the list; the name itself when the list does not have it. */
export function tourNameOf(list: readonly Tour[], name: string, locale: Locale = currentLocale()): string {
  const found = list.find((x) => x.name === name)
  return found ? tourName(found, locale) : name
}
