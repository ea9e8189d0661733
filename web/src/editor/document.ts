/** The flow document as the API stores it (see src/cauce/flows/document.py). The editor keeps
 * keys it does not know about untouched, so a newer server's fields survive a round trip. */

export interface Position {
  x: number
  y: number
}

/** A document node without its `exits`. */
export interface FlowNodeBody {
  id: string
  type: string
  name?: string
  config?: Record<string, unknown>
  [key: string]: unknown
}

export interface FlowNodeDoc extends FlowNodeBody {
  exits?: Record<string, string | null>
}

/** A document without its `nodes` and `layout`. */
export interface FlowDocRest {
  format?: number
  metadata: { name: string; [key: string]: unknown }
  triggers?: unknown[]
  settings?: Record<string, unknown>
  start?: string | null
  [key: string]: unknown
}

export interface FlowDoc extends FlowDocRest {
  nodes: FlowNodeDoc[]
  layout?: Record<string, Position>
}

/** A validation finding from the API (`cauce.flows.common.Problem`). */
export interface Problem {
  severity: 'error' | 'warning'
  code: string
  message: string
  node_id?: string | null
  field?: string | null
}

/** A node type from `GET /api/v1/node-types`. */
export interface NodeType {
  type: string
  category: string
  summary: string
  waits: boolean
  free_form_whatsapp: boolean
  /** Exits every node of this type has; `dynamic_exits` says what adds more. */
  exits: string[]
  dynamic_exits: string | null
  config_schema: import('./schema').JsonSchema
  /** A complete node from the type's docs: new nodes start as a copy of it. */
  example: FlowNodeDoc
  example_exits: string[]
}
