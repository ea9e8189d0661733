import { useCallback, useEffect, useId, useRef, useState } from 'react'
import type { FormEvent } from 'react'
import {
  addNote, assign, closeConversation, contactLabel, getConversation, getTranscript, isMissingRoute,
  listConversations, listTeams, replyMode, replyTemplate, replyText, transfer, workOrder,
} from '../api/inbox'
import type { Conversation, EventPart, InboxView, Team, TranscriptItem } from '../api/inbox'
import { useAuth } from '../api/auth'
import { listUsers } from '../api/settings'
import type { User } from '../api/settings'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n'
import { href } from '../router'

const VIEWS: InboxView[] = ['mine', 'team', 'unassigned', 'all']
// "Mine" and "my teams" need a person: signed in with an API key there is none.
const KEY_VIEWS: InboxView[] = ['unassigned', 'all']
const RESOLUTIONS = ['resolved', 'unresolved'] as const
type Msg = { kind: 'error' | 'notice'; key: MessageKey; params?: Record<string, string> } | null

/** The agents' inbox: conversations handed off by flows, the transcript with the AI summary,
 * replies (a template outside the 24-hour window), notes, transfer and close. */
export function Inbox() {
  const { t, lang, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { q: useId(), status: useId(), reply: useId(), note: useId(), tpl: useId(), tplLang: useId(), to: useId(), resolution: useId(), closeNote: useId() }
  const { state: auth } = useAuth()
  const person = auth.status === 'signed-in' && auth.me !== null
  const views = person ? VIEWS : KEY_VIEWS
  const [view, setView] = useState<InboxView>(person ? 'mine' : 'all')
  const [status, setStatus] = useState<'open' | 'closed'>('open')
  const [q, setQ] = useState('')
  const [applied, setApplied] = useState('')
  const [list, setList] = useState<Conversation[] | null>(null)
  const [missing, setMissing] = useState(false)
  const [selected, setSelected] = useState<Conversation | null>(null)
  const [transcript, setTranscript] = useState<TranscriptItem[]>([])
  const [users, setUsers] = useState<User[]>([])
  const [teams, setTeams] = useState<Team[]>([])
  const [reply, setReply] = useState('')
  const [tpl, setTpl] = useState({ name: '', language: 'es' })
  const [note, setNote] = useState('')
  const [target, setTarget] = useState('')
  const [close, setClose] = useState({ resolution: 'resolved', note: '' })
  const [message, setMessage] = useState<Msg>(null)

  const fail = useCallback((err: unknown, key: MessageKey) => {
    if (isMissingRoute(err)) setMissing(true)
    else setMessage({ kind: 'error', key, params: { message: errorText(err) } })
  }, [errorText])

  // The latest `fail` without making `load` depend on it: `fail` changes with every render
  // (errorText does), and a `load` that changed with it would re-run after each error.
  const failRef = useRef(fail)
  failRef.current = fail
  const load = useCallback(async () => {
    try {
      const page = await listConversations({ view, status, q: applied })
      setList(workOrder(page.items))
      setMissing(false)
    } catch (err) {
      setList((current) => current ?? [])  // stop "loading"; the error says what went wrong
      failRef.current(err, 'inbox.loadFailed')
    }
  }, [view, status, applied])
  useEffect(() => {
    void load()
  }, [load])
  useEffect(() => {
    listUsers().then((r) => setUsers(r.items), () => undefined)
    listTeams().then((r) => setTeams(r.items), () => undefined)
  }, [])

  const open = async (id: number, keepMessage = false) => {
    try {
      const [conv, tr] = await Promise.all([getConversation(id), getTranscript(id)])
      setSelected(conv)
      setTranscript(tr.items)
      if (!keepMessage) setMessage(null)
    } catch (err) {
      fail(err, 'inbox.loadFailed')
    }
  }
  const act = async (work: () => Promise<unknown>, done: MessageKey) => {
    if (!selected) return
    try {
      await work()
      await Promise.all([open(selected.id, true), load()])
      setMessage({ kind: 'notice', key: done })
    } catch (err) {
      fail(err, 'inbox.actionFailed')
    }
  }
  const sendReply = (e: FormEvent) => {
    e.preventDefault()
    if (!selected) return
    const id = selected.id
    if (replyMode(selected) === 'text') {
      const text = reply.trim()
      void act(async () => {
        await replyText(id, text)
        setReply('')
      }, 'inbox.replied')
    } else {
      void act(() => replyTemplate(id, tpl.name.trim(), tpl.language.trim(), {}), 'inbox.replied')
    }
  }
  const sendNote = (e: FormEvent) => {
    e.preventDefault()
    if (!selected) return
    const id = selected.id
    const text = note.trim()
    void act(async () => {
      await addNote(id, text)
      setNote('')
    }, 'inbox.noted')
  }
  const doTransfer = (e: FormEvent) => {
    e.preventDefault()
    if (!selected || !target) return
    const [kind, raw] = target.split(':')
    const to = kind === 'team' ? { team_id: Number(raw) } : { assignee_id: Number(raw) }
    void act(() => transfer(selected.id, to), 'inbox.transferred')
  }
  const doClose = (e: FormEvent) => {
    e.preventDefault()
    if (!selected) return
    void act(() => closeConversation(selected.id, close.resolution, close.note.trim()), 'inbox.closed')
  }
  const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' }) : '—')
  const userName = (id: number | null) => {
    if (id === null) return t('tickets.unassigned')
    const u = users.find((x) => x.id === id)
    return u ? u.name || u.email : `#${id}`
  }

  // System events come as parts: each is said in this language, people by their names.
  const eventText = (parts: EventPart[]) => parts.map((part) => {
    const params: Record<string, string> = {}
    for (const [k, v] of Object.entries(part)) {
      if (k === 'user') params.user = userName(typeof v === 'number' ? v : null)
      else if (k === 'rule') params.rule = lookup(`inbox.rule.${v}`) ?? String(v)
      else if (v !== null) params[k] = String(v)
    }
    return lookup(`inbox.ev.${part.code}`, params) ?? JSON.stringify(part)
  }).join('; ')

  if (missing) {
    return (
      <section aria-labelledby="inbox-title">
        <h1 id="inbox-title">{t('inbox.title')}</h1>
        <p role="alert" className="error" data-testid="inbox-missing">{t('inbox.missing')}</p>
      </section>
    )
  }
  const mode = selected ? replyMode(selected) : 'closed'
  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">{t('inbox.title')}</h1>
      <div className="toolbar">
        <div role="group" aria-label={t('inbox.views')} className="row">
          {views.map((v) => (
            <button key={v} type="button" aria-pressed={view === v} onClick={() => setView(v)}
              className={view === v ? 'primary' : undefined}>{t(`inbox.view.${v}` as MessageKey)}</button>
          ))}
        </div>
        <label htmlFor={ids.status}>
          {t('tickets.status')}
          <select id={ids.status} value={status} onChange={(e) => setStatus(e.target.value as 'open' | 'closed')}>
            <option value="open">{t('inbox.open')}</option>
            <option value="closed">{t('inbox.closedStatus')}</option>
          </select>
        </label>
        <form role="search" className="toolbar" style={{ margin: 0 }} onSubmit={(e) => {
          e.preventDefault()
          setApplied(q)
        }}>
          <label htmlFor={ids.q}>
            {t('inbox.search')}
            <input id={ids.q} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          </label>
          <button type="submit">{t('contacts.searchButton')}</button>
        </form>
      </div>
      {message && <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind}>{t(message.key, message.params)}</p>}
      <div className="inbox">
        <nav aria-label={t('inbox.list')} className="card conv-list">
          {list === null && <p aria-busy="true">{t('app.loading')}</p>}
          {list?.length === 0 && <p className="muted" data-testid="inbox-empty">{t('inbox.empty')}</p>}
          <ul>
            {list?.map((c) => (
              <li key={c.id}>
                <button type="button" aria-current={selected?.id === c.id ? 'true' : undefined} onClick={() => void open(c.id)}>
                  <strong>{contactLabel(c.contact)}</strong>
                  <span className={`badge ${c.priority === 'urgent' || c.priority === 'high' ? 'error' : 'draft'}`}>
                    {lookup(`ticket.priority.${c.priority}`) ?? c.priority}
                  </span>
                  <span className="help">{c.summary || c.note || '—'}</span>
                  <span className="help">{userName(c.assignee_id)} · {time(c.last_message_at ?? c.opened_at)}</span>
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {selected ? (
          <article className="card" aria-labelledby="conv-title" data-testid="conversation">
            <h2 id="conv-title">{contactLabel(selected.contact)}</h2>
            <dl className="facts">
              <dt>{t('inbox.assignee')}</dt><dd>{userName(selected.assignee_id)}</dd>
              <dt>{t('inbox.window')}</dt><dd>{selected.window_open ? t('sim.windowOpen') : t('sim.windowClosed')}</dd>
              {selected.run_id && <><dt>{t('sim.run')}</dt><dd><a href={href({ name: 'run', id: selected.run_id })}>{selected.run_id}</a></dd></>}
              {selected.resolution && <><dt>{t('inbox.resolution')}</dt><dd>{lookup(`inbox.resolution.${selected.resolution}`) ?? selected.resolution}</dd></>}
            </dl>
            {(selected.summary || selected.note) && (
              <section className="notice" aria-label={t('inbox.summary')}>
                <strong>{t('inbox.summary')}</strong>
                {selected.summary && <p>{selected.summary}</p>}
                {selected.note && <p className="help">{selected.note}</p>}
              </section>
            )}
            {Object.keys(selected.context ?? {}).length > 0 && (
              <details>
                <summary>{t('inbox.context')}</summary>
                <pre>{JSON.stringify(selected.context, null, 2)}</pre>
              </details>
            )}
            <div role="log" aria-label={t('inbox.transcript')} className="chat-wrap">
              <ol className="chat">
                {transcript.map((m, i) => (
                  // An event (an assignment, a transfer) is neither the contact nor us speaking.
                  <li key={i} className={`bubble ${m.kind === 'note' ? 'note' : m.kind === 'event' ? 'event' : m.direction === 'in' ? 'contact' : 'agent'}`}>
                    <span className="sr-only">{t(m.kind === 'note' ? 'inbox.note' : m.kind === 'event' ? 'inbox.event' : m.direction === 'in' ? 'sim.fromContact' : 'inbox.fromUs')}: </span>
                    {m.kind === 'note' && <strong>{t('inbox.note')}</strong>}
                    <span>{m.parts ? eventText(m.parts) : m.text}</span>
                    <time className="help" dateTime={m.at}>{time(m.at)}</time>
                  </li>
                ))}
              </ol>
            </div>
            {selected.status === 'open' && (
              <>
                {mode === 'text' ? (
                  <form onSubmit={sendReply} className="sim-row">
                    <label htmlFor={ids.reply} className="grow">
                      {t('inbox.reply')}
                      <textarea id={ids.reply} required value={reply} onChange={(e) => setReply(e.target.value)} />
                    </label>
                    <button type="submit" className="primary">{t('sim.send')}</button>
                  </form>
                ) : (
                  <form onSubmit={sendReply} className="sim-row">
                    <p className="help" style={{ flexBasis: '100%' }}>{t('inbox.needsTemplate')}</p>
                    <label htmlFor={ids.tpl}>{t('inbox.template')}
                      <input id={ids.tpl} required value={tpl.name} onChange={(e) => setTpl({ ...tpl, name: e.target.value })} /></label>
                    <label htmlFor={ids.tplLang}>{t('settings.language')}
                      <input id={ids.tplLang} required value={tpl.language} onChange={(e) => setTpl({ ...tpl, language: e.target.value })} /></label>
                    <button type="submit" className="primary">{t('inbox.sendTemplate')}</button>
                  </form>
                )}
                <form onSubmit={sendNote} className="sim-row">
                  <label htmlFor={ids.note} className="grow">{t('inbox.addNote')}
                    <input id={ids.note} required value={note} onChange={(e) => setNote(e.target.value)} /></label>
                  <button type="submit">{t('inbox.saveNote')}</button>
                </form>
                <div className="row wrap">
                  {selected.assignee_id === null && (
                    <button type="button" onClick={() => void act(() => assign(selected.id, null), 'inbox.taken')}>{t('inbox.take')}</button>
                  )}
                  <form onSubmit={doTransfer} className="sim-row">
                    <label htmlFor={ids.to}>{t('inbox.transferTo')}
                      <select id={ids.to} value={target} required onChange={(e) => setTarget(e.target.value)}>
                        <option value="">{t('form.none')}</option>
                        {teams.map((x) => <option key={`t${x.id}`} value={`team:${x.id}`}>{t('inbox.teamOption', { name: x.name })}</option>)}
                        {users.map((u) => <option key={`u${u.id}`} value={`user:${u.id}`}>{u.name || u.email}</option>)}
                      </select></label>
                    <button type="submit">{t('inbox.transfer')}</button>
                  </form>
                </div>
                <form onSubmit={doClose} className="sim-row">
                  <label htmlFor={ids.resolution}>{t('inbox.resolution')}
                    <select id={ids.resolution} value={close.resolution} onChange={(e) => setClose({ ...close, resolution: e.target.value })}>
                      {RESOLUTIONS.map((r) => <option key={r} value={r}>{t(`inbox.resolution.${r}` as MessageKey)}</option>)}
                    </select></label>
                  <label htmlFor={ids.closeNote} className="grow">{t('inbox.closeNote')}
                    <input id={ids.closeNote} value={close.note} onChange={(e) => setClose({ ...close, note: e.target.value })} /></label>
                  <button type="submit" className="danger">{t('inbox.close')}</button>
                </form>
              </>
            )}
          </article>
        ) : (
          <p className="muted">{t('inbox.pick')}</p>
        )}
      </div>
    </section>
  )
}
