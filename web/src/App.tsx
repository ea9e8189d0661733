import { Suspense, lazy } from 'react'
import { AuthProvider, useAuth } from './api/auth'
import { I18nProvider, useI18n } from './i18n'
import { useRoute } from './router'
import { Login } from './screens/Login'
import { Shell } from './screens/Shell'
import { FlowList } from './screens/FlowList'
import { FlowEditor } from './editor/FlowEditor'
import { RunView, Runs } from './screens/Runs'
import { Contacts } from './screens/Contacts'
import { DeadLetters } from './screens/DeadLetters'
import type { Route } from './router'
import { Pipelines } from './screens/Pipelines'
import { Tickets } from './screens/Tickets'
import { Settings } from './screens/Settings'
import { Inbox } from './screens/Inbox'

// chart.js is needed only by the dashboard: loaded when it is opened, not with the app.
const Dashboard = lazy(() => import('./screens/Dashboard').then((m) => ({ default: m.Dashboard })))

function Loading() {
  const { t } = useI18n()
  return <p aria-busy="true">{t('app.loading')}</p>
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'flow':
      return <FlowEditor key={route.id} flowId={route.id} />
    case 'runs':
      return <Runs key={`${route.flowId}-${route.contactId}`} flowId={route.flowId} contactId={route.contactId} />
    case 'run':
      return <RunView key={route.id} id={route.id} />
    case 'dead-letters':
      return <DeadLetters />
    case 'contacts':
      return <Contacts />
    case 'pipelines':
      return <Pipelines />
    case 'tickets':
      return <Tickets />
    case 'settings':
      return <Settings />
    case 'inbox':
      return <Inbox />
    case 'dashboard':
      return <Suspense fallback={<Loading />}><Dashboard /></Suspense>
    default:
      return <FlowList />
  }
}

function Screens() {
  const { state } = useAuth()
  const { t } = useI18n()
  const route = useRoute()
  if (state.status === 'loading') {
    return <main id="main" className="loading" aria-busy="true">{t('app.loading')}</main>
  }
  if (state.status === 'anonymous') return <Login />
  return (
    <Shell route={route}>
      <Page route={route} />
    </Shell>
  )
}

export default function App() {
  return (
    <I18nProvider>
      <AuthProvider>
        <Screens />
      </AuthProvider>
    </I18nProvider>
  )
}
