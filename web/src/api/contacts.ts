/** The contacts API (`/api/v1/contacts`, `/contacts/imports`, `/segments`; see docs/crm.md).
 * Custom field definitions: `listContactFields` in `simulator.ts`. */
import { api, apiForm } from './client'

export interface Contact {
  id: number
  phone: string | null
  email: string | null
  external_id: string | null
  name: string
  first_name: string
  last_name: string
  language: string | null
  tags: string[]
  fields: Record<string, unknown>
  lead_score: number
  opted_out_marketing: boolean
  last_inbound_at: string | null
  created_at: string
}

export interface ContactInput {
  name?: string
  phone?: string
  email?: string
  tags?: string[]
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export function listContacts(filter: { q?: string; tag?: string; segmentId?: number | null; cursor?: string | null }) {
  const params = new URLSearchParams()
  if (filter.q) params.set('q', filter.q)
  if (filter.tag) params.set('tag', filter.tag)
  if (filter.segmentId) params.set('segment_id', String(filter.segmentId))
  if (filter.cursor) params.set('cursor', filter.cursor)
  const q = params.toString()
  return api<Page<Contact>>('GET', `/contacts${q ? `?${q}` : ''}`)
}

export const createContact = (body: ContactInput) => api<Contact>('POST', '/contacts', body)

/** One bad row of an import: its spreadsheet row number (the header is row 1) and why. */
export interface ImportError {
  row: number
  reason: string
  field: string | null
}

/** A CSV import job (`/contacts/imports`), polled for its progress. */
export interface ImportJob {
  id: number
  filename: string
  mapping: Record<string, string>
  status: 'pending' | 'running' | 'completed' | 'failed'
  total_rows: number
  processed_rows: number
  created_count: number
  updated_count: number
  error_count: number
  errors: ImportError[]
  message: string
  created_at: string
  finished_at: string | null
}

export function startImport(file: File, mapping: Record<string, string>) {
  const form = new FormData()
  form.append('file', file)
  form.append('mapping', JSON.stringify(mapping))
  return apiForm<ImportJob>('/contacts/imports', form)
}

export const getImport = (id: number) => api<ImportJob>('GET', `/contacts/imports/${id}`)

/** Imports still running (started earlier, in this tab or another), oldest first. */
export const listActiveImports = () =>
  api<{ items: ImportJob[]; next_cursor: string | null }>('GET', '/contacts/imports?active=true&limit=100')

/** A segment filter: `{"match", "conditions": [{"field", "op", "value"}]}` (services/segments.py). */
export interface SegmentCondition {
  field: string
  op: string
  value?: unknown
}

export interface SegmentFilter {
  match: 'all' | 'any'
  conditions: SegmentCondition[]
}

export interface Segment {
  id: number
  name: string
  description: string
  filter: SegmentFilter
}

export const listSegments = () => api<Page<Segment>>('GET', '/segments?limit=500')
export const createSegment = (name: string, filter: SegmentFilter) =>
  api<Segment>('POST', '/segments', { name, filter })
export const previewSegment = (filter: SegmentFilter) =>
  api<{ count: number }>('POST', '/segments/preview', filter)
export const countSegment = (id: number) => api<{ count: number }>('GET', `/segments/${id}/count`)
