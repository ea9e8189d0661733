import { useCallback, useEffect, useId, useRef, useState } from 'react'
import type { FormEvent } from 'react'
import { createContact, listContacts } from '../api/contacts'
import type { Contact } from '../api/contacts'
import { getRun, listRuns } from '../api/runs'
import type { RunDetail } from '../api/runs'
import {
  advanceClock, choicesOf, fieldValue, getClock, listContactFields, getContact, messageText, secondsUntil, simSend, simTranscript,
  submitEvent, updateContact,
} from '../api/simulator'
import type { Clock, ContactFieldDef, Transcript } from '../api/simulator'
import { listOpportunities, listPipelines, moveOpportunity } from '../api/pipelines'
import type { Opportunity, Pipeline } from '../api/pipelines'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n'
import { href } from '../router'

const POLL_MS = 1500
const HOUR = 3600
const DAY = 86400

let counter = 0
const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`

/** Chat with a published flow as a test contact; fire triggers; move virtual time. */
export function Simulator({ flowId, onActiveNode }: { flowId: number; onActiveNode: (id: string | null) => void }) {
  const { t, lang, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = {
    pick: useId(), name: useId(), phone: useId(), text: useId(), event: useId(), data: useId(),
    ad: useId(), adText: useId(), fieldKey: useId(), fieldValue: useId(),
  }
  const [contacts, setContacts] = useState<Contact[]>([])
  const [contact, setContact] = useState<Contact | null>(null)
  const [draft, setDraft] = useState({ name: '', phone: '' })
  const [transcript, setTranscript] = useState<Transcript | null>(null)
  const [run, setRun] = useState<RunDetail | null>(null)
  const [clock, setClock] = useState<Clock | null>(null)
  const [text, setText] = useState('')
  const [event, setEvent] = useState({ name: '', data: '{}' })
  const [ad, setAd] = useState({ id: '', text: '' })
  const [field, setField] = useState({ key: '', value: '' })
  const [opps, setOpps] = useState<Opportunity[]>([])
  const [pipelines, setPipelines] = useState<Pipeline[]>([])
  const [fieldDefs, setFieldDefs] = useState<ContactFieldDef[]>([])
  // Kept as key + parameters so a language switch translates a message already shown.
  type Msg = { key: MessageKey; params?: Record<string, string | number> }
  const [error, setError] = useState<Msg | null>(null)
  const [notice, setNotice] = useState<Msg | null>(null)
  const [busy, setBusy] = useState(false)
  const logEnd = useRef<HTMLLIElement>(null)

  useEffect(() => {
    listContacts({}).then((page) => setContacts(page.items), () => undefined)
    getClock().then(setClock, () => undefined)
    listPipelines().then((page) => setPipelines(page.items), () => undefined)
    listContactFields().then((page) => setFieldDefs(page.items), () => undefined)
  }, [])

  const refresh = useCallback(async (c: Contact | null) => {
    if (!c) return
    const [tr, runs, clk, op] = await Promise.all([
      simTranscript(c.id), listRuns({ flowId, contactId: c.id }), getClock(),
      listOpportunities({ contactId: c.id }),
    ])
    setTranscript(tr)
    setClock(clk)
    setOpps(op.items)
    const latest = runs.items[0]
    if (latest) {
      const detail = await getRun(latest.id)
      setRun(detail)
      onActiveNode(detail.status === 'waiting' ? detail.node_id : null)
    } else {
      setRun(null)
      onActiveNode(null)
    }
  }, [flowId, onActiveNode])

  useEffect(() => {
    if (!contact) return
    let stopped = false
    const tick = () => {
      if (!stopped) void refresh(contact).catch(() => undefined)
    }
    tick()
    const timer = setInterval(tick, POLL_MS)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, [contact, refresh])
  useEffect(() => () => onActiveNode(null), [onActiveNode])
  useEffect(() => {
    logEnd.current?.scrollIntoView?.({ block: 'nearest' })
  }, [transcript?.items.length])

  const act = async (work: () => Promise<unknown>) => {
    setBusy(true)
    setError(null)
    setNotice(null)
    try {
      await work()
      await refresh(contact)
    } catch (err) {
      setError({ key: 'sim.failed', params: { message: errorText(err) } })
    } finally {
      setBusy(false)
    }
  }

  const pick = async (id: number) => {
    const found = contacts.find((c) => c.id === id) ?? (await getContact(id))
    setTranscript(null)
    setRun(null)
    setContact(found)
  }
  const create = (e: FormEvent) => {
    e.preventDefault()
    void act(async () => {
      const body: Record<string, string> = { phone: draft.phone.trim() }
      if (draft.name.trim()) body.name = draft.name.trim()
      const created = await createContact(body)
      setContacts((cs) => [created, ...cs])
      setDraft({ name: '', phone: '' })
      setContact(created)
    })
  }
  const send = (e: FormEvent) => {
    e.preventDefault()
    if (!contact || !text.trim()) return
    const body = text.trim()
    setText('')
    void act(() => simSend({ contact_id: contact.id, text: body, client_id: uniqueId('sim') }))
  }
  const tap = (id: string, title: string, replyTo: string | null) => {
    if (!contact) return
    void act(() => simSend({
      contact_id: contact.id, button_id: id, button_title: title.slice(0, 100),
      ...(replyTo ? { reply_to: replyTo } : {}), client_id: uniqueId('sim'),
    }))
  }
  const saveField = (e: FormEvent) => {
    e.preventDefault()
    if (!contact || !field.key.trim()) return
    void act(async () => {
      const def = fieldDefs.find((f) => f.key === field.key)
      const value = fieldValue(def?.type ?? 'text', field.value)
      const updated = await updateContact(contact.id, { fields: { ...contact.fields, [field.key.trim()]: value } })
      setContact(updated)
      setField({ key: '', value: '' })
    })
  }
  const removeField = (key: string) => {
    if (!contact) return
    void act(async () => {
      const fields = { ...contact.fields }
      delete fields[key]
      setContact(await updateContact(contact.id, { fields }))
    })
  }
  const fireEvent = (e: FormEvent) => {
    e.preventDefault()
    if (!contact) return
    let data: Record<string, unknown>
    try {
      data = JSON.parse(event.data || '{}') as Record<string, unknown>
    } catch {
      setError({ key: 'sim.badJson' })
      return
    }
    const who = contact.phone ? { phone: contact.phone } : contact.email ? { email: contact.email } : { external_id: contact.external_id ?? '' }
    void act(async () => {
      await submitEvent({ name: event.name.trim(), event_id: uniqueId('sim'), contact: who, data })
      setNotice({ key: 'sim.eventSent', params: { name: event.name.trim() } })
    })
  }
  const clickAd = (e: FormEvent) => {
    e.preventDefault()
    if (!contact) return
    void act(() => simSend({
      contact_id: contact.id, text: ad.text.trim() || t('sim.adDefaultText'), client_id: uniqueId('sim'),
      referral: { source_type: 'ad', source_id: ad.id.trim() || 'sim-ad', source_url: 'https://fb.me/sim',
        headline: t('sim.adHeadline') },
    }))
  }
  const moveOpp = (opp: Opportunity, stageId: number) =>
    void act(() => moveOpportunity(opp.id, stageId))
  const jump = (seconds: number) =>
    void act(async () => {
      const result = await advanceClock(seconds)
      setNotice({ key: 'sim.advanced', params: { n: result.timers_fired } })
    })
  const nextTimer = clock && run?.status === 'waiting' ? secondsUntil(run.due_at, clock.now) : null

  const time = (iso: string) => new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' })
  const items = transcript?.items ?? []
  const lastOut = [...items].reverse().find((m) => m.direction === 'out')

  return (
    <section className="simulator" aria-labelledby="sim-title" data-testid="simulator">
      <h2 id="sim-title">{t('sim.title')}</h2>
      <p className="help">{t('sim.help')}</p>
      {error && <p role="alert" className="error">{t(error.key, error.params)}</p>}
      {notice && <p role="status" className="notice">{t(notice.key, notice.params)}</p>}

      <details open={!contact}>
        <summary>{contact ? t('sim.contactIs', { name: contact.name || contact.phone || `#${contact.id}` }) : t('sim.contact')}</summary>
        <label htmlFor={ids.pick}>
          {t('sim.pick')}
          <select id={ids.pick} value={contact?.id ?? ''} data-testid="sim-contact"
            onChange={(e) => e.target.value && void pick(Number(e.target.value))}>
            <option value="">{t('form.none')}</option>
            {contacts.map((c) => <option key={c.id} value={c.id}>{c.name || c.phone || `#${c.id}`}</option>)}
          </select>
        </label>
        <form onSubmit={create} className="sim-row">
          <label htmlFor={ids.name}>
            {t('sim.newName')}
            <input id={ids.name} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          </label>
          <label htmlFor={ids.phone}>
            {t('sim.newPhone')}
            <input id={ids.phone} type="tel" required value={draft.phone}
              onChange={(e) => setDraft({ ...draft, phone: e.target.value })} />
          </label>
          <button type="submit" disabled={busy}>{t('sim.create')}</button>
        </form>
      </details>

      {contact && (
        <>
          <details>
            <summary>{t('sim.fields')}</summary>
            <ul className="problems" data-testid="sim-fields">
              {Object.entries(contact.fields).map(([k, v]) => (
                <li key={k} className="row">
                  <code>{k}</code> = <span>{JSON.stringify(v)}</span>
                  <button type="button" onClick={() => removeField(k)} aria-label={t('sim.removeField', { name: k })}>×</button>
                </li>
              ))}
            </ul>
            {fieldDefs.length === 0 && <p className="help">{t('sim.noFieldDefs')}</p>}
            <form onSubmit={saveField} className="sim-row">
              <label htmlFor={ids.fieldKey}>
                {t('sim.fieldName')}
                <select id={ids.fieldKey} data-testid="sim-field-key" value={field.key} required onChange={(e) => setField({ ...field, key: e.target.value })}>
                  <option value="">{t('form.none')}</option>
                  {fieldDefs.map((f) => <option key={f.key} value={f.key}>{f.label || f.key}</option>)}
                </select>
              </label>
              <label htmlFor={ids.fieldValue}>
                {t('sim.fieldValue')}
                <input id={ids.fieldValue} value={field.value} onChange={(e) => setField({ ...field, value: e.target.value })} />
              </label>
              <button type="submit" disabled={busy}>{t('sim.saveField')}</button>
            </form>
          </details>

          <h3>{t('sim.chat')}</h3>
          <p className="help" data-testid="sim-window">
            {transcript?.window_open ? t('sim.windowOpen') : t('sim.windowClosed')}
            {clock && <> · {t('sim.now', { time: time(clock.now) })}</>}
          </p>
          <div role="log" aria-label={t('sim.chat')} data-testid="sim-chat" className="chat-wrap">
          <ol className="chat">
            {items.length === 0 && <li className="muted">{t('sim.empty')}</li>}
            {items.map((m) => {
              const choices = m.direction === 'out' ? choicesOf(m) : []
              return (
                <li key={m.id} className={`bubble ${m.direction === 'out' ? 'out' : 'in'}`}>
                  <span className="sr-only">{m.direction === 'out' ? t('sim.fromFlow') : t('sim.fromContact')}: </span>
                  <span className="bubble-text">{messageText(m)}</span>
                  {m.status === 'failed' && <span className="badge error">{m.error_reason ?? m.status}</span>}
                  {choices.length > 0 && (
                    <span className="choices">
                      {choices.map((c) => (
                        <button key={c.id} type="button" disabled={busy || m.id !== lastOut?.id}
                          onClick={() => tap(c.id, c.title, m.key)} data-testid={`sim-choice-${c.id}`}>
                          {c.title}
                        </button>
                      ))}
                    </span>
                  )}
                  <time className="help" dateTime={m.created_at}>{time(m.created_at)}</time>
                </li>
              )
            })}
            <li ref={logEnd} aria-hidden="true" />
          </ol>
          </div>
          <form onSubmit={send} className="sim-row">
            <label htmlFor={ids.text} className="grow">
              {t('sim.message')}
              <input id={ids.text} value={text} onChange={(e) => setText(e.target.value)} data-testid="sim-text" />
            </label>
            <button type="submit" className="primary" disabled={busy || !text.trim()}>{t('sim.send')}</button>
          </form>

          <h3>{t('sim.time')}</h3>
          <div className="row wrap" role="group" aria-label={t('sim.time')}>
            <button type="button" disabled={busy} onClick={() => jump(HOUR)}>{t('sim.plus1h')}</button>
            <button type="button" disabled={busy} onClick={() => jump(DAY)}>{t('sim.plus1d')}</button>
            <button type="button" disabled={busy} onClick={() => jump(7 * DAY)} data-testid="sim-7d">{t('sim.plus7d')}</button>
            <button type="button" disabled={busy || nextTimer === null} onClick={() => nextTimer && jump(nextTimer)}>
              {t('sim.nextTimer')}
            </button>
          </div>

          <details>
            <summary>{t('sim.triggers')}</summary>
            <form onSubmit={fireEvent}>
              <label htmlFor={ids.event}>
                {t('sim.eventName')}
                <input id={ids.event} required value={event.name} placeholder="cart.abandoned"
                  onChange={(e) => setEvent({ ...event, name: e.target.value })} />
              </label>
              <label htmlFor={ids.data}>
                {t('sim.eventData')}
                <textarea id={ids.data} value={event.data} className="mono"
                  onChange={(e) => setEvent({ ...event, data: e.target.value })} />
              </label>
              <button type="submit" disabled={busy}>{t('sim.fireEvent')}</button>
            </form>
            <form onSubmit={clickAd}>
              <label htmlFor={ids.ad}>
                {t('sim.adId')}
                <input id={ids.ad} value={ad.id} onChange={(e) => setAd({ ...ad, id: e.target.value })} />
              </label>
              <label htmlFor={ids.adText}>
                {t('sim.adText')}
                <input id={ids.adText} value={ad.text} placeholder={t('sim.adDefaultText')}
                  onChange={(e) => setAd({ ...ad, text: e.target.value })} />
              </label>
              <button type="submit" disabled={busy}>{t('sim.clickAd')}</button>
            </form>
            <h3>{t('sim.opportunities')}</h3>
            {opps.length === 0 && <p className="muted">{t('sim.noOpportunities')}</p>}
            {opps.map((o) => {
              const stages = pipelines.find((p) => p.id === o.pipeline_id)?.stages ?? []
              return (
                <label key={o.id}>
                  {t('sim.oppStage', { name: o.name || o.pipeline })}
                  <select value={o.stage_id} disabled={busy} onChange={(e) => moveOpp(o, Number(e.target.value))}>
                    {stages.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
                  </select>
                </label>
              )
            })}
          </details>

          <h3>{t('sim.run')}</h3>
          {!run ? (
            <p className="muted" data-testid="sim-no-run">{t('sim.noRun')}</p>
          ) : (
            <div data-testid="sim-run">
              <p className="help">
                <a href={href({ name: 'run', id: run.id })}>{run.id}</a> · {t('sim.runStatus', {
                  status: lookup(`run.status.${run.status}`) ?? run.status,
                  node: run.node_id ?? '—',
                })}
                {run.due_at && run.status === 'waiting' && <> · {t('sim.due', { time: time(run.due_at) })}</>}
              </p>
              <ol className="events" aria-label={t('sim.eventLog')} data-testid="sim-log">
                {run.steps.map((s) => (
                  <li key={s.id}>
                    <time className="help" dateTime={s.at}>{time(s.at)}</time>{' '}
                    <strong>{lookup(`input.${s.input_kind}`) ?? s.input_kind}</strong> → <code>{s.node_id ?? '—'}</code>{' '}
                    <span className={s.error ? 'badge error' : 'muted'}>{s.error ?? lookup(`run.status.${s.status}`) ?? s.status}</span>
                    <span className="help"> {(s.output as { type?: string }[]).map((o) => o?.type).filter(Boolean).join(', ')}</span>
                  </li>
                ))}
              </ol>
            </div>
          )}
        </>
      )}
    </section>
  )
}
