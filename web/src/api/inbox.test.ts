import { describe, expect, it } from 'vitest'
import { ApiError } from './client'
import {
  contactLabel, conversationsPath, dashboardPath, duration, funnelSeries, isMissingRoute, messagesMatrix, percent,
  replyMode, workOrder,
} from './inbox'
import type { Conversation } from './inbox'

const conv = (over: Partial<Conversation>): Conversation => ({
  id: 1, contact: { id: 7, name: 'Ana', phone: '+549', email: null }, channel_id: 1, status: 'open',
  assignee_id: null, team_id: null, priority: 'normal', summary: '', note: '', context: {}, ticket_id: null,
  run_id: null, opened_at: '2026-03-01T10:00:00Z', first_response_at: null, closed_at: null, resolution: null,
  last_message_at: null, window_open: true, ...over,
})

describe('inbox mapping', () => {
  it('builds the list query of the contract', () => {
    expect(conversationsPath({ view: 'mine', status: 'open' })).toBe('/inbox/conversations?view=mine&status=open')
    expect(conversationsPath({ view: 'unassigned', status: 'closed', q: ' ana ', cursor: 'c1' }))
      .toBe('/inbox/conversations?view=unassigned&status=closed&q=ana&cursor=c1')
  })
  it('names the contact and picks the reply mode from the 24-hour window', () => {
    expect(contactLabel({ id: 3, name: '  ', phone: null, email: 'a@b.c' })).toBe('a@b.c')
    expect(contactLabel({ id: 3, name: null, phone: null, email: null })).toBe('#3')
    expect(replyMode(conv({}))).toBe('text')
    expect(replyMode(conv({ window_open: false }))).toBe('template')
    expect(replyMode(conv({ status: 'closed' }))).toBe('closed')
  })
  it('orders urgent first, then the longest waiting', () => {
    const list = [
      conv({ id: 1, priority: 'normal', last_message_at: '2026-03-01T09:00:00Z' }),
      conv({ id: 2, priority: 'urgent', last_message_at: '2026-03-01T11:00:00Z' }),
      conv({ id: 3, priority: 'normal', last_message_at: '2026-03-01T08:00:00Z' }),
    ]
    expect(workOrder(list).map((c) => c.id)).toEqual([2, 3, 1])
  })
  it('tells a missing route (404 without the API error shape) from a missing conversation', () => {
    expect(isMissingRoute(new ApiError(404, { code: 'http_404', message: '404 Not Found' }))).toBe(true)
    expect(isMissingRoute(new ApiError(404, { code: 'not_found', message: 'Not Found' }))).toBe(true)
    expect(isMissingRoute(new ApiError(404, { code: 'not_found', message: 'conversation 9 not found' }))).toBe(false)
    expect(isMissingRoute(new ApiError(500, { code: 'http_500', message: 'boom' }))).toBe(false)
  })
})

describe('dashboard mapping', () => {
  const funnel = [
    { flow_id: 4, nodes: [{ node_id: 'a', label: 'Saludo', entered: 200 }, { node_id: 'b', label: '', entered: 50 }] },
    { flow_id: 5, nodes: [] },
  ]
  it('builds the query for a date range and flow', () => {
    expect(dashboardPath({ from: '2026-03-01', to: '2026-03-31', flowId: 4 }))
      .toBe('/dashboard?from=2026-03-01T00%3A00%3A00Z&to=2026-03-31T23%3A59%3A59Z&flow_id=4')
  })
  it('leaves the range to the server when no dates are given', () => {
    expect(dashboardPath({})).toBe('/dashboard')
    expect(dashboardPath({ flowId: 4 })).toBe('/dashboard?flow_id=4')
  })
  it('turns a flow funnel into labels, counts and shares of the first step', () => {
    expect(funnelSeries(funnel, 4)).toEqual({ flowId: 4, labels: ['Saludo', 'b'], counts: [200, 50], shares: [100, 25] })
    expect(funnelSeries(funnel, null).flowId).toBe(4)
    expect(funnelSeries(funnel, 9).labels).toEqual([])
    expect(funnelSeries(funnel, 5).shares).toEqual([])
  })
  it('stacks messages per flow by channel', () => {
    const m = messagesMatrix([
      { flow_id: 4, channel: 'whatsapp', count: 10 }, { flow_id: 4, channel: 'email', count: 2 },
      { flow_id: null, channel: 'whatsapp', count: 3 },
    ], (id) => (id ? `F${id}` : 'none'))
    expect(m.labels).toEqual(['F4', 'none'])
    expect(m.datasets).toEqual([{ label: 'email', data: [2, 0] }, { label: 'whatsapp', data: [10, 3] }])
  })
  it('formats rates and durations', () => {
    expect(percent(0.8734)).toBe(87.3)
    expect(percent(null)).toBeNull()
    expect(duration(42)).toBe('42 s')
    expect(duration(3900)).toBe('1 h 5 min')
    expect(duration(null)).toBe('—')
  })
})
