import { useEffect, useState } from 'react'
import { effectLabel, listDeadLetters, retryDeadLetter } from '../api/runs'
import type { DeadLetter } from '../api/runs'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import { href } from '../router'
import { useDate } from './Runs'

/** Failed deliveries (the outbox's dead letters): what Cauce gave up sending, why, and a way
 * to queue each one again. */
export function DeadLetters() {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const date = useDate()
  const [items, setItems] = useState<DeadLetter[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loadingMore, setLoadingMore] = useState(false)
  const [retrying, setRetrying] = useState<ReadonlySet<number>>(new Set())
  const [rowErrors, setRowErrors] = useState<Record<number, string>>({})
  const [notice, setNotice] = useState<string | null>(null)

  const load = async (more: boolean) => {
    setLoadingMore(more)
    try {
      const page = await listDeadLetters(more ? cursor : null)
      setItems((current) => (more && current ? [...current, ...page.items] : page.items))
      setCursor(page.next_cursor)
      setError(null)
    } catch (err) {
      setError(t('dead.loadFailed', { message: errorText(err) }))
    } finally {
      setLoadingMore(false)
    }
  }
  useEffect(() => {
    void load(false)
  }, []) // eslint-disable-line

  const retry = async (item: DeadLetter) => {
    setRetrying((current) => new Set(current).add(item.id))
    setRowErrors(({ [item.id]: _, ...rest }) => rest)
    setNotice(null)
    try {
      await retryDeadLetter(item.id)
      setItems((current) => current?.filter((i) => i.id !== item.id) ?? null)
      setNotice(t('dead.retried', { id: item.id }))
    } catch (err) {
      setRowErrors((current) => ({ ...current, [item.id]: t('dead.retryFailed', { message: errorText(err) }) }))
    } finally {
      setRetrying((current) => {
        const next = new Set(current)
        next.delete(item.id)
        return next
      })
    }
  }

  return (
    <section aria-labelledby="dead-title">
      <h1 id="dead-title">{t('dead.title')}</h1>
      <div className="toolbar">
        <p className="help grow">{t('dead.help')}</p>
        <button type="button" onClick={() => { setNotice(null); setRowErrors({}); void load(false) }}>{t('dead.refresh')}</button>
      </div>
      <p role="status" className={notice ? 'notice' : 'sr-only'} data-testid="dead-notice">{notice ?? ''}</p>
      {error && <p role="alert" className="error">{error}</p>}
      {items === null && !error && <p aria-busy="true">{t('app.loading')}</p>}
      {items?.length === 0 && <p className="muted" data-testid="no-dead-letters">{t('dead.empty')}</p>}
      {items && items.length > 0 && (
        <table className="dead-letters" data-testid="dead-letters">
          <thead>
            <tr>
              <th scope="col">{t('dead.when')}</th>
              <th scope="col">{t('dead.what')}</th>
              <th scope="col">{t('runs.contact')}</th>
              <th scope="col">{t('dead.run')}</th>
              <th scope="col">{t('dead.attempts')}</th>
              <th scope="col">{t('dead.reason')}</th>
              <th scope="col"><span className="sr-only">{t('dead.actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => {
              const busy = retrying.has(item.id)
              const hint = item.code ? lookup(`dead.code.${item.code}`) : null
              return (
                <tr key={item.id} data-testid={`dead-letter-${item.id}`}>
                  <td>
                    <time dateTime={item.updated_at}>{date(item.updated_at)}</time>
                  </td>
                  <td>{effectLabel(item, lookup)}</td>
                  <td>
                    <a href={href({ name: 'runs', contactId: item.contact_id })}
                      aria-label={t('dead.contactRuns', { id: item.contact_id })}>#{item.contact_id}</a>
                  </td>
                  <td>
                    {item.run_id
                      ? <a href={href({ name: 'run', id: item.run_id })}>{t('dead.viewRun')}</a>
                      : <span className="muted">{t('dead.noRun')}</span>}
                  </td>
                  <td>{item.attempts}</td>
                  <td className="dead-reason">
                    {hint && <p className="dead-hint">{hint}</p>}
                    <p data-testid="dead-reason">{item.reason ?? t('dead.noReason')}</p>
                    {item.code && <p className="muted">{t('dead.code')} <code className="mono">{item.code}</code></p>}
                    <details>
                      <summary>{t('dead.payload')}</summary>
                      <p className="muted">{t('dead.key')} <code className="mono">{item.key}</code></p>
                      <pre>{JSON.stringify(item.payload, null, 2)}</pre>
                    </details>
                    {rowErrors[item.id] && <p role="alert" className="error">{rowErrors[item.id]}</p>}
                  </td>
                  <td>
                    <button type="button" onClick={() => void retry(item)} disabled={busy} aria-busy={busy}
                      aria-label={t(busy ? 'dead.retryingOne' : 'dead.retryOne', { id: item.id })}>
                      {busy ? t('dead.retrying') : t('dead.retry')}
                    </button>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => void load(true)} disabled={loadingMore}>
          {loadingMore ? t('app.loading') : t('runs.more')}
        </button>
      )}
    </section>
  )
}
