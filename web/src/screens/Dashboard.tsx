import { useEffect, useId, useState } from 'react'
import type { FormEvent } from 'react'
import {
  ArcElement, BarElement, CategoryScale, Chart as ChartJS, Legend, LineElement, LinearScale, PointElement, Tooltip,
} from 'chart.js'
import { Bar, Doughnut, Line } from 'react-chartjs-2'
import { listFlows } from '../api/flows'
import type { FlowSummary } from '../api/flows'
import { duration, funnelSeries, getDashboard, isMissingRoute, messagesMatrix, percent } from '../api/inbox'
import type { Dashboard as DashboardData } from '../api/inbox'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'

ChartJS.register(ArcElement, BarElement, CategoryScale, Legend, LineElement, LinearScale, PointElement, Tooltip)

const PALETTE = ['#0f766e', '#2563eb', '#d97706', '#9333ea', '#dc2626', '#0891b2']
const day = (d: Date) => d.toISOString().slice(0, 10)

/** The measurement screen: cards, funnel per flow, handling time, messages per flow and
 * channel, delivery and read rates, cost, revenue and frequent errors with what to do. */
export function Dashboard() {
  const { t, lang, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { from: useId(), to: useId(), flow: useId() }
  // No dates at first: the server's default range ends at the server's now, which in a
  // simulation is the virtual clock's time (the browser's date could be months away from it).
  const [range, setRange] = useState({ from: '', to: '', flowId: '' })
  const [applied, setApplied] = useState(range)
  const [flows, setFlows] = useState<FlowSummary[]>([])
  const [data, setData] = useState<DashboardData | null>(null)
  const [missing, setMissing] = useState(false)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    listFlows().then(setFlows, () => undefined)
  }, [])
  useEffect(() => {
    let cancelled = false
    setData(null)
    getDashboard({ from: applied.from, to: applied.to, flowId: applied.flowId ? Number(applied.flowId) : null }).then(
      (d) => {
        if (cancelled) return
        setData(d)
        setMissing(false)
        setError(null)
        // Show the range the server chose, unless the person has typed dates already.
        setRange((r) => ({ ...r, from: r.from || day(new Date(d.range.from)), to: r.to || day(new Date(d.range.to)) }))
      },
      (err) => {
        if (cancelled) return
        if (isMissingRoute(err)) setMissing(true)
        else setError(errorText(err))
      },
    )
    return () => {
      cancelled = true
    }
  }, [applied]) // eslint-disable-line

  const flowName = (id: number | null) => (id === null ? t('dash.noFlow') : flows.find((f) => f.id === id)?.name ?? `#${id}`)
  const num = (n: number | null | undefined, digits = 0) =>
    n === null || n === undefined ? '—' : n.toLocaleString(lang, { maximumFractionDigits: digits })
  const money = (n: number | null | undefined, currency: string) => {
    if (n === null || n === undefined) return '—'
    try {
      return new Intl.NumberFormat(lang, { style: 'currency', currency: currency || 'USD', maximumFractionDigits: 2 }).format(n)
    } catch {
      return `${n.toFixed(2)} ${currency}`
    }
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setApplied(range)
  }

  const filters = (
    <form className="toolbar" onSubmit={submit} aria-label={t('dash.filters')}>
      <label htmlFor={ids.from}>{t('dash.from')}
        <input id={ids.from} type="date" value={range.from} max={range.to} onChange={(e) => setRange({ ...range, from: e.target.value })} /></label>
      <label htmlFor={ids.to}>{t('dash.to')}
        <input id={ids.to} type="date" value={range.to} min={range.from} onChange={(e) => setRange({ ...range, to: e.target.value })} /></label>
      <label htmlFor={ids.flow}>{t('runs.flow')}
        <select id={ids.flow} value={range.flowId} onChange={(e) => setRange({ ...range, flowId: e.target.value })}>
          <option value="">{t('dash.allFlows')}</option>
          {flows.map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
        </select></label>
      <button type="submit" className="primary">{t('dash.apply')}</button>
    </form>
  )

  if (missing) {
    return (
      <section aria-labelledby="dash-title">
        <h1 id="dash-title">{t('dash.title')}</h1>
        <p role="alert" className="error" data-testid="dash-missing">{t('dash.missing')}</p>
      </section>
    )
  }
  const funnel = data ? funnelSeries(data.funnel, applied.flowId ? Number(applied.flowId) : null) : null
  const matrix = data ? messagesMatrix(data.messages, flowName) : null
  const currency = data?.cost.currency ?? 'USD'
  const axisOpts = { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' as const } } }
  return (
    <section aria-labelledby="dash-title" className="dashboard">
      <h1 id="dash-title">{t('dash.title')}</h1>
      {filters}
      {error && <p role="alert" className="error">{t('dash.loadFailed', { message: error })}</p>}
      {!data && !error && <p aria-busy="true">{t('app.loading')}</p>}
      {data && funnel && matrix && (
        <>
          <div className="cards" data-testid="dash-cards">
            <Card label={t('dash.conversion')} value={percent(data.cards.conversion_rate) === null ? '—' : `${num(percent(data.cards.conversion_rate), 1)} %`}
              hint={t('dash.conversions', { n: num(data.cards.conversions) })} />
            <Card label={t('dash.hoursSaved')} value={num(data.cards.hours_saved_month, 1)} hint={t('dash.hoursHint')} />
            <Card label={t('dash.nps')} value={num(data.cards.nps)} />
            <Card label={t('dash.csat')} value={num(data.cards.csat, 1)} />
            <Card label={t('dash.firstResponse')} value={duration(data.handling_time.avg_first_response_s)} />
            <Card label={t('dash.costPerConversation')} value={money(data.cost.per_conversation, currency)} />
          </div>
          <div className="charts">
            <figure className="card">
              <figcaption>{t('dash.funnel', { flow: flowName(funnel.flowId) })}</figcaption>
              {funnel.labels.length === 0 ? <p className="muted">{t('dash.noData')}</p> : (
                <div className="chart" data-testid="dash-funnel">
                  <Bar role="img" aria-label={t('dash.funnelAlt', { steps: funnel.labels.map((l, i) => `${l}: ${funnel.counts[i]}`).join(', ') })}
                    data={{ labels: funnel.labels, datasets: [{ label: t('dash.entered'), data: funnel.counts, backgroundColor: PALETTE[0] }] }}
                    options={{ ...axisOpts, indexAxis: 'y' as const, plugins: { legend: { display: false } } }} />
                </div>
              )}
            </figure>
            <figure className="card">
              <figcaption>{t('dash.handling', { first: duration(data.handling_time.avg_first_response_s), resolution: duration(data.handling_time.avg_resolution_s) })}</figcaption>
              {data.handling_time.series.length === 0 ? <p className="muted">{t('dash.noData')}</p> : (
                <div className="chart">
                  <Line role="img" aria-label={t('dash.handlingAlt')} options={axisOpts}
                    data={{
                      labels: data.handling_time.series.map((p) => p.date),
                      datasets: [
                        { label: t('dash.firstResponse'), data: data.handling_time.series.map((p) => (p.avg_first_response_s ?? 0) / 60), borderColor: PALETTE[1] },
                        { label: t('dash.resolution'), data: data.handling_time.series.map((p) => (p.avg_resolution_s ?? 0) / 60), borderColor: PALETTE[2] },
                      ],
                    }} />
                </div>
              )}
            </figure>
            <figure className="card">
              <figcaption>{t('dash.messages')}</figcaption>
              {matrix.labels.length === 0 ? <p className="muted">{t('dash.noData')}</p> : (
                <div className="chart">
                  <Bar role="img" aria-label={t('dash.messagesAlt')}
                    data={{ labels: matrix.labels, datasets: matrix.datasets.map((d, i) => ({ ...d, label: lookup(`channel.${d.label}`) ?? d.label, backgroundColor: PALETTE[i % PALETTE.length] })) }}
                    options={{ ...axisOpts, scales: { x: { stacked: true }, y: { stacked: true } } }} />
                </div>
              )}
            </figure>
            <figure className="card">
              <figcaption>{t('dash.delivery', { delivered: num(percent(data.delivery.delivery_rate), 1), read: num(percent(data.delivery.read_rate), 1) })}</figcaption>
              {data.delivery.sent === 0 ? <p className="muted">{t('dash.noData')}</p> : (
                <div className="chart">
                  <Doughnut role="img" aria-label={t('dash.deliveryAlt', { sent: data.delivery.sent, delivered: data.delivery.delivered, read: data.delivery.read, failed: data.delivery.failed })}
                    options={{ responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' as const } } }}
                    data={{
                      labels: [t('dash.read'), t('dash.deliveredNotRead'), t('dash.pending'), t('dash.failed')],
                      datasets: [{
                        data: [data.delivery.read, Math.max(data.delivery.delivered - data.delivery.read, 0),
                          Math.max(data.delivery.sent - data.delivery.delivered - data.delivery.failed, 0), data.delivery.failed],
                        backgroundColor: [PALETTE[0], PALETTE[1], '#9aa5b1', PALETTE[4]],
                      }],
                    }} />
                </div>
              )}
            </figure>
            <figure className="card">
              <figcaption>{t('dash.costRevenue')}</figcaption>
              {data.cost.per_flow.length + data.revenue.length === 0 ? <p className="muted">{t('dash.noData')}</p> : (() => {
                const ids = [...new Set([...data.cost.per_flow.map((c) => c.flow_id), ...data.revenue.map((r) => r.flow_id)])]
                return (
                  <div className="chart">
                    <Bar role="img" aria-label={t('dash.costRevenueAlt')} options={axisOpts}
                      data={{
                        labels: ids.map(flowName),
                        datasets: [
                          { label: t('dash.cost', { currency }), data: ids.map((id) => data.cost.per_flow.find((c) => c.flow_id === id)?.amount ?? 0), backgroundColor: PALETTE[4] },
                          { label: t('dash.revenue'), data: ids.map((id) => data.revenue.filter((r) => r.flow_id === id).reduce((s, r) => s + r.amount, 0)), backgroundColor: PALETTE[0] },
                        ],
                      }} />
                  </div>
                )
              })()}
            </figure>
          </div>
          <h2>{t('dash.errors')}</h2>
          {data.errors.length === 0 ? <p className="muted" data-testid="dash-no-errors">{t('dash.noErrors')}</p> : (
            <table data-testid="dash-errors">
              <thead><tr><th scope="col">{t('dash.code')}</th><th scope="col">{t('dash.count')}</th>
                <th scope="col">{t('dash.reason')}</th><th scope="col">{t('dash.recommendation')}</th></tr></thead>
              <tbody>
                {data.errors.map((e) => (
                  <tr key={e.code}>
                    <td className="mono">{e.code}</td><td>{num(e.count)}</td><td>{e.reason}</td>
                    <td>{lookup(`dash.rec.${e.code}`) ?? e.recommendation}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  )
}

function Card({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="card stat">
      <span className="help">{label}</span>
      <strong>{value}</strong>
      {hint && <span className="help">{hint}</span>}
    </div>
  )
}

