import { useState } from 'react'
import type { FormEvent } from 'react'
import { useAuth } from '../api/auth'
import { useI18n } from '../i18n'
import { LanguageSwitch, useErrorText } from '../components'

export function Login() {
  const { state, signInWithKey, signInWithPassword } = useAuth()
  const { t } = useI18n()
  const errorText = useErrorText()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const sessionLogin = state.status !== 'loading' && state.caps.has('POST', '/api/v1/session')

  async function run(action: () => Promise<void>) {
    setBusy(true)
    setError(null)
    try {
      await action()
    } catch (err) {
      setError(t('login.failed', { message: errorText(err) }))
    } finally {
      setBusy(false)
    }
  }

  function onPassword(e: FormEvent) {
    e.preventDefault()
    void run(() => signInWithPassword(email, password))
  }

  function onKey(e: FormEvent) {
    e.preventDefault()
    void run(() => signInWithKey(key))
  }

  return (
    <main className="login" id="main">
      <div className="login-card">
        <div className="login-head">
          <img src="/favicon.svg" alt="" width={40} height={40} />
          <h1>{t('login.title')}</h1>
        </div>
        <p className="muted">{t('login.intro')}</p>
        {sessionLogin && (
          <form onSubmit={onPassword} aria-label={t('login.submit')}>
            <label>
              {t('login.email')}
              <input type="email" autoComplete="username" required value={email}
                onChange={(e) => setEmail(e.target.value)} />
            </label>
            <label>
              {t('login.password')}
              <input type="password" autoComplete="current-password" required value={password}
                onChange={(e) => setPassword(e.target.value)} />
            </label>
            <button type="submit" className="primary" disabled={busy}>{t('login.submit')}</button>
          </form>
        )}
        {sessionLogin && <p className="divider">{t('login.or')}</p>}
        <form onSubmit={onKey} aria-label={t('login.apiKeySubmit')}>
          <label>
            {t('login.apiKey')}
            <input type="password" autoComplete="off" required value={key} spellCheck={false}
              aria-describedby="key-help" onChange={(e) => setKey(e.target.value)}
              data-testid="api-key" />
          </label>
          <p id="key-help" className="help">{t('login.apiKeyHelp')}</p>
          <button type="submit" className={sessionLogin ? '' : 'primary'} disabled={busy}>
            {t('login.apiKeySubmit')}
          </button>
        </form>
        {error && <p role="alert" className="error">{error}</p>}
        <div className="login-foot"><LanguageSwitch /></div>
      </div>
    </main>
  )
}
