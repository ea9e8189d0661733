import { describe, expect, it } from 'vitest'
import { changedParameters, fromFormValue, toFormValue } from './templates'
import type { TemplateParameter } from './templates'

function param(id: string, schema: TemplateParameter['schema'], def: unknown,
  defEn: unknown = def): TemplateParameter {
  const label = { es: id, en: id }
  return { id, kind: 'text', label, description: label, required: false, default: def,
    default_en: defEn, choices: null, schema }
}

const keywords = param('entry_keywords', { type: 'array' }, ['hola', 'info'], ['hi', 'info'])
const points = param('signal_points', { type: 'integer' }, 15)
const text = param('welcome_text', { type: 'string' }, 'Hola', 'Hi')
const language = param('language', { type: 'string' }, 'es')

describe('template parameter forms', () => {
  it('shows lists as one comma-separated line and reads them back', () => {
    expect(toFormValue(['a', 'b'])).toBe('a, b')
    expect(fromFormValue(keywords, ' precio ,  stock,, ')).toEqual(['precio', 'stock'])
  })

  it('reads integers as numbers and leaves a bad one for the server to name', () => {
    expect(fromFormValue(points, '20')).toBe(20)
    expect(fromFormValue(points, 'veinte')).toBe('veinte')
    expect(fromFormValue(points, '  ')).toBeNull()
  })

  it('sends only what differs from the default of the chosen language', () => {
    const params = [language, keywords, points, text]
    expect(changedParameters(params, {}, 'es')).toEqual({ language: 'es' })
    // English defaults are the starting point in English: unchanged means not sent.
    expect(changedParameters(params, { welcome_text: 'Hi', entry_keywords: 'hi, info' }, 'en'))
      .toEqual({ language: 'en' })
    expect(changedParameters(params, { signal_points: '30', welcome_text: 'Buenas' }, 'es'))
      .toEqual({ language: 'es', signal_points: 30, welcome_text: 'Buenas' })
  })
})
