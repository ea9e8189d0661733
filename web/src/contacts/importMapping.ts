/** CSV import: which contact attribute each column fills, guessed from the header (pure). */
import type { ImportError } from '../api/contacts'

/** The attributes an import can fill (services/imports.py: SIMPLE_TARGETS, UTM_TARGETS,
 * `consent.<channel>`); custom fields are `fields.<key>`. */
export const IMPORT_TARGETS = [
  'phone', 'email', 'external_id', 'name', 'first_name', 'last_name', 'language', 'tags',
  'lead_score', 'opted_out_marketing', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
  'utm_content', 'consent.whatsapp', 'consent.sms', 'consent.email',
] as const

/** A contact is found or created by one of these: at least one must be mapped. */
export const IDENTIFIERS = ['phone', 'email', 'external_id']

/** Header words (Spanish and English, normalised) that name each attribute. */
const SYNONYMS: Record<string, string[]> = {
  phone: ['phone', 'telefono', 'tel', 'celular', 'movil', 'mobile', 'cell', 'cellphone', 'whatsapp', 'numero', 'phonenumber', 'numerodetelefono', 'telefonomovil'],
  email: ['email', 'mail', 'correo', 'correoelectronico', 'emailaddress', 'direcciondecorreo'],
  external_id: ['externalid', 'idexterno', 'id', 'customerid', 'idcliente', 'codigo', 'codigocliente', 'clientid'],
  name: ['name', 'nombre', 'fullname', 'nombrecompleto', 'cliente', 'contacto', 'contact'],
  first_name: ['firstname', 'primernombre', 'nombres', 'givenname'],
  last_name: ['lastname', 'apellido', 'apellidos', 'surname', 'familyname'],
  language: ['language', 'idioma', 'lang', 'lengua', 'locale'],
  tags: ['tags', 'tag', 'etiquetas', 'etiqueta', 'labels'],
  lead_score: ['leadscore', 'score', 'puntaje', 'puntuacion', 'scoring'],
  opted_out_marketing: ['optedoutmarketing', 'optout', 'unsubscribed', 'baja', 'desuscrito'],
  utm_source: ['utmsource', 'fuente', 'source'],
  utm_medium: ['utmmedium', 'medio', 'medium'],
  utm_campaign: ['utmcampaign', 'campana', 'campaign'],
  utm_term: ['utmterm'],
  utm_content: ['utmcontent'],
}

/** Lower case, no accents, letters and digits only: "Teléfono móvil" → "telefonomovil". */
export function normalizeHeader(header: string): string {
  return header.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** A custom field as the guess needs it. */
export interface FieldRef {
  key: string
  label: string
}

/** Column → attribute for the columns whose header names one; each attribute once (the first
 * column wins), custom fields by key or label. Columns not guessed are left out (ignored). */
export function guessMapping(headers: string[], fields: FieldRef[]): Record<string, string> {
  const byWord = new Map<string, string>()
  for (const f of fields) {
    byWord.set(normalizeHeader(f.key), `fields.${f.key}`)
    if (f.label) byWord.set(normalizeHeader(f.label), `fields.${f.key}`)
  }
  for (const [target, words] of Object.entries(SYNONYMS)) {
    for (const word of words) if (!byWord.has(word)) byWord.set(word, target)
  }
  const mapping: Record<string, string> = {}
  const taken = new Set<string>()
  for (const header of headers) {
    if (!header || header in mapping) continue
    const target = byWord.get(normalizeHeader(header))
    if (target && !taken.has(target)) {
      mapping[header] = target
      taken.add(target)
    }
  }
  return mapping
}

export type MappingProblem =
  | { kind: 'no_identifier' }
  | { kind: 'twice'; target: string }

/** What the server would refuse about a mapping, checked before uploading. */
export function mappingProblems(mapping: Record<string, string>): MappingProblem[] {
  const targets = Object.values(mapping).filter(Boolean)
  const problems: MappingProblem[] = []
  if (!targets.some((t) => IDENTIFIERS.includes(t))) problems.push({ kind: 'no_identifier' })
  const seen = new Set<string>()
  for (const t of targets) {
    if (seen.has(t)) problems.push({ kind: 'twice', target: t })
    seen.add(t)
  }
  return problems
}

/** The mapping as the API takes it: only the columns mapped to something. */
export function mappingForApi(mapping: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(mapping).filter(([, target]) => target))
}

/** Whole percent of rows done (0 when the total is unknown). */
export function percentDone(processed: number, total: number): number {
  if (total <= 0) return 0
  return Math.min(100, Math.floor((processed * 100) / total))
}

/** The bad-row report as CSV text (row, field, reason), quoted where needed. */
export function errorsCsv(errors: ImportError[]): string {
  const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
  const lines = ['row,field,reason', ...errors.map((e) => [String(e.row), e.field ?? '', e.reason].map(cell).join(','))]
  return lines.join('\r\n') + '\r\n'
}
