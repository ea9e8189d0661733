import { useEffect, useId, useState } from 'react'
import type { FormEvent } from 'react'
import { getRun, listRuns } from '../api/runs'
import type { Run, RunDetail, RunFilter } from '../api/runs'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import { href, navigate } from '../router'

const STATUSES = ['waiting', 'completed', 'failed', 'interrupted']

/** Dates and times in the UI's language, short date and seconds (run and delivery logs). */
export function useDate(): (iso: string | null) => string {
  const { lang } = useI18n()
  return (iso) =>
    iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'medium' }) : '—'
}

function StatusBadge({ status }: { status: string }) {
  const { lookup } = useI18n()
  const tone = status === 'failed' ? 'error' : status === 'completed' ? 'published' : 'draft'
  return <span className={`badge ${tone}`}>{lookup(`run.status.${status}`) ?? status}</span>
}

/** Runs, newest first, filtered by flow, contact and status. */
export function Runs({ flowId, contactId }: { flowId?: number; contactId?: number }) {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const date = useDate()
  const ids = { flow: useId(), contact: useId(), status: useId() }
  const [status, setStatus] = useState('')
  const [flowText, setFlowText] = useState(flowId ? String(flowId) : '')
  const [contactText, setContactText] = useState(contactId ? String(contactId) : '')
  const [runs, setRuns] = useState<Run[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)

  const filter: RunFilter = { flowId, contactId, status: status || undefined }
  const load = async (more: boolean) => {
    try {
      const page = await listRuns({ ...filter, cursor: more ? cursor : null })
      setRuns((current) => (more && current ? [...current, ...page.items] : page.items))
      setCursor(page.next_cursor)
      setError(null)
    } catch (err) {
      setError(t('runs.loadFailed', { message: errorText(err) }))
    }
  }
  useEffect(() => {
    void load(false)
    // the filter is the dependency; `load` is recreated every render
  }, [flowId, contactId, status]) // eslint-disable-line

  const apply = (e: FormEvent) => {
    e.preventDefault()
    navigate({
      name: 'runs',
      flowId: flowText ? Number(flowText) : undefined,
      contactId: contactText ? Number(contactText) : undefined,
    })
  }

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">{t('runs.title')}</h1>
      <form className="toolbar" onSubmit={apply}>
        <label htmlFor={ids.flow}>
          {t('runs.flow')}
          <input id={ids.flow} type="number" min={1} value={flowText} onChange={(e) => setFlowText(e.target.value)} />
        </label>
        <label htmlFor={ids.contact}>
          {t('runs.contact')}
          <input id={ids.contact} type="number" min={1} value={contactText} onChange={(e) => setContactText(e.target.value)} />
        </label>
        <button type="submit">{t('runs.filter')}</button>
        <label htmlFor={ids.status}>
          {t('runs.status')}
          <select id={ids.status} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('runs.anyStatus')}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{lookup(`run.status.${s}`) ?? s}</option>)}
          </select>
        </label>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {runs === null && !error && <p aria-busy="true">{t('app.loading')}</p>}
      {runs?.length === 0 && <p className="muted" data-testid="no-runs">{t('runs.empty')}</p>}
      {runs && runs.length > 0 && (
        <table data-testid="runs">
          <thead>
            <tr>
              <th scope="col">{t('runs.started')}</th>
              <th scope="col">{t('runs.flow')}</th>
              <th scope="col">{t('runs.contact')}</th>
              <th scope="col">{t('runs.status')}</th>
              <th scope="col">{t('runs.where')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td><a href={href({ name: 'run', id: run.id })}>{date(run.started_at)}</a></td>
                <td>
                  <a href={href({ name: 'flow', id: run.flow_id })}>#{run.flow_id}</a> v{run.flow_version}
                </td>
                <td>#{run.contact_id}</td>
                <td><StatusBadge status={run.status} /></td>
                <td>
                  {run.node_id ?? '—'}
                  {run.waiting_for && <> · {t('runs.waitingFor', { what: lookup(`run.wait.${run.waiting_for}`) ?? run.waiting_for })}</>}
                  {run.due_at && <> · {date(run.due_at)}</>}
                  {run.end_reason && <> · {run.end_reason}</>}
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

/** One run: its facts and every step with time, input, output and error. */
export function RunView({ id }: { id: string }) {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const date = useDate()
  const [run, setRun] = useState<RunDetail | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    getRun(id).then(setRun, (err) => setError(t('runs.loadFailed', { message: errorText(err) })))
  }, [id]) // eslint-disable-line
  if (error) return <p role="alert" className="error">{error}</p>
  if (!run) return <p aria-busy="true">{t('app.loading')}</p>
  return (
    <section aria-labelledby="run-title">
      <p><a href={href({ name: 'runs', flowId: run.flow_id })}>{t('runs.back')}</a></p>
      <h1 id="run-title">{t('runs.run', { id: run.id })}</h1>
      <dl className="facts">
        <dt>{t('runs.flow')}</dt>
        <dd><a href={href({ name: 'flow', id: run.flow_id })}>#{run.flow_id}</a> v{run.flow_version}</dd>
        <dt>{t('runs.contact')}</dt>
        <dd><a href={href({ name: 'runs', contactId: run.contact_id })}>#{run.contact_id}</a></dd>
        <dt>{t('runs.status')}</dt>
        <dd><StatusBadge status={run.status} /> {run.end_reason ?? ''}</dd>
        <dt>{t('runs.started')}</dt>
        <dd>{date(run.started_at)}</dd>
      </dl>
      <h2>{t('runs.steps')}</h2>
      <table data-testid="steps">
        <thead>
          <tr>
            <th scope="col">{t('runs.at')}</th>
            <th scope="col">{t('runs.input')}</th>
            <th scope="col">{t('runs.node')}</th>
            <th scope="col">{t('runs.status')}</th>
            <th scope="col">{t('runs.output')}</th>
          </tr>
        </thead>
        <tbody>
          {run.steps.map((step) => (
            <tr key={step.id}>
              <td>{date(step.at)}</td>
              <td>
                <details>
                  <summary>{lookup(`input.${step.input_kind}`) ?? step.input_kind}</summary>
                  <pre>{JSON.stringify(step.input, null, 2)}</pre>
                </details>
              </td>
              <td>{step.node_id ?? '—'}</td>
              <td><StatusBadge status={step.status} /></td>
              <td>
                {step.error && <p className="error">{step.error}</p>}
                {step.output.length > 0 && (
                  <details>
                    <summary>{t('runs.events', { n: step.output.length })}</summary>
                    <pre>{JSON.stringify(step.output, null, 2)}</pre>
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
