import { useEffect, useId, useState } from 'react'
import type { FormEvent, ReactNode } from 'react'
import { api } from '../api/client'
import {
  CHANNEL_FORMS, ROLES, channelBody, createApiKey, createChannel, createUser, deleteChannel, listApiKeys,
  listChannels, listTemplates, listUsers, revokeApiKey, syncTemplates, testChannel, updateUser,
} from '../api/settings'
import type { ApiKey, Channel, Template, User } from '../api/settings'
import { useAuth } from '../api/auth'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n'

type Tab = 'channels' | 'templates' | 'rules' | 'team' | 'apikeys'
const TABS: { id: Tab; label: MessageKey; api: string }[] = [
  { id: 'channels', label: 'settings.channels', api: '/api/v1/channels' },
  { id: 'templates', label: 'settings.templates', api: '/api/v1/channels/{channel_id}/templates' },
  { id: 'rules', label: 'settings.rules', api: '/api/v1/workspace/contact-rules' },
  { id: 'team', label: 'settings.team', api: '/api/v1/users' },
  { id: 'apikeys', label: 'settings.apikeys', api: '/api/v1/apikeys' },
]
type Msg = { kind: 'error' | 'notice'; key: MessageKey; params?: Record<string, string | number> } | null

/** One status line per panel, kept as key + parameters so a language switch re-translates it. */
function useMessage(): [ReactNode, (m: Msg) => void] {
  const { t } = useI18n()
  const [msg, setMsg] = useState<Msg>(null)
  const node = msg ? (
    <p role={msg.kind === 'error' ? 'alert' : 'status'} className={msg.kind}>{t(msg.key, msg.params)}</p>
  ) : null
  return [node, setMsg]
}

