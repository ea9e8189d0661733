import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DeadLetter } from '../api/runs'
import { I18nProvider } from '../i18n'
import { DeadLetters } from './DeadLetters'

const letter = (id: number, over: Partial<DeadLetter> = {}): DeadLetter => ({
  id, key: `run-${id}:send:message_requested`, kind: 'message_requested', channel: 'whatsapp', contact_id: 10 + id,
  run_id: `run-${id}`, attempts: 1, status: 'dead', code: 'window_closed',
  reason: 'window closed: the contact has never written to this number; only an approved template can be sent',
  payload: { kind: 'text', payload: { text: 'Tu pedido salió' } },
  created_at: '2026-03-02T12:00:00Z', updated_at: '2026-03-02T12:00:01Z', ...over,
})

type Answer = { status: number; body: unknown }

/** The screen against a scripted server: each request takes the next answer for its route. */
function serve(routes: Record<string, Answer[]>) {
  const seen: string[] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const route = `${init.method} ${url}`
    seen.push(route)
    const answer = routes[route]?.shift()
    if (!answer) throw new Error(`unexpected ${route}`)
    return new Response(JSON.stringify(answer.body), { status: answer.status })
  })
  return seen
}

function show() {
  render(<I18nProvider><DeadLetters /></I18nProvider>)
}

describe('failed deliveries screen', () => {
  beforeEach(() => localStorage.setItem('cauce.lang', 'en'))
  afterEach(() => {
    cleanup()
    vi.unstubAllGlobals()
  })

  it('shows each dead letter with its reason, links and payload, and loads more with the cursor', async () => {
    const seen = serve({
      'GET /api/v1/dead-letters': [{ status: 200, body: { items: [letter(1)], next_cursor: '1' } }],
      'GET /api/v1/dead-letters?cursor=1': [{ status: 200, body: {
        items: [letter(2, { kind: 'http_requested', channel: '', run_id: null, code: 'http_404', reason: '404 Not Found' })],
        next_cursor: null } }],
    })
    show()
    const row = await screen.findByTestId('dead-letter-1')
    expect(row.textContent).toContain('Message · WhatsApp')
    expect(row.textContent).toContain('only an approved template can be sent')
    expect(row.textContent).toContain('window_closed')
    expect(row.textContent).toContain('The 24-hour window is closed')
    expect(row.querySelector('details pre')?.textContent).toContain('Tu pedido salió')
    expect(screen.getByRole('link', { name: 'Runs of contact #11' }).getAttribute('href')).toBe('#/runs?contact=11')
    expect(screen.getByRole('link', { name: 'View run' }).getAttribute('href')).toBe('#/runs/run-1')
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }))
    const second = await screen.findByTestId('dead-letter-2')
    expect(second.textContent).toContain('HTTP request')
    expect(second.textContent).toContain('no run')
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull()
    expect(seen).toEqual(['GET /api/v1/dead-letters', 'GET /api/v1/dead-letters?cursor=1'])
  })

  it('removes a retried row, keeps the list with the API message when a retry is refused, and refreshes', async () => {
    let release: (value: Response) => void = () => {}
    const routes: Record<string, Answer[]> = {
      'GET /api/v1/dead-letters': [
        { status: 200, body: { items: [letter(1), letter(2)], next_cursor: null } },
        { status: 200, body: { items: [], next_cursor: null } },
      ],
      'POST /api/v1/dead-letters/2/retry': [{ status: 409, body: { error: {
        code: 'conflict', message: "outbox item 2 is 'done', not a dead letter; only dead letters can be retried" } } }],
    }
    const seen = serve(routes)
    const scripted = globalThis.fetch
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => url.endsWith('/1/retry')
      ? new Promise<Response>((resolve) => { release = resolve })
      : scripted(url, init))
    show()
    await screen.findByTestId('dead-letter-1')

    fireEvent.click(screen.getByRole('button', { name: 'Retry delivery #1' }))
    const busy = screen.getByRole('button', { name: 'Retrying delivery #1' }) as HTMLButtonElement
    expect(busy.disabled).toBe(true)
    expect(busy.textContent).toBe('Retrying…')
    await act(async () => release(new Response(JSON.stringify(letter(1, { status: 'pending', attempts: 0 })))))
    expect(screen.queryByTestId('dead-letter-1')).toBeNull()
    expect(screen.getByTestId('dead-notice').textContent).toBe('Delivery #1 is back in the queue: Cauce will send it right away.')

    fireEvent.click(screen.getByRole('button', { name: 'Retry delivery #2' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe("Could not retry: outbox item 2 is 'done', not a dead letter; only dead letters can be retried")
    expect(screen.getByTestId('dead-letter-2').contains(alert)).toBe(true)
    expect((screen.getByRole('button', { name: 'Retry delivery #2' }) as HTMLButtonElement).disabled).toBe(false)

    // Refresh reads the list again: the refused row is gone (it was not a dead letter any more).
    fireEvent.click(screen.getByRole('button', { name: 'Refresh' }))
    await screen.findByTestId('no-dead-letters')
    expect(screen.queryByRole('alert')).toBeNull()
    expect(seen).toEqual(['GET /api/v1/dead-letters', 'POST /api/v1/dead-letters/2/retry', 'GET /api/v1/dead-letters'])
  })

  it('says so when there is nothing to retry', async () => {
    serve({ 'GET /api/v1/dead-letters': [{ status: 200, body: { items: [], next_cursor: null } }] })
    show()
    expect((await screen.findByTestId('no-dead-letters')).textContent).toContain('No failed deliveries')
    expect(screen.queryByRole('table')).toBeNull()
  })
})
