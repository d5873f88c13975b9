import zhCN from './locales/zh-CN'
import en from './locales/en'

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> }

/** The shape every locale has: zh-CN's keys. */
export type Messages = Widen<typeof zhCN>

export const locales = ['zh-CN', 'en'] as const
export type Locale = (typeof locales)[number]

export const messages: Record<Locale, Messages> = { 'zh-CN': zhCN, en }
