/** The agent inbox and the dashboard (routes: docs/crm.md "Inbox API", docs/api.md
 * "Dashboard"). Pure mapping helpers are exported for the unit tests. */
import { ApiError, api } from './client'

export interface Conversation {
  id: number
  contact: { id: number; name: string | null; phone: string | null; email: string | null }
  channel_id: number | null
  status: 'open' | 'closed'
  assignee_id: number | null
  team_id: number | null
  priority: 'low' | 'normal' | 'high' | 'urgent'
  summary: string
  note: string
  context: Record<string, unknown>
  ticket_id: number | null
  run_id: string | null
  opened_at: string
  first_response_at: string | null
  closed_at: string | null
  resolution: string | null
  last_message_at: string | null
  window_open: boolean
}

export interface TranscriptItem {
  kind: 'message' | 'note' | 'event'
  direction: 'in' | 'out' | null
  text: string
  author_id: number | null
  at: string
  status: string | null
  /** An event as data (`{code, user?, team?, ...}`), said in the UI's language. */
  parts?: EventPart[] | null
}

export interface EventPart {
  code: string
  [param: string]: string | number | null
}

export interface Team {
  id: number
  name: string
  assignment: string
  member_ids: number[]
}

export type InboxView = 'mine' | 'team' | 'unassigned' | 'all'

interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export function conversationsPath(f: { view: InboxView; status: 'open' | 'closed'; q?: string; cursor?: string | null }): string {
  const p = new URLSearchParams({ view: f.view, status: f.status })
  if (f.q?.trim()) p.set('q', f.q.trim())
  if (f.cursor) p.set('cursor', f.cursor)
  return `/inbox/conversations?${p.toString()}`
}

export const listConversations = (f: Parameters<typeof conversationsPath>[0]) =>
  api<Page<Conversation>>('GET', conversationsPath(f))
export const getConversation = (id: number) => api<Conversation>('GET', `/inbox/conversations/${id}`)
export const getTranscript = (id: number) =>
  api<Page<TranscriptItem>>('GET', `/inbox/conversations/${id}/transcript?limit=200`)
export const replyText = (id: number, text: string) =>
  api<unknown>('POST', `/inbox/conversations/${id}/reply`, { text })
export const replyTemplate = (id: number, name: string, language: string, variables: Record<string, string>) =>
  api<unknown>('POST', `/inbox/conversations/${id}/reply`, { template: { name, language, variables } })
export const addNote = (id: number, text: string) => api<unknown>('POST', `/inbox/conversations/${id}/notes`, { text })
export const assign = (id: number, assigneeId: number | null) =>
  api<Conversation>('POST', `/inbox/conversations/${id}/assign`, { assignee_id: assigneeId })
export const transfer = (id: number, to: { assignee_id: number } | { team_id: number }) =>
  api<Conversation>('POST', `/inbox/conversations/${id}/transfer`, to)
export const closeConversation = (id: number, resolution: string, note: string) =>
  api<Conversation>('POST', `/inbox/conversations/${id}/close`, { resolution, note })
export const listTeams = () => api<Page<Team>>('GET', '/teams?limit=200')

/** True when the server answered that the route does not exist (the area is not installed). */
export function isMissingRoute(err: unknown): boolean {
  // The server answers an unknown route with the framework's bare "Not Found" (in the one
  // error shape); a missing record names what was not found.
  return err instanceof ApiError && err.status === 404 && (err.code === 'http_404' || err.message === 'Not Found')
}

/** The name shown for a conversation's contact. */
export function contactLabel(c: Conversation['contact']): string {
  return c.name?.trim() || c.phone || c.email || `#${c.id}`
}

/** A free-form reply is possible only inside the 24-hour window; outside it a template. */
export function replyMode(c: Pick<Conversation, 'window_open' | 'status'>): 'text' | 'template' | 'closed' {
  if (c.status === 'closed') return 'closed'
  return c.window_open ? 'text' : 'template'
}

