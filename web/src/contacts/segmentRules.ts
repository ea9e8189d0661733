/** The segment builder's catalogue: fields, their operators and value inputs, and the rows of
 * the form turned into the filter `POST /segments` takes (services/segments.py). Pure. */
import type { SegmentCondition, SegmentFilter } from '../api/contacts'

export type FieldKind = 'text' | 'number' | 'boolean' | 'time' | 'tags' | 'consent' | 'date' | 'choice'
export type FieldGroup = 'profile' | 'score' | 'tags' | 'activity' | 'attribution' | 'consent' | 'custom'

export interface SegmentField {
  field: string
  kind: FieldKind
  group: FieldGroup
  /** A custom field's label (built-in fields are translated by `segment.field.<field>`). */
  label?: string
  choices?: string[]
}

/** How the value of a condition is typed in. */
export type ValueInput = 'none' | 'text' | 'list' | 'number' | 'days' | 'date' | 'bool' | 'consent' | 'choice'

const OPS: Record<FieldKind, string[]> = {
  text: ['eq', 'neq', 'contains', 'starts_with', 'in', 'is_set', 'is_not_set'],
  choice: ['eq', 'neq', 'in', 'is_set', 'is_not_set'],
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'],
  boolean: ['eq'],
  time: ['within_days', 'not_within_days', 'before', 'after', 'is_set', 'is_not_set'],
  date: ['before', 'after', 'eq', 'is_set', 'is_not_set'],
  tags: ['has', 'has_not', 'has_any', 'has_all'],
  consent: ['eq', 'is_set', 'is_not_set'],
}

const BUILT_IN: SegmentField[] = [
  ...['name', 'first_name', 'last_name', 'phone', 'email', 'external_id', 'language', 'country', 'timezone', 'source']
    .map((field) => ({ field, kind: 'text' as const, group: 'profile' as const })),
  { field: 'lead_score', kind: 'number', group: 'score' },
  { field: 'opted_out_marketing', kind: 'boolean', group: 'score' },
  { field: 'tags', kind: 'tags', group: 'tags' },
  ...['last_inbound_at', 'last_outbound_at', 'created_at', 'updated_at']
    .map((field) => ({ field, kind: 'time' as const, group: 'activity' as const })),
  ...['utm_source', 'utm_medium', 'utm_campaign', 'ad_id', 'attribution.source']
    .map((field) => ({ field, kind: 'text' as const, group: 'attribution' as const })),
  ...['whatsapp', 'sms', 'email']
    .map((channel) => ({ field: `consent.${channel}`, kind: 'consent' as const, group: 'consent' as const })),
]

/** A custom field definition as the catalogue needs it (`/contact-fields`). */
export interface CustomFieldDef {
  key: string
  label: string
  type: string
  choices?: string[] | null
}

const CUSTOM_KIND: Record<string, FieldKind> = {
  text: 'text', number: 'number', boolean: 'boolean', date: 'date', choice: 'choice',
}

/** Every field a condition can test: the built-in ones, then the workspace's custom fields. */
export function segmentFields(custom: CustomFieldDef[]): SegmentField[] {
  return [
    ...BUILT_IN,
    ...custom.map((f) => ({
      field: `fields.${f.key}`, kind: CUSTOM_KIND[f.type] ?? 'text', group: 'custom' as const,
      label: f.label || f.key, choices: f.choices ?? [],
    })),
  ]
}

export function opsFor(kind: FieldKind): string[] {
  return OPS[kind]
}

export function valueInput(kind: FieldKind, op: string): ValueInput {
  if (op === 'is_set' || op === 'is_not_set') return 'none'
  if (kind === 'tags') return op === 'has_any' || op === 'has_all' ? 'list' : 'text'
  if (op === 'in') return 'list'
  if (kind === 'number') return 'number'
  if (kind === 'boolean') return 'bool'
  if (kind === 'consent') return 'consent'
  if (kind === 'time') return op === 'within_days' || op === 'not_within_days' ? 'days' : 'date'
  if (kind === 'date') return 'date'
  if (kind === 'choice') return 'choice'
  return 'text'
}

/** One row of the builder, as typed. */
export interface RuleRow {
  field: string
  op: string
  value: string
}

/** A new row for `field`: its first operator and a sensible starting value. */
export function newRow(field: SegmentField): RuleRow {
  const op = opsFor(field.kind)[0]
  return { field: field.field, op, value: defaultValue(field, op) }
}

export function defaultValue(field: SegmentField, op: string): string {
  const input = valueInput(field.kind, op)
  if (input === 'bool') return 'true'
  if (input === 'consent') return 'opted_in'
  if (input === 'days') return '30'
  if (input === 'choice') return field.choices?.[0] ?? ''
  return ''
}

/** The row as a condition, or null while its value is missing or not a number. */
export function toCondition(row: RuleRow, fields: SegmentField[]): SegmentCondition | null {
  const field = fields.find((f) => f.field === row.field)
  if (!field) return null
  const input = valueInput(field.kind, row.op)
  const text = row.value.trim()
  switch (input) {
    case 'none':
      return { field: row.field, op: row.op }
    case 'number':
    case 'days': {
      const n = Number(text.replace(',', '.'))
      return text === '' || !Number.isFinite(n) ? null : { field: row.field, op: row.op, value: n }
    }
    case 'bool':
      return { field: row.field, op: row.op, value: text === 'true' }
    case 'list': {
      const items = text.split(',').map((x) => x.trim()).filter(Boolean)
      return items.length ? { field: row.field, op: row.op, value: items } : null
    }
    default:
      return text ? { field: row.field, op: row.op, value: text } : null
  }
}

/** The filter for the rows (rows still incomplete are left out), and how many were left out. */
export function toFilter(match: 'all' | 'any', rows: RuleRow[], fields: SegmentField[]): { filter: SegmentFilter; incomplete: number } {
  const conditions: SegmentCondition[] = []
  let incomplete = 0
  for (const row of rows) {
    const c = toCondition(row, fields)
    if (c) conditions.push(c)
    else incomplete += 1
  }
  return { filter: { match, conditions }, incomplete }
}
