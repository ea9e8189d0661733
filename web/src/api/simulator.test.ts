import { describe, expect, it } from 'vitest'
import { choicesOf, fieldValue, messageText, secondsUntil } from './simulator'

describe('simulator mapping', () => {
  it('offers reply buttons, list rows and template quick replies', () => {
    expect(choicesOf({ kind: 'buttons', content: { body: 'x', buttons: [{ id: 'si', title: 'Sí' }, { id: 'no', title: 'No' }] } }))
      .toEqual([{ id: 'si', title: 'Sí' }, { id: 'no', title: 'No' }])
    expect(choicesOf({ kind: 'list', content: { body: 'x', sections: [{ title: 'A', rows: [{ id: 'r1', title: 'Uno', description: 'd' }] }] } }))
      .toEqual([{ id: 'r1', title: 'Uno', description: 'd' }])
    expect(choicesOf({ kind: 'template', content: { name: 't', buttons: [{ index: 0, payload: 'ok' }] } }))
      .toEqual([{ id: 'ok', title: 'ok' }])
    expect(choicesOf({ kind: 'text', content: { text: 'hola' } })).toEqual([])
  })

  it('shows the body of interactive messages and the name of templates', () => {
    expect(messageText({ kind: 'buttons', text: '', content: { body: '¿Seguimos?' } })).toBe('¿Seguimos?')
    expect(messageText({ kind: 'template', text: '', content: { name: 'promo' } })).toBe('[promo]')
    expect(messageText({ kind: 'text', text: 'hola', content: {} })).toBe('hola')
  })

  it('computes the jump to the next timer', () => {
    expect(secondsUntil('2026-03-09T12:00:00Z', '2026-03-02T12:00:00Z')).toBe(7 * 86400)
    expect(secondsUntil('2026-03-02T11:00:00Z', '2026-03-02T12:00:00Z')).toBe(1)
    expect(secondsUntil(null, '2026-03-02T12:00:00Z')).toBeNull()
  })

  it('converts a typed field value to the field type', () => {
    expect(fieldValue('number', '42')).toBe(42)
    expect(fieldValue('boolean', 'Sí')).toBe(true)
    expect(fieldValue('text', '42')).toBe('42')
  })
})
