import type { ReactNode } from 'react'
import { useAuth } from '../api/auth'
import { useI18n } from '../i18n'
import { LanguageSwitch } from '../components'
import { href } from '../router'
import type { Route } from '../router'

/** Header, navigation and the page. Navigation lists only screens whose API exists. */
export function Shell({ route, children }: { route: Route; children: ReactNode }) {
  const { state, signOut, switchWorkspace } = useAuth()
  const { t, lookup } = useI18n()
  if (state.status !== 'signed-in') return null
  const { workspace, me } = state
  const screens = [
    { label: t('shell.flows'), to: { name: 'flows' } as Route, api: '/api/v1/flows',
      current: route.name === 'flows' || route.name === 'flow', key: undefined as string | undefined },
    { label: t('shell.runs'), to: { name: 'runs' } as Route, api: '/api/v1/runs',
      current: route.name === 'runs' || route.name === 'run' },
    { label: t('shell.deadLetters'), to: { name: 'dead-letters' } as Route, api: '/api/v1/dead-letters',
      current: route.name === 'dead-letters' },
    { label: t('shell.contacts'), to: { name: 'contacts' } as Route, api: '/api/v1/contacts',
      current: route.name === 'contacts' },
    { label: t('shell.pipelines'), to: { name: 'pipelines' } as Route, api: '/api/v1/pipelines',
      current: route.name === 'pipelines' },
    { label: t('shell.tickets'), to: { name: 'tickets' } as Route, api: '/api/v1/tickets',
      current: route.name === 'tickets' },
    // Inbox and dashboard are listed whenever flows are: their screens say so when this
    // server lacks the routes behind them.
    { label: t('shell.inbox'), to: { name: 'inbox' } as Route, api: '/api/v1/flows',
      current: route.name === 'inbox', key: 'inbox' },
    { label: t('shell.dashboard'), to: { name: 'dashboard' } as Route, api: '/api/v1/flows',
      current: route.name === 'dashboard', key: 'dashboard' },
    { label: t('shell.settings'), to: { name: 'settings' } as Route, api: '/api/v1/channels',
      current: route.name === 'settings' },
  ].filter((s) => state.caps.has('GET', s.api))
  return (
    <div className="shell">
      <a className="skip" href="#main">{t('app.skip')}</a>
      <header className="topbar">
        <a className="brand" href={href({ name: 'flows' })}>
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t('app.name')}</span>
        </a>
        {me && me.workspaces.length > 1 ? (
          <label className="lang-switch">
            <span>{t('shell.workspace')}</span>
            <select value={workspace.id} data-testid="workspace-switch"
              onChange={(e) => void switchWorkspace(Number(e.target.value))}>
              {me.workspaces.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
            </select>
          </label>
        ) : (
          <div className="workspace">
            <span className="sr-only">{t('shell.workspace')}: </span>
            <strong data-testid="workspace-name">{workspace.name}</strong>
            <span className="muted">{t('shell.role', { role: lookup(`role.${workspace.role}`) ?? workspace.role })}</span>
          </div>
        )}
        <div className="topbar-end">
          <LanguageSwitch />
          <button type="button" onClick={() => void signOut()}>{t('shell.logout')}</button>
        </div>
      </header>
      <div className="body">
        <nav className="sidenav" aria-label={t('shell.nav')}>
          <ul>
            {screens.map((s) => (
              <li key={s.key ?? s.api}>
                <a href={href(s.to)} aria-current={s.current ? 'page' : undefined}>{s.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" className="page" tabIndex={-1}>{children}</main>
      </div>
    </div>
  )
}
