/** Workspace administration: users, API keys, channels and templates. */
import { api } from './client'

export interface User {
  id: number
  email: string
  name: string
  role: string
  disabled: boolean
  created_at: string
}
export const ROLES = ['owner', 'admin', 'editor', 'agent', 'viewer'] as const
export const listUsers = () => api<{ items: User[]; next_cursor: string | null }>('GET', '/users?limit=200')
export const createUser = (body: { email: string; role: string; name?: string; password?: string }) =>
  api<User>('POST', '/users', body)
export const updateUser = (id: number, body: { role?: string; name?: string; disabled?: boolean }) =>
  api<User>('PATCH', `/users/${id}`, body)

export interface ApiKey {
  id: number
  name: string
  prefix: string
  role: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}
export const listApiKeys = () => api<{ items: ApiKey[] }>('GET', '/apikeys')
export const createApiKey = (name: string, role: string) =>
  api<{ id: number; name: string; key: string }>('POST', '/apikeys', { name, role })
export const revokeApiKey = (id: number) => api<unknown>('DELETE', `/apikeys/${id}`)

export interface Channel {
  id: number
  kind: string
  name: string
  identifier: string | null
  config: Record<string, unknown>
  secrets_set: string[]
  status: string
  status_reason: string
  webhook_path: string | null
}
export const listChannels = () => api<{ items: Channel[]; kinds: string[] }>('GET', '/channels')
export const createChannel = (body: { kind: string; name: string; config: Record<string, unknown>; secrets: Record<string, unknown> }) =>
  api<Channel>('POST', '/channels', body)
export const deleteChannel = (id: number) => api<unknown>('DELETE', `/channels/${id}`)
export const testChannel = (id: number, to: string, text: string) =>
  api<{ status: string; provider_id: string | null; error_code: string | null; error_reason: string | null }>(
    'POST', `/channels/${id}/test`, { to, text })

export interface Template {
  id: number
  name: string
  language: string
  category: string
  status: string
  [key: string]: unknown
}
export const listTemplates = (channelId: number) =>
  api<{ items: Template[] } | Template[]>('GET', `/channels/${channelId}/templates`)
export const syncTemplates = (channelId: number) => api<unknown>('POST', `/channels/${channelId}/templates/sync`)

/** The fields each channel kind asks for: config (stored) and secrets (write-only). */
export interface KindField {
  name: string
  secret?: boolean
  type?: 'text' | 'number' | 'password' | 'email' | 'url'
  optional?: boolean
}
export const CHANNEL_FORMS: Record<string, KindField[]> = {
  whatsapp: [
    { name: 'phone_number_id' }, { name: 'waba_id' },
    { name: 'access_token', secret: true }, { name: 'app_secret', secret: true },
    { name: 'verify_token', secret: true },
  ],
  email: [
    { name: 'host' }, { name: 'port', type: 'number' }, { name: 'from_address', type: 'email' },
    { name: 'username', optional: true }, { name: 'password', secret: true, optional: true },
  ],
  sms_twilio: [
    { name: 'account_sid' }, { name: 'from_number' }, { name: 'auth_token', secret: true },
  ],
  slack: [{ name: 'webhook_url', secret: true, type: 'url' }],
}

/** Split a channel form's values into the create body (empty optional values left out). */
export function channelBody(kind: string, name: string, values: Record<string, string>) {
  const config: Record<string, unknown> = {}
  const secrets: Record<string, unknown> = {}
  for (const f of CHANNEL_FORMS[kind] ?? []) {
    const raw = (values[f.name] ?? '').trim()
    if (!raw) continue
    const value = f.type === 'number' ? Number(raw) : raw
    if (f.secret) secrets[f.name] = value
    else config[f.name] = value
  }
  return { kind, name: name.trim(), config, secrets }
}