/** Conversations ordered as agents work them: most urgent first, then oldest activity. */
const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 } as const
export function workOrder(list: Conversation[]): Conversation[] {
  return [...list].sort((a, b) =>
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]
    || (a.last_message_at ?? a.opened_at).localeCompare(b.last_message_at ?? b.opened_at)
    || a.id - b.id)
}

// ---- dashboard -----------------------------------------------------------------------------

export interface Dashboard {
  /** The range the figures cover: the one asked for, or the server's default (the 30 days
   * before the server's now, which is the virtual clock's time in a simulation). */
  range: { from: string; to: string; flow_id: number | null }
  cards: { conversion_rate: number | null; conversions: number; hours_saved_month: number | null; nps: number | null; csat: number | null }
  funnel: { flow_id: number; nodes: { node_id: string; label: string; entered: number }[] }[]
  handling_time: { avg_first_response_s: number | null; avg_resolution_s: number | null; series: { date: string; avg_first_response_s?: number | null; avg_resolution_s?: number | null }[] }
  messages: { flow_id: number | null; channel: string; count: number }[]
  delivery: { sent: number; delivered: number; read: number; failed: number; delivery_rate: number | null; read_rate: number | null }
  cost: { per_conversation: number | null; per_flow: { flow_id: number; amount: number }[]; currency: string }
  revenue: { flow_id: number; amount: number; currency: string }[]
  errors: { code: string; count: number; reason: string; recommendation: string }[]
}

/** The dashboard query; without dates the server picks its default range. */
export function dashboardPath(f: { from?: string; to?: string; flowId?: number | null }): string {
  const p = new URLSearchParams()
  if (f.from) p.set('from', `${f.from}T00:00:00Z`)
  if (f.to) p.set('to', `${f.to}T23:59:59Z`)
  if (f.flowId) p.set('flow_id', String(f.flowId))
  const query = p.toString()
  return query ? `/dashboard?${query}` : '/dashboard'
}
export const getDashboard = (f: Parameters<typeof dashboardPath>[0]) => api<Dashboard>('GET', dashboardPath(f))

/** Funnel of one flow: labels and counts in node order, with the share of the first step. */
export function funnelSeries(funnel: Dashboard['funnel'], flowId: number | null) {
  const flow = flowId ? funnel.find((f) => f.flow_id === flowId) : funnel[0]
  if (!flow) return { flowId: null, labels: [] as string[], counts: [] as number[], shares: [] as number[] }
  const first = flow.nodes[0]?.entered || 0
  return {
    flowId: flow.flow_id,
    labels: flow.nodes.map((n) => n.label || n.node_id),
    counts: flow.nodes.map((n) => n.entered),
    shares: flow.nodes.map((n) => (first ? Math.round((n.entered / first) * 1000) / 10 : 0)),
  }
}

/** Messages per flow (rows) and channel (stacked datasets). */
export function messagesMatrix(rows: Dashboard['messages'], flowName: (id: number | null) => string) {
  const flows = [...new Set(rows.map((r) => r.flow_id))]
  const channels = [...new Set(rows.map((r) => r.channel))].sort()
  return {
    labels: flows.map(flowName),
    datasets: channels.map((channel) => ({
      label: channel,
      data: flows.map((f) => rows.filter((r) => r.flow_id === f && r.channel === channel).reduce((s, r) => s + r.count, 0)),
    })),
  }
}

/** A rate (0–1) as a percentage with one decimal, or null when unknown. */
export function percent(rate: number | null | undefined): number | null {
  return rate === null || rate === undefined || Number.isNaN(rate) ? null : Math.round(rate * 1000) / 10
}

/** Seconds as "1 h 5 min" / "42 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  const h = Math.floor(s / 3600)
  const m = Math.round((s % 3600) / 60)
  return h ? `${h} h ${m} min` : `${m} min`
}
