/** The runs API (`/api/v1/runs`): a run's history, step by step. */
import { api } from './client'

export interface Run {
  id: string
  flow_id: number
  flow_version: number
  contact_id: number
  status: string
  node_id: string | null
  waiting_for: string | null
  due_at: string | null
  end_reason: string | null
  started_at: string
  updated_at: string
}

export interface Step {
  id: number
  at: string
  input_kind: string
  input: Record<string, unknown>
  node_id: string | null
  status: string
  output: unknown[]
  error: string | null
  duration_us: number
}

export interface RunDetail extends Run {
  state: Record<string, unknown>
  steps: Step[]
}

export interface RunFilter {
  flowId?: number
  contactId?: number
  status?: string
  cursor?: string | null
}

export function listRuns(filter: RunFilter) {
  const params = new URLSearchParams()
  if (filter.flowId) params.set('flow_id', String(filter.flowId))
  if (filter.contactId) params.set('contact_id', String(filter.contactId))
  if (filter.status) params.set('status', filter.status)
  if (filter.cursor) params.set('cursor', filter.cursor)
  const q = params.toString()
  return api<{ items: Run[]; next_cursor: string | null }>('GET', `/runs${q ? `?${q}` : ''}`)
}

export const getRun = (id: string) => api<RunDetail>('GET', `/runs/${encodeURIComponent(id)}`)

/** An outbox row that failed for good (or ran out of retries): `GET /dead-letters`. */
export interface DeadLetter {
  id: number
  key: string
  /** The engine event behind it: `message_requested`, `http_requested`, `webhook_event`… */
  kind: string
  /** `whatsapp`, `sms`, `email`, `simulator`; a notification's target; empty for HTTP steps. */
  channel: string
  contact_id: number
  run_id: string | null
  attempts: number
  status: string
  reason: string | null
  code: string | null
  payload: Record<string, unknown>
  created_at: string
  updated_at: string
}

export function deadLettersPath(cursor?: string | null): string {
  return cursor ? `/dead-letters?cursor=${encodeURIComponent(cursor)}` : '/dead-letters'
}

/** One page of dead letters, oldest first (the API's keyset order). */
export const listDeadLetters = (cursor?: string | null) =>
  api<{ items: DeadLetter[]; next_cursor: string | null }>('GET', deadLettersPath(cursor))

/** Queue a dead letter again, attempts from zero; the answer is the row, now `pending`. */
export const retryDeadLetter = (id: number) => api<DeadLetter>('POST', `/dead-letters/${id}/retry`)

/** Kinds whose channel says something the kind does not (a message: by WhatsApp, SMS…). */
const CHANNELLED = new Set(['message_requested', 'notification_requested'])

/** What a dead letter was, for people: "Message · WhatsApp", "HTTP request". `lookup` reads the
 * dictionary (`dead.kind.*`, `dead.channel.*`, then the settings' `channel.*`); unknown kinds
 * and channels show as the API names them. */
export function effectLabel(item: Pick<DeadLetter, 'kind' | 'channel'>,
  lookup: (key: string) => string | null): string {
  const kind = lookup(`dead.kind.${item.kind}`) ?? item.kind
  const known = lookup(`dead.kind.${item.kind}`) !== null
  if (!item.channel || (known && !CHANNELLED.has(item.kind))) return kind
  const channel = lookup(`dead.channel.${item.channel}`) ?? lookup(`channel.${item.channel}`) ?? item.channel
  return `${kind} · ${channel}`
}
