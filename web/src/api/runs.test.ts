import { afterEach, describe, expect, it, vi } from 'vitest'
import en from '../i18n/en.json'
import es from '../i18n/es.json'
import { href, parseRoute } from '../router'
import { ApiError } from './client'
import { deadLettersPath, effectLabel, listDeadLetters, retryDeadLetter } from './runs'

const lookupIn = (dict: Record<string, string>) => (key: string) => dict[key] ?? null

describe('dead letters API client', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('pages with the cursor of the previous answer', () => {
    expect(deadLettersPath()).toBe('/dead-letters')
    expect(deadLettersPath(null)).toBe('/dead-letters')
    expect(deadLettersPath('42')).toBe('/dead-letters?cursor=42')
  })

  it('lists and retries through the REST routes, and surfaces the API error message', async () => {
    const calls: [string, RequestInit][] = []
    const answers = [
      new Response(JSON.stringify({ items: [], next_cursor: '7' }), { status: 200 }),
      new Response(JSON.stringify({ id: 7, status: 'pending', attempts: 0 }), { status: 200 }),
      new Response(JSON.stringify({ error: { code: 'conflict', message: "outbox item 7 is 'done', not a dead letter" } }),
        { status: 409 }),
    ]
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      return answers.shift()
    })
    expect(await listDeadLetters('3')).toEqual({ items: [], next_cursor: '7' })
    expect(await retryDeadLetter(7)).toMatchObject({ status: 'pending', attempts: 0 })
    const failure = await retryDeadLetter(7).catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).status).toBe(409)
    expect((failure as ApiError).message).toBe("outbox item 7 is 'done', not a dead letter")
    expect(calls.map(([url, init]) => `${init.method} ${url}`)).toEqual([
      'GET /api/v1/dead-letters?cursor=3', 'POST /api/v1/dead-letters/7/retry', 'POST /api/v1/dead-letters/7/retry'])
  })
})

describe('dead letter labels', () => {
  it('names the kind and, for messages and notifications, the channel', () => {
    expect(effectLabel({ kind: 'message_requested', channel: 'whatsapp' }, lookupIn(es))).toBe('Mensaje · WhatsApp')
    expect(effectLabel({ kind: 'message_requested', channel: 'email' }, lookupIn(es))).toBe('Mensaje · Correo electrónico')
    expect(effectLabel({ kind: 'message_requested', channel: 'sms' }, lookupIn(en))).toBe('Message · SMS')
    expect(effectLabel({ kind: 'notification_requested', channel: 'slack' }, lookupIn(en))).toBe('Team notification · Slack')
    expect(effectLabel({ kind: 'http_requested', channel: '' }, lookupIn(es))).toBe('Petición HTTP')
    expect(effectLabel({ kind: 'webhook_event', channel: 'webhook' }, lookupIn(en))).toBe('Outgoing webhook')
  })

  it('falls back to the settings channel names, then to what the API says', () => {
    expect(effectLabel({ kind: 'message_requested', channel: 'sms_twilio' }, lookupIn(en))).toBe('Message · SMS (Twilio)')
    expect(effectLabel({ kind: 'message_requested', channel: 'telegram' }, lookupIn(en))).toBe('Message · telegram')
    expect(effectLabel({ kind: 'fax_requested', channel: 'fax' }, lookupIn(en))).toBe('fax_requested · fax')
    expect(effectLabel({ kind: 'fax_requested', channel: '' }, lookupIn(en))).toBe('fax_requested')
  })

  it('has a route of its own', () => {
    expect(parseRoute('#/dead-letters')).toEqual({ name: 'dead-letters' })
    expect(href({ name: 'dead-letters' })).toBe('#/dead-letters')
  })
})
