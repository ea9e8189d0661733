/** The simulator, the virtual clock and the triggers it can fire (see docs/web.md). */
import { api } from './client'
import type { Contact } from './contacts'

export interface SimMessage {
  id: number
  direction: 'in' | 'out' | string
  channel: string
  kind: string
  text: string
  content: Record<string, unknown>
  key: string | null
  status: string
  created_at: string
  error_reason: string | null
  run_id: string | null
  node_id: string | null
}

export interface Transcript {
  contact_id: number
  window_open: boolean
  window_closes_at: string | null
  items: SimMessage[]
}

export interface SimSend {
  contact_id?: number
  phone?: string
  name?: string
  text?: string
  button_id?: string
  button_title?: string
  reply_to?: string
  referral?: Record<string, unknown>
  client_id?: string
}

export interface Clock {
  mode: string
  now: string
  timers_fired: number
}

export const simSend = (body: SimSend) =>
  api<{ contact_id: number; message: SimMessage }>('POST', '/simulator/messages', body)
export const simTranscript = (contactId: number) =>
  api<Transcript>('GET', `/simulator/contacts/${contactId}/messages?limit=200`)
export const getClock = () => api<Clock>('GET', '/sim/clock')
export const advanceClock = (seconds: number) => api<Clock>('POST', '/sim/clock/advance', { seconds })
export const updateContact = (id: number, body: Record<string, unknown>) =>
  api<Contact>('PATCH', `/contacts/${id}`, body)
export const getContact = (id: number) => api<Contact>('GET', `/contacts/${id}`)

export interface EventBody {
  name: string
  event_id: string
  contact: { phone?: string; email?: string; external_id?: string }
  data: Record<string, unknown>
}
export const submitEvent = (body: EventBody) =>
  api<{ accepted: boolean; duplicate: boolean; contact_id: number }>('POST', '/events', body)

/** What a message offers to tap: reply buttons, list rows, or a template's quick replies. */
export interface Choice {
  id: string
  title: string
  description?: string
}

export function choicesOf(message: Pick<SimMessage, 'kind' | 'content'>): Choice[] {
  const content = message.content ?? {}
  const out: Choice[] = []
  const buttons = Array.isArray(content.buttons) ? (content.buttons as Record<string, unknown>[]) : []
  for (const b of buttons) {
    const id = String(b.id ?? b.payload ?? '')
    if (!id) continue
    out.push({ id, title: String(b.title ?? b.text ?? id) })
  }
  const sections = Array.isArray(content.sections) ? (content.sections as Record<string, unknown>[]) : []
  for (const s of sections) {
    const rows = Array.isArray(s.rows) ? (s.rows as Record<string, unknown>[]) : []
    for (const r of rows) {
      const id = String(r.id ?? '')
      if (!id) continue
      out.push({ id, title: String(r.title ?? id), description: r.description ? String(r.description) : undefined })
    }
  }
  return out
}

/** The text shown for a message in the chat (body of interactive messages, template name). */
export function messageText(message: Pick<SimMessage, 'kind' | 'content' | 'text'>): string {
  if (message.text) return message.text
  const c = message.content ?? {}
  for (const key of ['body', 'text', 'subject']) if (typeof c[key] === 'string' && c[key]) return c[key] as string
  if (typeof c.name === 'string') return `[${c.name}]`
  return ''
}

/** Seconds from `now` until `due` (an ISO time), at least 1, or null when there is no timer. */
export function secondsUntil(due: string | null | undefined, now: string): number | null {
  if (!due) return null
  const diff = Math.ceil((Date.parse(due) - Date.parse(now)) / 1000)
  return Number.isFinite(diff) ? Math.max(diff, 1) : null
}

export interface ContactFieldDef {
  id: number
  key: string
  type: string
  label: string
  choices: string[] | null
}
export const listContactFields = () =>
  api<{ items: ContactFieldDef[]; next_cursor: string | null }>('GET', '/contact-fields?limit=200')

/** A value typed into the simulator, converted to the custom field's type. */
export function fieldValue(type: string, raw: string): unknown {
  if (type === 'number') return raw.trim() === '' ? null : Number(raw)
  if (type === 'boolean') return ['true', '1', 'yes', 'si', 'sí'].includes(raw.trim().toLowerCase())
  return raw
}
