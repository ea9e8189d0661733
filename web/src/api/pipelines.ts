/** Pipelines, opportunities and tickets (`/api/v1/pipelines`, `/opportunities`, `/tickets`). */
import { api } from './client'

export interface Stage {
  id: number
  name: string
  position: number
}

export interface Pipeline {
  id: number
  name: string
  stages: Stage[]
}

export interface Opportunity {
  id: number
  contact_id: number
  pipeline_id: number
  pipeline: string
  stage_id: number
  stage: string
  name: string
  status: string
  value: number
  currency: string
  owner_id: number | null
  tags: string[]
  stage_entered_at: string
  updated_at: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

export const listPipelines = () => api<Page<Pipeline>>('GET', '/pipelines?limit=200')
export const createPipeline = (name: string, stages: string[]) =>
  api<Pipeline>('POST', '/pipelines', { name, stages })

export function listOpportunities(filter: { pipelineId?: number; contactId?: number; status?: string; cursor?: string | null }) {
  return api<Page<Opportunity>>('GET', '/opportunities' + query({
    pipeline_id: filter.pipelineId, contact_id: filter.contactId, status: filter.status,
    cursor: filter.cursor, limit: 200,
  }))
}

export const moveOpportunity = (id: number, stageId: number) =>
  api<Opportunity>('PATCH', `/opportunities/${id}`, { stage: stageId })
export const createOpportunity = (body: { contact_id: number; pipeline: number; name: string; value?: number }) =>
  api<Opportunity>('POST', '/opportunities', body)

/** Opportunities grouped into the pipeline's stage columns, in stage order. */
export function kanbanColumns(pipeline: Pipeline, opportunities: Opportunity[]): { stage: Stage; cards: Opportunity[] }[] {
  const stages = [...pipeline.stages].sort((a, b) => a.position - b.position)
  return stages.map((stage) => ({
    stage,
    cards: opportunities
      .filter((o) => o.pipeline_id === pipeline.id && o.stage_id === stage.id)
      .sort((a, b) => a.stage_entered_at.localeCompare(b.stage_entered_at) || a.id - b.id),
  }))
}

export interface Ticket {
  id: number
  key: string | null
  contact_id: number | null
  subject: string
  description: string
  priority: 'low' | 'normal' | 'high' | 'urgent'
  status: 'open' | 'pending' | 'solved' | 'closed'
  assignee_id: number | null
  team: string | null
  transcript: Record<string, unknown>[]
  context: Record<string, unknown>
  source: string
  created_at: string
  updated_at: string
  closed_at: string | null
}

export function listTickets(filter: { status?: string; priority?: string; assigneeId?: number; cursor?: string | null }) {
  return api<Page<Ticket>>('GET', '/tickets' + query({
    status: filter.status, priority: filter.priority, assignee_id: filter.assigneeId, cursor: filter.cursor,
  }))
}
export const getTicket = (id: number) => api<Ticket>('GET', `/tickets/${id}`)
export const updateTicket = (id: number, body: Partial<Pick<Ticket, 'status' | 'priority' | 'assignee_id'>>) =>
  api<Ticket>('PATCH', `/tickets/${id}`, body)
export const createTicket = (body: { subject: string; description?: string; priority?: string; contact_id?: number }) =>
  api<Ticket>('POST', '/tickets', body)
