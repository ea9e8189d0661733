import { useEffect, useId, useState } from 'react'
import type { FormEvent } from 'react'
import { createTicket, getTicket, listTickets, updateTicket } from '../api/pipelines'
import type { Ticket } from '../api/pipelines'
import { listUsers } from '../api/settings'
import type { User } from '../api/settings'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n'

const STATUSES = ['open', 'pending', 'solved', 'closed'] as const
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const

/** Tickets: filter by status, priority and assignee; open one to change its status,
 * priority or assignee. */
export function Tickets() {
  const { t, lang, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { status: useId(), priority: useId(), assignee: useId(), subject: useId(), dStatus: useId(), dPriority: useId(), dAssignee: useId() }
  const [filter, setFilter] = useState({ status: '', priority: '', assignee: '' })
  const [tickets, setTickets] = useState<Ticket[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [users, setUsers] = useState<User[]>([])
  const [selected, setSelected] = useState<Ticket | null>(null)
  const [subject, setSubject] = useState('')
  const [message, setMessage] = useState<{ kind: 'error' | 'notice'; key: MessageKey; params?: Record<string, string> } | null>(null)

  const load = async (more: boolean) => {
    try {
      const page = await listTickets({
        status: filter.status, priority: filter.priority,
        assigneeId: filter.assignee ? Number(filter.assignee) : undefined, cursor: more ? cursor : null,
      })
      setTickets((cur) => (more && cur ? [...cur, ...page.items] : page.items))
      setCursor(page.next_cursor)
    } catch (err) {
      setMessage({ kind: 'error', key: 'tickets.loadFailed', params: { message: errorText(err) } })
    }
  }
  useEffect(() => {
    void load(false)
  }, [filter]) // eslint-disable-line
  useEffect(() => {
    listUsers().then((page) => setUsers(page.items), () => undefined)
  }, [])

  const open = async (id: number) => {
    try {
      setSelected(await getTicket(id))
    } catch (err) {
      setMessage({ kind: 'error', key: 'tickets.loadFailed', params: { message: errorText(err) } })
    }
  }
  const change = async (body: Parameters<typeof updateTicket>[1]) => {
    if (!selected) return
    try {
      const updated = await updateTicket(selected.id, body)
      setSelected(updated)
      setTickets((list) => list?.map((x) => (x.id === updated.id ? updated : x)) ?? null)
      setMessage({ kind: 'notice', key: 'tickets.saved' })
    } catch (err) {
      setMessage({ kind: 'error', key: 'tickets.saveFailed', params: { message: errorText(err) } })
    }
  }
  const add = async (e: FormEvent) => {
    e.preventDefault()
    try {
      const created = await createTicket({ subject: subject.trim() })
      setSubject('')
      await load(false)
      setSelected(created)
    } catch (err) {
      setMessage({ kind: 'error', key: 'tickets.saveFailed', params: { message: errorText(err) } })
    }
  }
  const userName = (id: number | null) => {
    if (id === null) return t('tickets.unassigned')
    const u = users.find((x) => x.id === id)
    return u ? u.name || u.email : `#${id}`
  }
  const date = (iso: string) => new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' })
  const st = (s: string) => lookup(`ticket.status.${s}`) ?? s
  const pr = (p: string) => lookup(`ticket.priority.${p}`) ?? p

  return (
    <section aria-labelledby="tickets-title">
      <h1 id="tickets-title">{t('tickets.title')}</h1>
      <div className="toolbar" role="search">
        <label htmlFor={ids.status}>
          {t('tickets.status')}
          <select id={ids.status} value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
            <option value="">{t('tickets.any')}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{st(s)}</option>)}
          </select>
        </label>
        <label htmlFor={ids.priority}>
          {t('tickets.priority')}
          <select id={ids.priority} value={filter.priority} onChange={(e) => setFilter({ ...filter, priority: e.target.value })}>
            <option value="">{t('tickets.any')}</option>
            {PRIORITIES.map((p) => <option key={p} value={p}>{pr(p)}</option>)}
          </select>
        </label>
        <label htmlFor={ids.assignee}>
          {t('tickets.assignee')}
          <select id={ids.assignee} value={filter.assignee} onChange={(e) => setFilter({ ...filter, assignee: e.target.value })}>
            <option value="">{t('tickets.any')}</option>
            {users.map((u) => <option key={u.id} value={u.id}>{u.name || u.email}</option>)}
          </select>
        </label>
        <form className="toolbar" onSubmit={(e) => void add(e)} style={{ margin: 0 }}>
          <label htmlFor={ids.subject}>
            {t('tickets.newSubject')}
            <input id={ids.subject} required value={subject} onChange={(e) => setSubject(e.target.value)} />
          </label>
          <button type="submit">{t('tickets.create')}</button>
        </form>
      </div>
      {message && <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind}>{t(message.key, message.params)}</p>}
      <div className="split">
        <div>
          {tickets === null && <p aria-busy="true">{t('app.loading')}</p>}
          {tickets?.length === 0 && <p className="muted" data-testid="no-tickets">{t('tickets.empty')}</p>}
          {tickets && tickets.length > 0 && (
            <table data-testid="tickets">
              <thead>
                <tr>
                  <th scope="col">{t('tickets.subject')}</th>
                  <th scope="col">{t('tickets.status')}</th>
                  <th scope="col">{t('tickets.priority')}</th>
                  <th scope="col">{t('tickets.assignee')}</th>
                  <th scope="col">{t('tickets.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {tickets.map((x) => (
                  <tr key={x.id} aria-selected={selected?.id === x.id}>
                    <td><button type="button" className="link" onClick={() => void open(x.id)}>{x.subject || `#${x.id}`}</button></td>
                    <td><span className="badge draft">{st(x.status)}</span></td>
                    <td>{pr(x.priority)}</td>
                    <td>{userName(x.assignee_id)}</td>
                    <td>{date(x.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {cursor && <button type="button" onClick={() => void load(true)}>{t('runs.more')}</button>}
        </div>
        {selected && (
          <aside className="card" aria-labelledby="ticket-title" data-testid="ticket-detail">
            <h2 id="ticket-title">{selected.subject || `#${selected.id}`}</h2>
            <dl className="facts">
              <dt>{t('tickets.created')}</dt><dd>{date(selected.created_at)}</dd>
              <dt>{t('tickets.source')}</dt><dd>{selected.source}</dd>
              {selected.team && <><dt>{t('tickets.team')}</dt><dd>{selected.team}</dd></>}
              {selected.contact_id && <><dt>{t('runs.contact')}</dt><dd>#{selected.contact_id}</dd></>}
            </dl>
            {selected.description && <p>{selected.description}</p>}
            <label htmlFor={ids.dStatus}>
              {t('tickets.status')}
              <select id={ids.dStatus} value={selected.status} onChange={(e) => void change({ status: e.target.value as Ticket['status'] })}>
                {STATUSES.map((s) => <option key={s} value={s}>{st(s)}</option>)}
              </select>
            </label>
            <label htmlFor={ids.dPriority}>
              {t('tickets.priority')}
              <select id={ids.dPriority} value={selected.priority} onChange={(e) => void change({ priority: e.target.value as Ticket['priority'] })}>
                {PRIORITIES.map((p) => <option key={p} value={p}>{pr(p)}</option>)}
              </select>
            </label>
            <label htmlFor={ids.dAssignee}>
              {t('tickets.assignee')}
              <select id={ids.dAssignee} value={selected.assignee_id ?? ''} onChange={(e) => e.target.value && void change({ assignee_id: Number(e.target.value) })}>
                <option value="" disabled>{t('tickets.unassigned')}</option>
                {users.map((u) => <option key={u.id} value={u.id}>{u.name || u.email}</option>)}
              </select>
            </label>
            {selected.transcript.length > 0 && (
              <>
                <h3>{t('tickets.transcript')}</h3>
                <ol className="events">
                  {selected.transcript.map((entry, i) => (
                    <li key={i}>{String(entry.text ?? entry.body ?? JSON.stringify(entry))}</li>
                  ))}
                </ol>
              </>
            )}
          </aside>
        )}
      </div>
    </section>
  )
}
