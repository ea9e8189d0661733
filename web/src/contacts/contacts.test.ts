// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { errorsCsv, guessMapping, mappingForApi, mappingProblems, normalizeHeader, percentDone } from './importMapping'
import { defaultValue, newRow, opsFor, segmentFields, toCondition, toFilter, valueInput } from './segmentRules'

describe('import column guess', () => {
  it('normalises accents, case and punctuation', () => {
    expect(normalizeHeader('Teléfono móvil')).toBe('telefonomovil')
    expect(normalizeHeader(' E-mail ')).toBe('email')
  })

  it('maps Spanish and English headers, custom fields by key or label, each attribute once', () => {
    const headers = ['Teléfono', 'Correo electrónico', 'Nombre', 'Apellidos', 'Idioma', 'Etiquetas', 'Plan de pago', 'ciudad', 'Celular', 'Notas']
    const fields = [{ key: 'plan', label: 'Plan de pago' }, { key: 'ciudad', label: '' }]
    expect(guessMapping(headers, fields)).toEqual({
      'Teléfono': 'phone',
      'Correo electrónico': 'email',
      Nombre: 'name',
      Apellidos: 'last_name',
      Idioma: 'language',
      Etiquetas: 'tags',
      'Plan de pago': 'fields.plan',
      ciudad: 'fields.ciudad',
    })
    expect(guessMapping(['Phone', 'Email', 'First name', 'Last name', 'Language', 'Tags', 'utm_source'], [])).toEqual({
      Phone: 'phone', Email: 'email', 'First name': 'first_name', 'Last name': 'last_name',
      Language: 'language', Tags: 'tags', utm_source: 'utm_source',
    })
  })

  it('a custom field named like a built-in attribute wins for its own header', () => {
    expect(guessMapping(['source'], [{ key: 'source', label: '' }])).toEqual({ source: 'fields.source' })
  })

  it('needs an identifier and refuses an attribute mapped twice', () => {
    expect(mappingProblems({ Nombre: 'name' })).toEqual([{ kind: 'no_identifier' }])
    expect(mappingProblems({ A: 'phone', B: 'phone', C: '' })).toEqual([{ kind: 'twice', target: 'phone' }])
    expect(mappingProblems({ A: 'email' })).toEqual([])
    expect(mappingForApi({ A: 'email', B: '' })).toEqual({ A: 'email' })
  })

  it('percent done and the bad-row report as CSV', () => {
    expect(percentDone(0, 0)).toBe(0)
    expect(percentDone(999, 1000)).toBe(99)
    expect(percentDone(1000, 1000)).toBe(100)
    expect(errorsCsv([{ row: 3, field: 'phone', reason: "phone: '12' is not a valid number" },
      { row: 9, field: null, reason: 'a, "quoted" reason' }])).toBe(
      'row,field,reason\r\n3,phone,phone: \'12\' is not a valid number\r\n9,,"a, ""quoted"" reason"\r\n')
  })
})

describe('segment rules', () => {
  const fields = segmentFields([
    { key: 'plan', label: 'Plan', type: 'choice', choices: ['free', 'pro'] },
    { key: 'age', label: '', type: 'number' },
  ])

  it('offers the operators the server accepts for each kind of field', () => {
    expect(opsFor('tags')).toEqual(['has', 'has_not', 'has_any', 'has_all'])
    expect(opsFor('time')).toContain('within_days')
    expect(fields.find((f) => f.field === 'fields.age')).toMatchObject({ kind: 'number', label: 'age' })
    expect(valueInput('time', 'within_days')).toBe('days')
    expect(valueInput('time', 'before')).toBe('date')
    expect(valueInput('text', 'in')).toBe('list')
    expect(valueInput('tags', 'has_any')).toBe('list')
    expect(valueInput('number', 'is_set')).toBe('none')
  })

  it('new rows start with the first operator and a usable value', () => {
    const plan = fields.find((f) => f.field === 'fields.plan')!
    expect(newRow(plan)).toEqual({ field: 'fields.plan', op: 'eq', value: 'free' })
    expect(defaultValue(fields.find((f) => f.field === 'consent.whatsapp')!, 'eq')).toBe('opted_in')
    expect(newRow(fields.find((f) => f.field === 'last_inbound_at')!)).toEqual({ field: 'last_inbound_at', op: 'within_days', value: '30' })
  })

  it('turns rows into typed conditions, leaving incomplete ones out', () => {
    expect(toCondition({ field: 'lead_score', op: 'gte', value: '50' }, fields)).toEqual({ field: 'lead_score', op: 'gte', value: 50 })
    expect(toCondition({ field: 'lead_score', op: 'gte', value: 'abc' }, fields)).toBeNull()
    expect(toCondition({ field: 'tags', op: 'has_any', value: 'vip, web,' }, fields)).toEqual({ field: 'tags', op: 'has_any', value: ['vip', 'web'] })
    expect(toCondition({ field: 'opted_out_marketing', op: 'eq', value: 'false' }, fields)).toEqual({ field: 'opted_out_marketing', op: 'eq', value: false })
    expect(toCondition({ field: 'email', op: 'is_set', value: 'x' }, fields)).toEqual({ field: 'email', op: 'is_set' })
    expect(toCondition({ field: 'nope', op: 'eq', value: 'x' }, fields)).toBeNull()
    expect(toFilter('any', [
      { field: 'tags', op: 'has', value: 'vip' },
      { field: 'utm_source', op: 'eq', value: '' },
    ], fields)).toEqual({ filter: { match: 'any', conditions: [{ field: 'tags', op: 'has', value: 'vip' }] }, incomplete: 1 })
  })
})
