import { useEffect, useId, useState } from 'react'
import type { ChangeEvent } from 'react'
import Papa from 'papaparse'
import { getImport, listActiveImports, startImport } from '../api/contacts'
import type { ImportJob } from '../api/contacts'
import type { ContactFieldDef } from '../api/simulator'
import { downloadText, useErrorText } from '../components'
import { useI18n } from '../i18n'
import { IMPORT_TARGETS, errorsCsv, guessMapping, mappingForApi, mappingProblems, percentDone } from './importMapping'

const POLL_MS = 500
const SAMPLE_ROWS = 3

interface Preview {
  file: File
  headers: string[]
  samples: string[][]
}

/** Read the header and a few rows in the browser (the whole file goes to the server only when
 * the import starts). */
function readPreview(file: File): Promise<Preview> {
  return new Promise((resolve, reject) => {
    Papa.parse<string[]>(file, {
      preview: SAMPLE_ROWS + 1,
      skipEmptyLines: 'greedy',
      complete: (result) => {
        const [header = [], ...samples] = result.data
        resolve({ file, headers: header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim()), samples })
      },
      error: (err) => reject(err),
    })
  })
}

/** CSV import: pick a file, map its columns, start the import job and follow its progress
 * (`POST /contacts/imports`, then `GET /contacts/imports/{id}` until it ends). */
