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
