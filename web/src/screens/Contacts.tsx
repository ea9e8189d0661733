import { useEffect, useId, useState } from 'react'
import type { FormEvent } from 'react'
import { countSegment, createContact, listContacts, listSegments } from '../api/contacts'
import type { Contact, Segment } from '../api/contacts'
import { listContactFields } from '../api/simulator'
import type { ContactFieldDef } from '../api/simulator'
import { useErrorText } from '../components'
import { ImportPanel } from '../contacts/ImportPanel'
import { SegmentPanel } from '../contacts/SegmentPanel'
import { useI18n } from '../i18n'
import { href } from '../router'

interface Filter {
  q: string
  tag: string
  segmentId: number | null
}

/** Contacts: search by name, phone, email or id, filter by tag or saved segment, add one,
 * import a CSV with progress, build and save segments. */
export function Contacts() {
  const { t, lang } = useI18n()
  const errorText = useErrorText()
  const ids = { q: useId(), tag: useId(), segment: useId(), name: useId(), phone: useId(), email: useId() }
  const [q, setQ] = useState('')
  const [tag, setTag] = useState('')
  const [segmentId, setSegmentId] = useState<number | null>(null)
  const [applied, setApplied] = useState<Filter>({ q: '', tag: '', segmentId: null })
  const [importOpen, setImportOpen] = useState(false)
  const [contacts, setContacts] = useState<Contact[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [draft, setDraft] = useState({ name: '', phone: '', email: '' })
  const [fields, setFields] = useState<ContactFieldDef[]>([])
  const [segments, setSegments] = useState<Segment[]>([])
  const [counts, setCounts] = useState<Record<number, number>>({})

  const load = async (more: boolean) => {
    try {
      const page = await listContacts({ ...applied, cursor: more ? cursor : null })
      setContacts((current) => (more && current ? [...current, ...page.items] : page.items))
      setCursor(page.next_cursor)
      setError(null)
    } catch (err) {
      setError(t('contacts.loadFailed', { message: errorText(err) }))
    }
  }
  useEffect(() => {
    void load(false)
  }, [applied]) // eslint-disable-line

  const loadSegments = async () => {
    try {
      const page = await listSegments()
      setSegments(page.items)
      const pairs = await Promise.all(page.items.map(async (s) => [s.id, (await countSegment(s.id)).count] as const))
      setCounts(Object.fromEntries(pairs))
    } catch (err) {
      setError(t('contacts.segment.loadFailed', { message: errorText(err) }))
    }
  }
  useEffect(() => {
    listContactFields().then((page) => setFields(page.items), () => undefined)
    void loadSegments()
  }, []) // eslint-disable-line

  const search = (e: FormEvent) => {
    e.preventDefault()
    setApplied({ q: q.trim(), tag: tag.trim(), segmentId })
  }
  const showSegment = (id: number | null) => {
    setSegmentId(id)
    setApplied({ q: q.trim(), tag: tag.trim(), segmentId: id })
  }
  const add = async (e: FormEvent) => {
    e.preventDefault()
    const body = Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]))
    try {
      await createContact(body)
      setDraft({ name: '', phone: '', email: '' })
      await load(false)
    } catch (err) {
      setError(t('contacts.createFailed', { message: errorText(err) }))
    }
  }
  const date = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' }) : '—')

  return (
    <section aria-labelledby="contacts-title">
      <h1 id="contacts-title">{t('contacts.title')}</h1>
      <form className="toolbar" onSubmit={search} role="search">
        <label htmlFor={ids.q}>
          {t('contacts.search')}
          <input id={ids.q} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <label htmlFor={ids.tag}>
          {t('contacts.tag')}
          <input id={ids.tag} value={tag} onChange={(e) => setTag(e.target.value)} />
        </label>
        <div className="field">
          <label htmlFor={ids.segment}>{t('contacts.segment.filter')}</label>
          <select id={ids.segment} data-testid="segment-filter" value={segmentId ?? ''} onChange={(e) => showSegment(e.target.value ? Number(e.target.value) : null)}>
            <option value="">{t('contacts.segment.everyone')}</option>
            {segments.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </div>
        <button type="submit">{t('contacts.searchButton')}</button>
      </form>
      <details className="card" style={{ marginBottom: '1rem' }}>
        <summary>{t('contacts.new')}</summary>
        <form className="toolbar" onSubmit={(e) => void add(e)} style={{ marginTop: '0.75rem' }}>
          <label htmlFor={ids.name}>
            {t('contacts.name')}
            <input id={ids.name} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          </label>
          <label htmlFor={ids.phone}>
            {t('contacts.phone')}
            <input id={ids.phone} type="tel" value={draft.phone} onChange={(e) => setDraft({ ...draft, phone: e.target.value })} />
          </label>
          <label htmlFor={ids.email}>
            {t('contacts.email')}
            <input id={ids.email} type="email" value={draft.email} onChange={(e) => setDraft({ ...draft, email: e.target.value })} />
          </label>
          <button type="submit" className="primary">{t('contacts.add')}</button>
        </form>
      </details>
      <details className="card" style={{ marginBottom: '1rem' }} open={importOpen}
        onToggle={(e) => setImportOpen(e.currentTarget.open)}>
        <summary>{t('contacts.import.title')}</summary>
        <div style={{ marginTop: '0.75rem' }}>
          <ImportPanel fields={fields} onImported={() => { void load(false); void loadSegments() }}
            onRunning={() => setImportOpen(true)} />
        </div>
      </details>
      <details className="card" style={{ marginBottom: '1rem' }}>
        <summary>{t('contacts.segment.title')}</summary>
        <div style={{ marginTop: '0.75rem' }}>
          {segments.length > 0 && (
            <table data-testid="segments">
              <caption className="sr-only">{t('contacts.segment.saved')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('contacts.segment.name')}</th>
                  <th scope="col">{t('contacts.segment.members')}</th>
                  <th scope="col"><span className="sr-only">{t('contacts.segment.show')}</span></th>
                </tr>
              </thead>
              <tbody>
                {segments.map((s) => (
                  <tr key={s.id}>
                    <td>{s.name}</td>
                    <td>{counts[s.id] ?? '…'}</td>
                    <td>
                      <button type="button" aria-label={t('contacts.segment.showOf', { name: s.name })} onClick={() => showSegment(s.id)}>
                        {t('contacts.segment.show')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>{t('contacts.segment.new')}</h2>
          <SegmentPanel fields={fields} onSaved={(saved) => { void loadSegments(); showSegment(saved.id) }} />
        </div>
      </details>
      {error && <p role="alert" className="error">{error}</p>}
      {contacts === null && !error && <p aria-busy="true">{t('app.loading')}</p>}
      {contacts?.length === 0 && <p className="muted" data-testid="no-contacts">{t('contacts.empty')}</p>}
      {contacts && contacts.length > 0 && (
        <table data-testid="contacts">
          <thead>
            <tr>
              <th scope="col">{t('contacts.name')}</th>
              <th scope="col">{t('contacts.phone')}</th>
              <th scope="col">{t('contacts.email')}</th>
              <th scope="col">{t('contacts.tags')}</th>
              <th scope="col">{t('contacts.score')}</th>
              <th scope="col">{t('contacts.lastInbound')}</th>
              <th scope="col"><span className="sr-only">{t('shell.runs')}</span></th>
            </tr>
          </thead>
          <tbody>
            {contacts.map((c) => (
              <tr key={c.id}>
                <td>{c.name || `#${c.id}`}</td>
                <td>{c.phone ?? '—'}</td>
                <td>{c.email ?? '—'}</td>
                <td>{c.tags.map((x) => <span key={x} className="badge draft" style={{ marginRight: 4 }}>{x}</span>)}</td>
                <td>{c.lead_score}</td>
                <td>{date(c.last_inbound_at)}</td>
                <td>
                  <a href={href({ name: 'runs', contactId: c.id })} aria-label={t('contacts.runsOf', { name: c.name || `#${c.id}` })}>
                    {t('shell.runs')}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && <button type="button" onClick={() => void load(true)}>{t('runs.more')}</button>}
    </section>
  )
}
