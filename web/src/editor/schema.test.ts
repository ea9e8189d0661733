// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { classify, durationText, emptyValue } from './schema'
import type { JsonSchema } from './schema'

const root: JsonSchema = {
  $defs: {
    Duration: {
      title: 'Duration',
      type: 'object',
      properties: { days: { type: 'integer' }, hours: { type: 'integer' }, minutes: { type: 'integer' }, seconds: { type: 'integer' } },
    },
    Button: {
      type: 'object',
      properties: { id: { type: 'string' }, title: { type: 'string' } },
      required: ['id', 'title'],
    },
  },
  type: 'object',
  properties: {
    body: { type: 'string' },
    timeout: { anyOf: [{ $ref: '#/$defs/Duration' }, { type: 'null' }], default: null },
    buttons: { type: 'array', items: { $ref: '#/$defs/Button' } },
    mode: { enum: ['a', 'b'], type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    count: { type: 'integer' },
  },
  required: ['body', 'buttons'],
}

describe('schema forms', () => {
  it('picks an editor per field', () => {
    const p = root.properties!
    expect(classify(p.body, root, 'body').field).toEqual({ kind: 'string', multiline: true })
    expect(classify(p.timeout, root)).toEqual({ field: { kind: 'duration' }, nullable: true })
    expect(classify(p.buttons, root).field.kind).toBe('array')
    expect(classify(p.mode, root).field).toEqual({ kind: 'enum', options: ['a', 'b'] })
    expect(classify(p.headers, root).field.kind).toBe('map')
    expect(classify(p.count, root).field).toEqual({ kind: 'number', integer: true })
  })

  it('starts new values with the required keys only', () => {
    expect(emptyValue(root, root)).toEqual({ body: '', buttons: [] })
    expect(emptyValue({ $ref: '#/$defs/Button' }, root)).toEqual({ id: '', title: '' })
    expect(emptyValue(root.properties!.timeout, root)).toBeNull()
  })

  it('writes durations as short text', () => {
    expect(durationText('7d')).toBe('7d')
    expect(durationText({ days: 7 })).toBe('7d')
    expect(durationText(5400)).toBe('1h30m')
    expect(durationText({ hours: 0 })).toBe('0s')
    expect(durationText(null)).toBe('')
  })
})