export function ImportPanel({ fields, onImported, onRunning }: {
  fields: ContactFieldDef[]
  onImported: () => void
  /** An import started earlier is still running: the panel follows it (the screen opens it). */
  onRunning?: () => void
}) {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const fileId = useId()
  const [preview, setPreview] = useState<Preview | null>(null)
  const [mapping, setMapping] = useState<Record<string, string>>({})
  const [job, setJob] = useState<ImportJob | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [starting, setStarting] = useState(false)

  const running = job !== null && (job.status === 'pending' || job.status === 'running')
  // Reloading the page (or opening the screen elsewhere) must not lose sight of an import:
  // follow the newest one still running.
  useEffect(() => {
    listActiveImports().then((page) => {
      const latest = page.items[page.items.length - 1]
      if (!latest) return
      setJob((current) => current ?? latest)
      onRunning?.()
    }, (err) => setError(t('contacts.import.failed', { message: errorText(err) })))
  }, []) // eslint-disable-line
  useEffect(() => {
    if (!job || !running) return
    const timer = window.setTimeout(() => {
      getImport(job.id).then((next) => {
        setJob(next)
        if (next.status === 'completed') onImported()
      }, (err) => setError(t('contacts.import.failed', { message: errorText(err) })))
    }, POLL_MS)
    return () => window.clearTimeout(timer)
  }, [job]) // eslint-disable-line

  // The custom fields may arrive after the file was read: columns still unmapped get the
  // guess the fields now allow (a column the user already mapped keeps their choice).
  useEffect(() => {
    if (!preview || fields.length === 0) return
    const guessed = guessMapping(preview.headers, fields)
    setMapping((current) => {
      const next = { ...current }
      for (const header of preview.headers) if (!next[header] && guessed[header]) next[header] = guessed[header]
      return next
    })
  }, [fields, preview])

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0]
    setJob(null)
    setError(null)
    if (!file) {
      setPreview(null)
      return
    }
    try {
      const next = await readPreview(file)
      if (!next.headers.some(Boolean)) throw new Error(t('contacts.import.noHeader'))
      setPreview(next)
      const guessed = guessMapping(next.headers, fields)
      setMapping(Object.fromEntries(next.headers.map((h) => [h, guessed[h] ?? ''])))
    } catch (err) {
      setPreview(null)
      setError(t('contacts.import.unreadable', { message: errorText(err) }))
    }
  }

  const start = async () => {
    if (!preview) return
    setStarting(true)
    setError(null)
    try {
      setJob(await startImport(preview.file, mappingForApi(mapping)))
    } catch (err) {
      setError(t('contacts.import.failed', { message: errorText(err) }))
    } finally {
      setStarting(false)
    }
  }

  const targetLabel = (target: string) => {
    if (target.startsWith('fields.')) {
      const def = fields.find((f) => `fields.${f.key}` === target)
      return t('contacts.import.customField', { name: def?.label || target.slice(7) })
    }
    return lookup(`contacts.attr.${target}`) ?? target
  }
  const problems = mappingProblems(mapping)
  const problemText = problems.map((p) =>
    p.kind === 'no_identifier' ? t('contacts.import.needIdentifier') : t('contacts.import.twice', { field: targetLabel(p.target) }),
  )
  const percent = job ? percentDone(job.processed_rows, job.total_rows) : 0

  return (
    <div data-testid="import-panel">
      <p className="muted">{t('contacts.import.help')}</p>
      <label htmlFor={fileId}>
        {t('contacts.import.file')}
        <input id={fileId} type="file" accept=".csv,text/csv" data-testid="import-file" disabled={running} onChange={(e) => void onFile(e)} />
      </label>
      {preview && !job && (
        <>
          <table data-testid="import-mapping">
            <caption className="sr-only">{t('contacts.import.mapping')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('contacts.import.column')}</th>
                <th scope="col">{t('contacts.import.example')}</th>
                <th scope="col">{t('contacts.import.field')}</th>
              </tr>
            </thead>
            <tbody>
              {preview.headers.map((header, i) => (
                <tr key={`${i}:${header}`}>
                  <th scope="row">{header}</th>
                  <td className="muted">{preview.samples.map((row) => row[i] ?? '').filter(Boolean).slice(0, 2).join(' · ') || '—'}</td>
                  <td>
                    <select
                      aria-label={t('contacts.import.fieldFor', { column: header })}
                      value={mapping[header] ?? ''}
                      onChange={(e) => setMapping({ ...mapping, [header]: e.target.value })}
                    >
                      <option value="">{t('contacts.import.ignore')}</option>
                      {IMPORT_TARGETS.map((target) => <option key={target} value={target}>{targetLabel(target)}</option>)}
                      {fields.map((f) => <option key={f.key} value={`fields.${f.key}`}>{targetLabel(`fields.${f.key}`)}</option>)}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {problemText.map((text) => <p key={text} className="muted" data-testid="import-problem">{text}</p>)}
          <button type="button" className="primary" disabled={problems.length > 0 || starting} onClick={() => void start()}>
            {t('contacts.import.start')}
          </button>
        </>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {job && (
        <div data-testid="import-job" data-status={job.status}>
          <progress
            data-testid="import-progress"
            max={Math.max(job.total_rows, 1)}
            value={job.processed_rows}
            aria-label={t('contacts.import.progress', { percent })}
            style={{ width: '100%' }}
          />
          <p role="status" data-testid="import-counts">
            {t('contacts.import.counts', {
              percent, processed: job.processed_rows, total: job.total_rows,
              created: job.created_count, updated: job.updated_count, bad: job.error_count,
            })}
          </p>
          {job.status === 'completed' && <p data-testid="import-done">{t('contacts.import.done')}</p>}
          {job.status === 'failed' && <p role="alert" className="error">{t('contacts.import.failed', { message: job.message })}</p>}
          {!running && job.errors.length > 0 && (
            <>
              <h3>{t('contacts.import.badRows', { count: job.error_count })}</h3>
              {job.error_count > job.errors.length && <p className="muted">{t('contacts.import.firstShown', { count: job.errors.length })}</p>}
              <button type="button" onClick={() => downloadText(`import-${job.id}-bad-rows.csv`, errorsCsv(job.errors), 'text/csv')}>
                {t('contacts.import.download')}
              </button>
              <table data-testid="import-errors">
                <thead>
                  <tr>
                    <th scope="col">{t('contacts.import.row')}</th>
                    <th scope="col">{t('contacts.import.field')}</th>
                    <th scope="col">{t('contacts.import.reason')}</th>
                  </tr>
                </thead>
                <tbody>
                  {job.errors.map((e) => (
                    <tr key={e.row}>
                      <td>{e.row}</td>
                      <td>{e.field ? targetLabel(e.field) : '—'}</td>
                      <td>{e.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </div>
      )}
    </div>
  )
}
