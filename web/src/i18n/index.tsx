import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react'
import type { ReactNode } from 'react'
import en from './en.json'
import esJson from './es.json'

/** Every fixed UI string. The dictionaries are JSON so tests outside TypeScript can read them. */
export type MessageKey = keyof typeof en
export type Dictionary = Record<MessageKey, string> & Record<string, string>
// Typed against English: a key missing from Spanish fails the build.
const es: Dictionary = esJson

export type Lang = 'es' | 'en'
export const LANGS: readonly Lang[] = ['es', 'en']
const DICTIONARIES: Record<Lang, Dictionary> = { es, en }
const STORAGE = 'cauce.lang'

/** The saved choice, else the browser's language (Spanish for any `es-*`), else English. */
export function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE)
  if (saved === 'es' || saved === 'en') return saved
  const browser = (navigator.languages?.[0] ?? navigator.language ?? 'en').toLowerCase()
  return browser.startsWith('es') ? 'es' : 'en'
}

/** Fill `{name}` placeholders. */
export function format(template: string, params?: Record<string, string | number>): string {
  if (!params) return template
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  )
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string

interface I18n {
  lang: Lang
  setLang: (lang: Lang) => void
  t: Translate
  /** A dictionary entry whose key is built at run time (`node.<type>.name`); null if absent. */
  lookup: (key: string, params?: Record<string, string | number>) => string | null
  /** Pick the caller's language from a server-provided `{es, en}` label, falling back to English. */
  pick: (labels: Partial<Record<Lang, string>> | undefined, fallback: string) => string
}

const I18nContext = createContext<I18n | null>(null)

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang)
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(STORAGE, next)
    setLangState(next)
  }, [])
  useEffect(() => {
    document.documentElement.lang = lang
  }, [lang])
  const value = useMemo<I18n>(() => {
    const dict = DICTIONARIES[lang]
    return {
      lang,
      setLang,
      t: (key, params) => format(dict[key], params),
      lookup: (key, params) => (key in dict ? format(dict[key], params) : null),
      pick: (labels, fallback) => labels?.[lang] ?? labels?.en ?? fallback,
    }
  }, [lang, setLang])
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>
}

export function useI18n(): I18n {
  const value = useContext(I18nContext)
  if (!value) throw new Error('useI18n outside I18nProvider')
  return value
}
