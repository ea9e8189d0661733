import { useCallback, useEffect, useId, useState } from 'react'
import type { ChangeEvent, FormEvent } from 'react'
import { createFlow, emptyFlow, exportFlow, importFlow, listFlows } from '../api/flows'
import type { FlowListItem } from '../api/flows'
import { useI18n } from '../i18n'
import { downloadText, useErrorText } from '../components'
import { href, navigate } from '../router'
import { TemplateGallery } from './TemplateGallery'

export function FlowList() {
  const { t, lang } = useI18n()
  const errorText = useErrorText()
  const [flows, setFlows] = useState<FlowListItem[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [fromTemplate, setFromTemplate] = useState(false)
  const importId = useId()

  const load = useCallback(async () => {
    try {
      setFlows(await listFlows())
      setError(null)
    } catch (err) {
      setError(t('flows.loadFailed', { message: errorText(err) }))
    }
  }, [t, errorText])

  useEffect(() => {
    void load()
  }, [])

  async function create(make: () => Promise<{ id: number }>) {
    setBusy(true)
    try {
      const flow = await make()
      navigate({ name: 'flow', id: flow.id })
    } catch (err) {
      setError(t('flows.createFailed', { message: errorText(err) }))
    } finally {
      setBusy(false)
    }
  }

  function onCreate(e: FormEvent) {
    e.preventDefault()
    if (name.trim()) void create(() => createFlow(emptyFlow(name.trim())))
  }

  async function onImport(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0]
    e.target.value = ''
    if (!file) return
    const text = await file.text()
    const format = /\.ya?ml$/i.test(file.name) ? 'yaml' : 'json'
    await create(() => importFlow(text, format))
  }

  async function onExport(flow: FlowListItem) {
    try {
      downloadText(`${flow.name.replace(/[^\w-]+/g, '_') || 'flow'}.json`, await exportFlow(flow.id), 'application/json')
    } catch (err) {
      setError(t('flows.loadFailed', { message: errorText(err) }))
    }
  }

  const percent = (ratio: number) =>
    new Intl.NumberFormat(lang === 'es' ? 'es' : 'en', { style: 'percent', maximumFractionDigits: 1 })
      .format(ratio)
  const date = (iso: string) =>
    new Date(iso).toLocaleString(lang === 'es' ? 'es' : 'en', { dateStyle: 'medium', timeStyle: 'short' })

  return (
    <section aria-labelledby="flows-title">
      <h1 id="flows-title">{t('flows.title')}</h1>
      <div className="toolbar">
        <form onSubmit={onCreate} className="row">
          <label>
            {t('flows.newName')}
            <input value={name} onChange={(e) => setName(e.target.value)} required
              data-testid="new-flow-name" />
          </label>
          <button type="submit" className="primary" disabled={busy}>{t('flows.create')}</button>
        </form>
        <button type="button" aria-expanded={fromTemplate} aria-controls="template-gallery"
          onClick={() => setFromTemplate((open) => !open)}>
          {t('flows.fromTemplate')}
        </button>
        <label className="button" htmlFor={importId}>
          {t('flows.import')}
          <input id={importId} type="file" accept="application/json,.json,.yaml,.yml" className="sr-only"
            aria-label={t('flows.importFile')} onChange={(e) => void onImport(e)} />
        </label>
      </div>
      {fromTemplate && <div id="template-gallery"><TemplateGallery /></div>}
      {error && <p role="alert" className="error">{error}</p>}
      {flows === null && !error && <p aria-busy="true">{t('app.loading')}</p>}
      {flows?.length === 0 && <p className="muted">{t('flows.empty')}</p>}
      {flows && flows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('flows.name')}</th>
              <th scope="col">{t('flows.status')}</th>
              <th scope="col">{t('flows.version')}</th>
              <th scope="col">{t('flows.runsActive')}</th>
              <th scope="col">{t('flows.conversion')}</th>
              <th scope="col">{t('flows.updated')}</th>
              <th scope="col"><span className="sr-only">{t('flows.export')}</span></th>
            </tr>
          </thead>
          <tbody>
            {flows.map((flow) => (
              <tr key={flow.id}>
                <td>
                  <a href={href({ name: 'flow', id: flow.id })}>{flow.name}</a>
                </td>
                <td>
                  {flow.published_version ? (
                    <span className="badge published">{t('flows.published')}</span>
                  ) : (
                    <span className="badge draft">{t('flows.draft')}</span>
                  )}
                </td>
                <td>{flow.published_version ?? t('flows.none')}</td>
                <td data-testid={`runs-active-${flow.id}`}>{flow.runs_active}</td>
                <td data-testid={`conversion-${flow.id}`}
                  title={t('flows.conversionHint', { runs: flow.runs_total })}>
                  {flow.conversion_rate === null ? t('flows.none') : percent(flow.conversion_rate)}
                </td>
                <td>{date(flow.updated_at)}</td>
                <td>
                  <button type="button" onClick={() => void onExport(flow)}
                    aria-label={`${t('flows.export')}: ${flow.name}`}>
                    {t('flows.export')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