/** Workspace settings: channels, templates, contact rules, team, API keys. */
export function Settings() {
  const { t } = useI18n()
  const { state } = useAuth()
  const caps = state.status === 'signed-in' ? state.caps : null
  const tabs = TABS.filter((x) => !caps || caps.has('GET', x.api))
  const [tab, setTab] = useState<Tab>('channels')
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">{t('settings.title')}</h1>
      <div role="tablist" aria-label={t('settings.title')} className="tabs">
        {tabs.map((x) => (
          <button key={x.id} type="button" role="tab" id={`tab-${x.id}`} aria-selected={tab === x.id}
            aria-controls={`panel-${x.id}`} tabIndex={tab === x.id ? 0 : -1} onClick={() => setTab(x.id)}
            onKeyDown={(e) => {
              const i = tabs.findIndex((y) => y.id === x.id)
              const next = e.key === 'ArrowRight' ? tabs[(i + 1) % tabs.length] : e.key === 'ArrowLeft' ? tabs[(i - 1 + tabs.length) % tabs.length] : null
              if (next) {
                setTab(next.id)
                document.getElementById(`tab-${next.id}`)?.focus()
              }
            }}>
            {t(x.label)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="card">
        {tab === 'channels' && <Channels />}
        {tab === 'templates' && <Templates />}
        {tab === 'rules' && <Rules />}
        {tab === 'team' && <Team />}
        {tab === 'apikeys' && <ApiKeys />}
      </div>
    </section>
  )
}

const FORM_KINDS = Object.keys(CHANNEL_FORMS)

function Channels() {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { kind: useId(), name: useId(), to: useId(), text: useId(), base: useId() }
  const [channels, setChannels] = useState<Channel[] | null>(null)
  const [kind, setKind] = useState('whatsapp')
  const [name, setName] = useState('')
  const [values, setValues] = useState<Record<string, string>>({})
  const [testing, setTesting] = useState<number | null>(null)
  const [test, setTest] = useState({ to: '', text: '' })
  const [message, setMessage] = useMessage()
  const load = () => listChannels().then((r) => setChannels(r.items.filter((c) => c.kind !== 'simulator')),
    (err) => setMessage({ kind: 'error', key: 'settings.loadFailed', params: { message: errorText(err) } }))
  useEffect(() => {
    void load()
  }, []) // eslint-disable-line
  const create = async (e: FormEvent) => {
    e.preventDefault()
    try {
      await createChannel(channelBody(kind, name, values))
      setName('')
      setValues({})
      setMessage({ kind: 'notice', key: 'settings.channelCreated', params: { name } })
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  const sendTest = async (e: FormEvent, channel: Channel) => {
    e.preventDefault()
    try {
      const r = await testChannel(channel.id, test.to.trim(), test.text.trim() || t('settings.testDefault'))
      if (r.status === 'failed' || r.error_reason) {
        setMessage({ kind: 'error', key: 'settings.testFailed', params: { reason: r.error_reason ?? r.error_code ?? r.status } })
      } else {
        setMessage({ kind: 'notice', key: 'settings.testSent', params: { status: r.status } })
      }
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.testFailed', params: { reason: errorText(err) } })
    }
  }
  const remove = async (c: Channel) => {
    if (!window.confirm(t('settings.confirmDelete', { name: c.name }))) return
    try {
      await deleteChannel(c.id)
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  const kindName = (k: string) => lookup(`channel.${k}`) ?? k
  return (
    <div data-testid="settings-channels">
      {message}
      {channels?.length === 0 && <p className="muted">{t('settings.noChannels')}</p>}
      {channels && channels.length > 0 && (
        <table data-testid="channels">
          <thead>
            <tr>
              <th scope="col">{t('settings.name')}</th><th scope="col">{t('settings.kind')}</th>
              <th scope="col">{t('settings.identifier')}</th><th scope="col">{t('settings.status')}</th>
              <th scope="col"><span className="sr-only">{t('settings.actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>{kindName(c.kind)}</td>
                <td className="mono">{c.identifier ?? '—'}</td>
                <td>
                  <span className={c.status === 'active' ? 'badge published' : 'badge error'}>{lookup(`channel.status.${c.status}`) ?? c.status}</span>
                  {c.status_reason && <div className="help">{c.status_reason}</div>}
                </td>
                <td>
                  {testing === c.id ? (
                    <form className="sim-row" onSubmit={(e) => void sendTest(e, c)}>
                      <label htmlFor={ids.to}>
                        {t('settings.testTo')}
                        <input id={ids.to} required value={test.to} onChange={(e) => setTest({ ...test, to: e.target.value })} />
                      </label>
                      <label htmlFor={ids.text}>
                        {t('settings.testText')}
                        <input id={ids.text} value={test.text} placeholder={t('settings.testDefault')}
                          onChange={(e) => setTest({ ...test, text: e.target.value })} />
                      </label>
                      <button type="submit" className="primary">{t('settings.send')}</button>
                    </form>
                  ) : (
                    <button type="button" onClick={() => setTesting(c.id)}>{t('settings.test', { name: c.name })}</button>
                  )}{' '}
                  <button type="button" className="danger" onClick={() => void remove(c)}>{t('settings.delete', { name: c.name })}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 style={{ marginTop: '1rem' }}>{t('settings.newChannel')}</h2>
      <form onSubmit={(e) => void create(e)} className="form-grid">
        <label htmlFor={ids.kind}>
          {t('settings.kind')}
          <select id={ids.kind} value={kind} onChange={(e) => {
            setKind(e.target.value)
            setValues({})
          }}>
            {FORM_KINDS.map((k) => <option key={k} value={k}>{kindName(k)}</option>)}
          </select>
        </label>
        <label htmlFor={ids.name}>
          {t('settings.name')}
          <input id={ids.name} required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        {CHANNEL_FORMS[kind].map((f) => (
          <label key={`${kind}-${f.name}`}>
            {lookup(`cfield.${f.name}`) ?? f.name}{f.optional ? ` ${t('settings.optional')}` : ''}
            <input type={f.secret ? 'password' : f.type === 'number' ? 'number' : f.type ?? 'text'} required={!f.optional}
              autoComplete={f.secret ? 'new-password' : 'off'} value={values[f.name] ?? ''}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
          </label>
        ))}
        <p className="help">{t('settings.secretsHelp')}</p>
        <button type="submit" className="primary">{t('settings.createChannel')}</button>
      </form>
    </div>
  )
}

function Templates() {
  const { t } = useI18n()
  const errorText = useErrorText()
  const pickId = useId()
  const [channels, setChannels] = useState<Channel[]>([])
  const [channelId, setChannelId] = useState<number | null>(null)
  const [templates, setTemplates] = useState<Template[] | null>(null)
  const [message, setMessage] = useMessage()
  useEffect(() => {
    listChannels().then((r) => {
      const wa = r.items.filter((c) => c.kind === 'whatsapp')
      setChannels(wa)
      setChannelId(wa[0]?.id ?? null)
    }, (err) => setMessage({ kind: 'error', key: 'settings.loadFailed', params: { message: errorText(err) } }))
  }, []) // eslint-disable-line
  const load = (id: number) => listTemplates(id).then(
    (r) => setTemplates(Array.isArray(r) ? r : r.items),
    (err) => setMessage({ kind: 'error', key: 'settings.loadFailed', params: { message: errorText(err) } }))
  useEffect(() => {
    if (channelId !== null) void load(channelId)
  }, [channelId]) // eslint-disable-line
  const sync = async () => {
    if (channelId === null) return
    try {
      await syncTemplates(channelId)
      setMessage({ kind: 'notice', key: 'settings.synced' })
      await load(channelId)
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.syncFailed', params: { message: errorText(err) } })
    }
  }
  if (channels.length === 0) return <>{message}<p className="muted" data-testid="no-wa">{t('settings.noWhatsApp')}</p></>
  return (
    <div>
      {message}
      <div className="toolbar">
        <label htmlFor={pickId}>
          {t('settings.channel')}
          <select id={pickId} value={channelId ?? ''} onChange={(e) => setChannelId(Number(e.target.value))}>
            {channels.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </label>
        <button type="button" onClick={() => void sync()}>{t('settings.sync')}</button>
      </div>
      {templates?.length === 0 && <p className="muted">{t('settings.noTemplates')}</p>}
      {templates && templates.length > 0 && (
        <table data-testid="templates">
          <thead>
            <tr><th scope="col">{t('settings.name')}</th><th scope="col">{t('settings.language')}</th>
              <th scope="col">{t('settings.category')}</th><th scope="col">{t('settings.status')}</th></tr>
          </thead>
          <tbody>
            {templates.map((x) => (
              <tr key={x.id}><td className="mono">{x.name}</td><td>{x.language}</td><td>{x.category}</td>
                <td><span className={x.status === 'approved' ? 'badge published' : 'badge draft'}>{x.status}</span></td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

interface Rules {
  stop_keywords: string[]
  resume_keywords: string[]
  marketing_per_day: number | null
  marketing_per_week: number | null
  require_marketing_consent: boolean
  communication_window: { weekdays: string[]; start: string; end: string; skip_holidays: boolean } | null
  timezone?: string
  country?: string
  upcoming_holidays?: { date: string; name: string }[]
}
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']

function Rules() {
  const { t, lang } = useI18n()
  const errorText = useErrorText()
  const ids = { stop: useId(), resume: useId(), day: useId(), week: useId(), start: useId(), end: useId() }
  const [rules, setRules] = useState<Rules | null>(null)
  const [stop, setStop] = useState('')
  const [resume, setResume] = useState('')
  const [message, setMessage] = useMessage()
  const apply = (r: Rules) => {
    setRules(r)
    setStop(r.stop_keywords.join(', '))
    setResume(r.resume_keywords.join(', '))
  }
  useEffect(() => {
    api<Rules>('GET', '/workspace/contact-rules').then(apply,
      (err) => setMessage({ kind: 'error', key: 'settings.loadFailed', params: { message: errorText(err) } }))
  }, []) // eslint-disable-line
  if (!rules) return <>{message}</>
  const words = (s: string) => s.split(',').map((w) => w.trim()).filter(Boolean)
  const save = async (e: FormEvent) => {
    e.preventDefault()
    const { timezone: _tz, country: _c, upcoming_holidays: _h, ...body } = rules
    try {
      apply(await api<Rules>('PUT', '/workspace/contact-rules', { ...body, stop_keywords: words(stop), resume_keywords: words(resume) }))
      setMessage({ kind: 'notice', key: 'settings.rulesSaved' })
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  const win = rules.communication_window
  const setWin = (patch: Partial<NonNullable<Rules['communication_window']>>) =>
    setRules({ ...rules, communication_window: { ...(win ?? { weekdays: DAYS.slice(0, 5), start: '09:00', end: '20:00', skip_holidays: true }), ...patch } })
  const cap = (v: string) => (v.trim() === '' ? null : Number(v))
  const dayName = (d: string) => t(`day.${d}` as MessageKey)
  return (
    <form onSubmit={(e) => void save(e)} data-testid="settings-rules">
      {message}
      <fieldset>
        <legend>{t('settings.consent')}</legend>
        <label htmlFor={ids.stop}>{t('settings.stopKeywords')}
          <input id={ids.stop} value={stop} onChange={(e) => setStop(e.target.value)} /></label>
        <label htmlFor={ids.resume}>{t('settings.resumeKeywords')}
          <input id={ids.resume} value={resume} onChange={(e) => setResume(e.target.value)} /></label>
        <label className="check">
          <input type="checkbox" checked={rules.require_marketing_consent}
            onChange={(e) => setRules({ ...rules, require_marketing_consent: e.target.checked })} />
          {t('settings.requireConsent')}
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('settings.frequency')}</legend>
        <div className="toolbar">
          <label htmlFor={ids.day}>{t('settings.perDay')}
            <input id={ids.day} type="number" min={0} value={rules.marketing_per_day ?? ''}
              onChange={(e) => setRules({ ...rules, marketing_per_day: cap(e.target.value) })} /></label>
          <label htmlFor={ids.week}>{t('settings.perWeek')}
            <input id={ids.week} type="number" min={0} value={rules.marketing_per_week ?? ''}
              onChange={(e) => setRules({ ...rules, marketing_per_week: cap(e.target.value) })} /></label>
        </div>
        <p className="help">{t('settings.capHelp')}</p>
      </fieldset>
      <fieldset>
        <legend>{t('settings.hours')}</legend>
        <label className="check">
          <input type="checkbox" checked={win !== null}
            onChange={(e) => (e.target.checked ? setWin({}) : setRules({ ...rules, communication_window: null }))} />
          {t('settings.hoursOn', { tz: rules.timezone ?? '' })}
        </label>
        {win && (
          <>
            <fieldset>
              <legend>{t('settings.weekdays')}</legend>
              <div className="row wrap">
                {DAYS.map((d) => (
                  <label key={d} className="check">
                    <input type="checkbox" checked={win.weekdays.includes(d)} onChange={(e) => setWin({
                      weekdays: e.target.checked ? DAYS.filter((x) => x === d || win.weekdays.includes(x)) : win.weekdays.filter((x) => x !== d),
                    })} />
                    {dayName(d)}
                  </label>
                ))}
              </div>
            </fieldset>
            <div className="toolbar">
              <label htmlFor={ids.start}>{t('settings.from')}
                <input id={ids.start} type="time" value={win.start} onChange={(e) => setWin({ start: e.target.value })} /></label>
              <label htmlFor={ids.end}>{t('settings.to')}
                <input id={ids.end} type="time" value={win.end} onChange={(e) => setWin({ end: e.target.value })} /></label>
            </div>
            <label className="check">
              <input type="checkbox" checked={win.skip_holidays} onChange={(e) => setWin({ skip_holidays: e.target.checked })} />
              {t('settings.skipHolidays', { country: rules.country ?? '' })}
            </label>
          </>
        )}
        <h3>{t('settings.holidays', { country: rules.country ?? '' })}</h3>
        {(rules.upcoming_holidays ?? []).length === 0 ? <p className="muted">{t('settings.noHolidays')}</p> : (
          <ul className="problems" data-testid="holidays">
            {rules.upcoming_holidays!.map((h) => (
              <li key={h.date}>{new Date(`${h.date}T12:00:00`).toLocaleDateString(lang, { dateStyle: 'medium' })} — {h.name}</li>
            ))}
          </ul>
        )}
      </fieldset>
      <button type="submit" className="primary">{t('settings.saveRules')}</button>
    </form>
  )
}

function Team() {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { email: useId(), name: useId(), role: useId(), password: useId() }
  const [users, setUsers] = useState<User[] | null>(null)
  const [draft, setDraft] = useState({ email: '', name: '', role: 'agent', password: '' })
  const [message, setMessage] = useMessage()
  const load = () => listUsers().then((r) => setUsers(r.items),
    (err) => setMessage({ kind: 'error', key: 'settings.loadFailed', params: { message: errorText(err) } }))
  useEffect(() => {
    void load()
  }, []) // eslint-disable-line
  const role = (r: string) => lookup(`role.${r}`) ?? r
  const change = async (u: User, body: Parameters<typeof updateUser>[1]) => {
    try {
      await updateUser(u.id, body)
      setMessage({ kind: 'notice', key: 'settings.userSaved', params: { name: u.name || u.email } })
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  const add = async (e: FormEvent) => {
    e.preventDefault()
    try {
      await createUser({ email: draft.email.trim(), name: draft.name.trim(), role: draft.role, ...(draft.password ? { password: draft.password } : {}) })
      setMessage({ kind: 'notice', key: 'settings.userSaved', params: { name: draft.name || draft.email } })
      setDraft({ email: '', name: '', role: 'agent', password: '' })
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  return (
    <div>
      {message}
      {users && (
        <table data-testid="users">
          <thead><tr><th scope="col">{t('settings.name')}</th><th scope="col">{t('login.email')}</th>
            <th scope="col">{t('settings.role')}</th><th scope="col">{t('settings.status')}</th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name || '—'}</td>
                <td>{u.email}</td>
                <td>
                  <select value={u.role} aria-label={t('settings.roleOf', { name: u.name || u.email })}
                    onChange={(e) => void change(u, { role: e.target.value })}>
                    {ROLES.map((r) => <option key={r} value={r}>{role(r)}</option>)}
                  </select>
                </td>
                <td>
                  <label className="check">
                    <input type="checkbox" checked={!u.disabled} onChange={(e) => void change(u, { disabled: !e.target.checked })} />
                    {t('settings.active')}
                  </label>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 style={{ marginTop: '1rem' }}>{t('settings.addUser')}</h2>
      <form className="toolbar" onSubmit={(e) => void add(e)}>
        <label htmlFor={ids.email}>{t('login.email')}
          <input id={ids.email} type="email" required value={draft.email} onChange={(e) => setDraft({ ...draft, email: e.target.value })} /></label>
        <label htmlFor={ids.name}>{t('settings.name')}
          <input id={ids.name} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></label>
        <label htmlFor={ids.role}>{t('settings.role')}
          <select id={ids.role} value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })}>
            {ROLES.map((r) => <option key={r} value={r}>{role(r)}</option>)}
          </select></label>
        <label htmlFor={ids.password}>{t('settings.initialPassword')}
          <input id={ids.password} type="password" autoComplete="new-password" minLength={8} value={draft.password}
            onChange={(e) => setDraft({ ...draft, password: e.target.value })} /></label>
        <button type="submit" className="primary">{t('settings.addUserButton')}</button>
      </form>
    </div>
  )
}

function ApiKeys() {
  const { t, lang, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { name: useId(), role: useId() }
  const [keys, setKeys] = useState<ApiKey[] | null>(null)
  const [draft, setDraft] = useState({ name: '', role: 'editor' })
  const [created, setCreated] = useState<string | null>(null)
  const [message, setMessage] = useMessage()
  const load = () => listApiKeys().then((r) => setKeys(r.items),
    (err) => setMessage({ kind: 'error', key: 'settings.loadFailed', params: { message: errorText(err) } }))
  useEffect(() => {
    void load()
  }, []) // eslint-disable-line
  const add = async (e: FormEvent) => {
    e.preventDefault()
    try {
      const r = await createApiKey(draft.name.trim(), draft.role)
      setCreated(r.key)
      setDraft({ name: '', role: 'editor' })
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  const revoke = async (k: ApiKey) => {
    if (!window.confirm(t('settings.confirmRevoke', { name: k.name }))) return
    try {
      await revokeApiKey(k.id)
      await load()
    } catch (err) {
      setMessage({ kind: 'error', key: 'settings.saveFailed', params: { message: errorText(err) } })
    }
  }
  const date = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' }) : '—')
  return (
    <div>
      {message}
      {created && (
        <div className="notice" role="status" data-testid="new-key">
          <p>{t('settings.keyOnce')}</p>
          <code className="mono">{created}</code>
        </div>
      )}
      {keys && (
        <table data-testid="apikeys">
          <thead><tr><th scope="col">{t('settings.name')}</th><th scope="col">{t('settings.prefix')}</th>
            <th scope="col">{t('settings.role')}</th><th scope="col">{t('settings.lastUsed')}</th>
            <th scope="col"><span className="sr-only">{t('settings.actions')}</span></th></tr></thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td><td className="mono">{k.prefix}…</td><td>{lookup(`role.${k.role}`) ?? k.role}</td>
                <td>{date(k.last_used_at)}</td>
                <td>{k.revoked_at ? <span className="badge draft">{t('settings.revoked')}</span> : (
                  <button type="button" className="danger" onClick={() => void revoke(k)}>{t('settings.revoke', { name: k.name })}</button>
                )}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 style={{ marginTop: '1rem' }}>{t('settings.newKey')}</h2>
      <form className="toolbar" onSubmit={(e) => void add(e)}>
        <label htmlFor={ids.name}>{t('settings.name')}
          <input id={ids.name} required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></label>
        <label htmlFor={ids.role}>{t('settings.role')}
          <select id={ids.role} value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })}>
            {ROLES.filter((r) => r !== 'owner').map((r) => <option key={r} value={r}>{lookup(`role.${r}`) ?? r}</option>)}
          </select></label>
        <button type="submit" className="primary">{t('settings.createKey')}</button>
      </form>
    </div>
  )
}
