import { useI18n, LANGS } from './i18n'
import type { Lang } from './i18n'
import { ApiError } from './api/client'

/** The language switch (labelled select), persisted by the i18n provider. */
export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n()
  return (
    <label className="lang-switch">
      <span>{t('lang.label')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang">
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {t(l === 'es' ? 'lang.es' : 'lang.en')}
          </option>
        ))}
      </select>
    </label>
  )
}

/** A human message for an error thrown by the API client. */
export function useErrorText(): (err: unknown) => string {
  const { t } = useI18n()
  return (err) => {
    if (err instanceof ApiError && err.code === 'network') return t('error.network')
    if (err instanceof Error) return err.message
    return String(err)
  }
}

/** Offer `text` as a file download (exports, reports). */
export function downloadText(filename: string, text: string, type: string): void {
  const link = document.createElement('a')
  link.href = URL.createObjectURL(new Blob([text], { type }))
  link.download = filename
  link.click()
  URL.revokeObjectURL(link.href)
}
