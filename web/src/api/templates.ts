/** The playbook library (`/api/v1/flow-templates`, see docs/playbooks/). */
import { api } from './client'
import type { FlowDetail } from './flows'

export interface Localized {
  es: string
  en: string
}

export interface TemplateParameter {
  id: string
  kind: string
  label: Localized
  description: Localized
  required: boolean
  default: unknown
  default_en: unknown
  choices: string[] | null
  schema: { type?: string; minimum?: number; maximum?: number; pattern?: string }
}

export interface TemplateKpi {
  id: string
  label: Localized
  how: Localized
  unit: string
}

export interface FlowTemplate {
  id: string
  kind: 'playbook' | 'scene' | 'workflow'
  name: Localized
  description: Localized
  category: string
  parameters: TemplateParameter[]
  kpis: TemplateKpi[]
  kpis_not_computed: Localized[]
}

/** Every template of the library (it is small: one page of 100 holds it). */
export async function listTemplates(): Promise<FlowTemplate[]> {
  const page = await api<{ items: FlowTemplate[]; next_cursor: string | null }>(
    'GET', '/flow-templates?limit=100')
  return page.items
}

export const createFromTemplate = (
  templateId: string, parameters: Record<string, unknown>, name: string | null, publish: boolean,
) => api<FlowDetail>('POST', '/flows/from-template', {
  template_id: templateId, parameters, name, publish,
})

/** A parameter's value as the form edits it (keywords are one comma-separated line). */
export function toFormValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ')
  if (value === null || value === undefined) return ''
  return String(value)
}

/** The form's text back into the parameter's type; null when left empty (take the default). */
export function fromFormValue(param: TemplateParameter, text: string): unknown {
  const trimmed = text.trim()
  if (!trimmed) return null
  if (param.schema.type === 'array') {
    return trimmed.split(',').map((item) => item.trim()).filter(Boolean)
  }
  if (param.schema.type === 'integer') {
    return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed
  }
  return text
}

/** The default a parameter shows for the flow's language. */
export function defaultFor(param: TemplateParameter, lang: 'es' | 'en'): string {
  return toFormValue(lang === 'en' ? param.default_en : param.default)
}

/** The parameters to send for a flow in `lang`: only what the user changed from the
 * template's defaults in that language (the server fills in the rest). */
export function changedParameters(
  params: TemplateParameter[], values: Record<string, string>, lang: 'es' | 'en',
): Record<string, unknown> {
  const out: Record<string, unknown> = { language: lang }
  for (const param of params) {
    if (param.id === 'language') continue
    const initial = defaultFor(param, lang)
    const text = values[param.id] ?? initial
    if (text === initial) continue
    const value = fromFormValue(param, text)
    if (value !== null) out[param.id] = value
  }
  return out
}
