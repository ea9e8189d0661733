/** The contacts API (`/api/v1/contacts`, see docs/crm.md). */
import { api } from './client'

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

export function listContacts(filter: { q?: string; tag?: string; cursor?: string | null }) {
  const params = new URLSearchParams()
  if (filter.q) params.set('q', filter.q)
  if (filter.tag) params.set('tag', filter.tag)
  if (filter.cursor) params.set('cursor', filter.cursor)
  const q = params.toString()
  return api<{ items: Contact[]; next_cursor: string | null }>('GET', `/contacts${q ? `?${q}` : ''}`)
}

export const createContact = (body: ContactInput) => api<Contact>('POST', '/contacts', body)
