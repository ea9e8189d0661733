import { AuthProvider, useAuth } from './api/auth'
import { I18nProvider, useI18n } from './i18n'
import { useRoute } from './router'
import { Login } from './screens/Login'
import { Shell } from './screens/Shell'
import { FlowList } from './screens/FlowList'
import { FlowEditor } from './editor/FlowEditor'

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
      {route.name === 'flow' ? <FlowEditor key={route.id} flowId={route.id} /> : <FlowList />}
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
