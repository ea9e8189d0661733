import { useEffect, useId, useState } from 'react'
import type { DragEvent, FormEvent } from 'react'
import { createPipeline, kanbanColumns, listOpportunities, listPipelines, moveOpportunity } from '../api/pipelines'
import type { Opportunity, Pipeline } from '../api/pipelines'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n'

const CARD_MIME = 'application/x-cauce-opportunity'

/** Pipelines as a kanban board: drag a card (or pick a stage) to move it; the move fires the
 * flows' opportunity triggers on the server. */
export function Pipelines() {
  const { t, lang } = useI18n()
  const errorText = useErrorText()
  const ids = { pick: useId(), name: useId(), stages: useId() }
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null)
  const [current, setCurrent] = useState<number | null>(null)
  const [opps, setOpps] = useState<Opportunity[]>([])
  const [message, setMessage] = useState<{ kind: 'error' | 'notice'; key: MessageKey; params?: Record<string, string> } | null>(null)
  const [draft, setDraft] = useState({ name: '', stages: '' })
  const [over, setOver] = useState<number | null>(null)

  const loadPipelines = async (select?: number) => {
    try {
      const page = await listPipelines()
      setPipelines(page.items)
      setCurrent((c) => select ?? c ?? page.items[0]?.id ?? null)
    } catch (err) {
      setMessage({ kind: 'error', key: 'pipelines.loadFailed', params: { message: errorText(err) } })
    }
  }
  useEffect(() => {
    void loadPipelines()
  }, []) // eslint-disable-line
  useEffect(() => {
    if (current === null) return
    listOpportunities({ pipelineId: current, status: 'open' }).then(
      (page) => setOpps(page.items),
      (err) => setMessage({ kind: 'error', key: 'pipelines.loadFailed', params: { message: errorText(err) } }),
    )
  }, [current]) // eslint-disable-line

  const pipeline = pipelines?.find((p) => p.id === current) ?? null
  const move = async (opp: Opportunity, stageId: number) => {
    if (opp.stage_id === stageId) return
    const before = opps
    setOpps((list) => list.map((o) => (o.id === opp.id ? { ...o, stage_id: stageId } : o)))
    try {
      const moved = await moveOpportunity(opp.id, stageId)
      setOpps((list) => list.map((o) => (o.id === moved.id ? moved : o)))
      setMessage({ kind: 'notice', key: 'pipelines.moved', params: { name: moved.name, stage: moved.stage } })
    } catch (err) {
      setOpps(before)
      setMessage({ kind: 'error', key: 'pipelines.moveFailed', params: { message: errorText(err) } })
    }
  }
  const onDrop = (e: DragEvent, stageId: number) => {
    e.preventDefault()
    setOver(null)
    const id = Number(e.dataTransfer.getData(CARD_MIME))
    const opp = opps.find((o) => o.id === id)
    if (opp) void move(opp, stageId)
  }
  const create = async (e: FormEvent) => {
    e.preventDefault()
    const stages = draft.stages.split(',').map((s) => s.trim()).filter(Boolean)
    try {
      const created = await createPipeline(draft.name.trim(), stages)
      setDraft({ name: '', stages: '' })
      await loadPipelines(created.id)
    } catch (err) {
      setMessage({ kind: 'error', key: 'pipelines.createFailed', params: { message: errorText(err) } })
    }
  }
  const money = (o: Opportunity) => {
    try {
      return new Intl.NumberFormat(lang, { style: 'currency', currency: o.currency || 'USD', minimumFractionDigits: 0, maximumFractionDigits: 0 }).format(o.value)
    } catch {
      return `${o.value} ${o.currency}`
    }
  }

  return (
    <section aria-labelledby="pipelines-title">
      <h1 id="pipelines-title">{t('pipelines.title')}</h1>
      <div className="toolbar">
        {pipelines && pipelines.length > 0 && (
          <label htmlFor={ids.pick}>
            {t('pipelines.pipeline')}
            <select id={ids.pick} value={current ?? ''} onChange={(e) => setCurrent(Number(e.target.value))} data-testid="pipeline-pick">
              {pipelines.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          </label>
        )}
        <details className="card">
          <summary>{t('pipelines.new')}</summary>
          <form className="toolbar" onSubmit={(e) => void create(e)} style={{ marginTop: '0.75rem' }}>
            <label htmlFor={ids.name}>
              {t('pipelines.name')}
              <input id={ids.name} required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
            </label>
            <label htmlFor={ids.stages}>
              {t('pipelines.stages')}
              <input id={ids.stages} required value={draft.stages} placeholder={t('pipelines.stagesExample')}
                onChange={(e) => setDraft({ ...draft, stages: e.target.value })} />
            </label>
            <button type="submit" className="primary">{t('pipelines.create')}</button>
          </form>
        </details>
      </div>
      {message && (
        <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind}>{t(message.key, message.params)}</p>
      )}
      {pipelines === null && !message && <p aria-busy="true">{t('app.loading')}</p>}
      {pipelines?.length === 0 && <p className="muted">{t('pipelines.empty')}</p>}
      {pipeline && (
        <p className="help">{t('pipelines.help')}</p>
      )}
      {pipeline && (
        <div className="kanban" data-testid="kanban">
          {kanbanColumns(pipeline, opps).map(({ stage, cards }) => (
            <section key={stage.id} className={over === stage.id ? 'column over' : 'column'} aria-labelledby={`stage-${stage.id}`}
              data-testid={`stage-${stage.name}`}
              onDragOver={(e) => {
                e.preventDefault()
                setOver(stage.id)
              }}
              onDragLeave={() => setOver((o) => (o === stage.id ? null : o))}
              onDrop={(e) => onDrop(e, stage.id)}>
              <h2 id={`stage-${stage.id}`}>{stage.name} <span className="badge draft">{cards.length}</span></h2>
              <ul>
                {cards.map((o) => (
                  <li key={o.id} className="kcard" draggable data-testid={`opp-${o.id}`}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(CARD_MIME, String(o.id))
                      e.dataTransfer.effectAllowed = 'move'
                    }}>
                    <strong>{o.name || `#${o.id}`}</strong>
                    <span className="muted">{money(o)}</span>
                    <label className="sr-label">
                      <span className="sr-only">{t('pipelines.moveTo', { name: o.name || `#${o.id}` })}</span>
                      <select value={o.stage_id} aria-label={t('pipelines.moveTo', { name: o.name || `#${o.id}` })}
                        onChange={(e) => void move(o, Number(e.target.value))}>
                        {pipeline.stages.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
                      </select>
                    </label>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </section>
  )
}
