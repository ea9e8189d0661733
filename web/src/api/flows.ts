/** The flows API (`/api/v1/flows`, see docs/flows.md). */
import { api, apiText } from './client'
import type { FlowDoc, NodeType, Problem } from '../editor/document'

export interface FlowSummary {
  id: number
  name: string
  description: string
  published_version: number | null
  enabled: boolean
  created_at: string
  updated_at: string
}

/** A flow as the list shows it, with its runs (`GET /flows`). */
export interface FlowListItem extends FlowSummary {
  template_id: string | null
  runs_total: number
  runs_active: number
  /** Runs that reached the goal / runs; null without a goal or without runs. */
  conversion_rate: number | null
}

export interface FlowDetail extends FlowSummary {
  draft: FlowDoc
}

export interface FlowVersion {
  number: number
  published_at: string
  published_by: string
  note: string
}

export const listFlows = () => api<FlowListItem[]>('GET', '/flows')
export const getFlow = (id: number) => api<FlowDetail>('GET', `/flows/${id}`)
export const createFlow = (document: FlowDoc) => api<FlowDetail>('POST', '/flows', { document })
export const saveDraft = (id: number, document: FlowDoc) =>
  api<FlowDetail>('PUT', `/flows/${id}/draft`, { document })
export const validateFlow = (id: number) =>
  api<{ problems: Problem[]; errors: number; warnings: number }>('POST', `/flows/${id}/validate`)
export const publishFlow = (id: number, note = '') =>
  api<FlowVersion>('POST', `/flows/${id}/publish`, { note })
export const getVersion = (id: number, version: number) =>
  api<FlowVersion & { document: FlowDoc }>('GET', `/flows/${id}/versions/${version}`)
export const importFlow = (content: string, format: 'json' | 'yaml') =>
  api<FlowDetail>('POST', '/flows/import', { content, format })
export const exportFlow = (id: number) => apiText(`/flows/${id}/export?format=json`)
export const listVersions = (id: number) => api<FlowVersion[]>('GET', `/flows/${id}/versions`)
export const rollbackFlow = (id: number, version: number) =>
  api<FlowVersion>('POST', `/flows/${id}/rollback`, { version })

export const getFlowSchema = () => api<import('../editor/schema').JsonSchema>('GET', '/flow-schema')
export const listNodeTypes = () => api<NodeType[]>('GET', '/node-types')
export const nodeExits = (nodes: unknown[]) =>
  api<{ exits: Record<string, string[]>; invalid: Record<string, string> }>(
    'POST', '/node-types/exits', { nodes },
  )

/** A new, empty flow document with just a name. */
export function emptyFlow(name: string): FlowDoc {
  return { format: 1, metadata: { name }, nodes: [], layout: {} }
}
