/** A JSON Schema subset as pydantic v2 writes it, and helpers to walk it. Pure. */

export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  $ref?: string
  $defs?: Record<string, JsonSchema>
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  format?: string
}

/** Follow `$ref` (to `#/$defs/Name`) and single-item `allOf`, against the root's `$defs`. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema
  for (let i = 0; i < 20; i++) {
    if (current.$ref) {
      const name = current.$ref.replace(/^#\/\$defs\//, '')
      const target = root.$defs?.[name]
      if (!target) return current
      const { $ref: _ignored, ...rest } = current
      current = { ...target, ...rest }
      continue
    }
    if (current.allOf && current.allOf.length === 1) {
      const { allOf, ...rest } = current
      current = { ...allOf[0], ...rest }
      continue
    }
    return current
  }
  return current
}

export type FieldKind =
  | { kind: 'string'; multiline: boolean }
  | { kind: 'duration' }
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'enum'; options: unknown[] }
  | { kind: 'const'; value: unknown }
  | { kind: 'object'; schema: JsonSchema }
  | { kind: 'array'; items: JsonSchema }
  | { kind: 'map' }
  | { kind: 'json' }

const MULTILINE = new Set(['body', 'text', 'html', 'note', 'description', 'prompt', 'message', 'expression'])

/** How to edit a value of this schema. `nullable` says whether "empty" is allowed. */
export function classify(
  schema: JsonSchema,
  root: JsonSchema,
  name = '',
): { field: FieldKind; nullable: boolean } {
  const s = resolve(schema, root)
  if (isDuration(s)) return { field: { kind: 'duration' }, nullable: false }
  const variants = s.anyOf ?? s.oneOf
  if (variants) {
    const nonNull = variants.map((v) => resolve(v, root)).filter((v) => v.type !== 'null')
    const nullable = nonNull.length < variants.length
    if (nonNull.length === 1) return { field: classify(nonNull[0], root, name).field, nullable }
    if (nonNull.some(isDuration)) return { field: { kind: 'duration' }, nullable }
    // Several shapes (a duration as "7d" or {days: 7}): the short text form, when offered,
    // is what a person types; anything else is edited as JSON.
    if (nonNull.some((v) => v.type === 'string')) {
      return { field: { kind: 'string', multiline: false }, nullable }
    }
    return { field: { kind: 'json' }, nullable }
  }
  if (s.const !== undefined) return { field: { kind: 'const', value: s.const }, nullable: false }
  if (s.enum) return { field: { kind: 'enum', options: s.enum }, nullable: false }
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type
  const nullable = Array.isArray(s.type) && s.type.includes('null')
  switch (type) {
    case 'string':
      return {
        field: { kind: 'string', multiline: MULTILINE.has(name) || (s.maxLength ?? 0) > 200 },
        nullable,
      }
    case 'integer':
      return { field: { kind: 'number', integer: true }, nullable }
    case 'number':
      return { field: { kind: 'number', integer: false }, nullable }
    case 'boolean':
      return { field: { kind: 'boolean' }, nullable }
    case 'array':
      return { field: s.items ? { kind: 'array', items: s.items } : { kind: 'json' }, nullable }
    case 'object':
      if (s.properties) return { field: { kind: 'object', schema: s }, nullable }
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        const inner = resolve(s.additionalProperties, root)
        if (inner.type === 'string') return { field: { kind: 'map' }, nullable }
      }
      return { field: { kind: 'json' }, nullable }
    default:
      return { field: { kind: 'json' }, nullable }
  }
}

/** A starting value for a new array item or a newly added node. */
export function emptyValue(schema: JsonSchema, root: JsonSchema): unknown {
  const s = resolve(schema, root)
  if (s.default !== undefined) return structuredClone(s.default)
  const { field, nullable } = classify(s, root)
  if (nullable) return null
  switch (field.kind) {
    case 'string':
      return ''
    case 'number':
      return 0
    case 'boolean':
      return false
    case 'enum':
      return field.options[0]
    case 'const':
      return field.value
    case 'array':
      return []
    case 'map':
      return {}
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const key of field.schema.required ?? []) {
        out[key] = emptyValue(field.schema.properties![key], root)
      }
      return out
    }
    default:
      return null
  }
}

/** `cauce.flows.common.Duration`: accepted as text (`7d`, `1h30m`) or as an object. */
export function isDuration(s: JsonSchema): boolean {
  return s.title === 'Duration' && Boolean(s.properties?.days && s.properties?.seconds)
}

const UNITS: [string, number][] = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]

/** A duration value as the short text a person types: `{days: 7}` → `7d`, 5400 → `1h30m`. */
export function durationText(value: unknown): string {
  if (typeof value === 'string') return value
  let seconds = 0
  if (typeof value === 'number') seconds = value
  else if (value && typeof value === 'object') {
    const v = value as Record<string, number>
    seconds = (v.days ?? 0) * 86400 + (v.hours ?? 0) * 3600 + (v.minutes ?? 0) * 60 + (v.seconds ?? 0)
  } else return ''
  if (seconds === 0) return '0s'
  let out = ''
  for (const [unit, size] of UNITS) {
    const n = Math.floor(seconds / size)
    if (n) out += `${n}${unit}`
    seconds -= n * size
  }
  return out
}
