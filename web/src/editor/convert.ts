/** Flow document ↔ React Flow graph. Pure: no React, no I/O.
 *
 * A document node becomes a graph node whose data keeps every key of the document node
 * (in order) except `exits`; each wired exit becomes an edge from the source handle named
 * after the exit. Exits left unwired and exits wired to a node that does not exist are kept
 * on the node, so `graphToDoc(docToGraph(doc))` gives back the same document. */
import type { Edge, Node } from '@xyflow/react'
import type { FlowDoc, FlowDocRest, FlowNodeBody, FlowNodeDoc, Position } from './document'

export interface FlowNodeData extends Record<string, unknown> {
  /** The document node without `exits`, keys in document order. */
  node: FlowNodeBody
  /** Where `exits` sits among the node's keys: after the key `after` (null: first); null when
   * the document node had no `exits` key. */
  exitsPlace: { after: string | null } | null
  /** Exit names in editor order (one source handle each). */
  exitNames: string[]
  /** Exits wired to an id that is not a node of this flow (kept for validation to report). */
  dangling: Record<string, string>
}

export type FlowGraphNode = Node<FlowNodeData, 'flow'>

export interface FlowGraph {
  nodes: FlowGraphNode[]
  edges: Edge[]
  /** The document without `nodes` and `layout`, keys in order. */
  rest: FlowDocRest
  /** Top-level key order, so the document comes back key for key. */
  keyOrder: string[]
  /** Layout entries for ids that are not nodes. */
  extraLayout: Record<string, Position>
}

export function edgeId(source: string, exit: string): string {
  return `${source}\u0000${exit}`
}

/** Where a node without a stored position goes: a simple grid, in document order. */
export function autoPosition(index: number): Position {
  return { x: 40 + (index % 4) * 300, y: 40 + Math.floor(index / 4) * 220 }
}

export function docToGraph(doc: FlowDoc): FlowGraph {
  const ids = new Set(doc.nodes.map((n) => n.id))
  const layout = doc.layout ?? {}
  const nodes: FlowGraphNode[] = []
  const edges: Edge[] = []
  doc.nodes.forEach((docNode, index) => {
    const keys = Object.keys(docNode)
    const { exits, ...node } = docNode
    const dangling: Record<string, string> = {}
    for (const [exit, target] of Object.entries(exits ?? {})) {
      if (target === null) continue
      if (ids.has(target)) {
        edges.push({
          id: edgeId(docNode.id, exit),
          source: docNode.id,
          sourceHandle: exit,
          target,
        })
      } else {
        dangling[exit] = target
      }
    }
    nodes.push({
      id: docNode.id,
      type: 'flow',
      position: layout[docNode.id] ? { ...layout[docNode.id] } : autoPosition(index),
      data: {
        node,
        exitsPlace: keys.includes('exits') ? { after: keys[keys.indexOf('exits') - 1] ?? null } : null,
        exitNames: Object.keys(exits ?? {}),
        dangling,
      },
    })
  })
  const { nodes: _n, layout: _l, ...rest } = doc
  const extraLayout: Record<string, Position> = {}
  for (const [id, pos] of Object.entries(layout)) if (!ids.has(id)) extraLayout[id] = pos
  return { nodes, edges, rest, keyOrder: Object.keys(doc), extraLayout }
}

/** The document node for a graph node, given the edges leaving it. */
export function nodeToDoc(graphNode: FlowGraphNode, edges: readonly Edge[]): FlowNodeDoc {
  const { node, exitsPlace, exitNames, dangling } = graphNode.data
  const wired = new Map<string, string>()
  for (const edge of edges) {
    if (edge.source === graphNode.id && edge.sourceHandle) wired.set(edge.sourceHandle, edge.target)
  }
  const exits: Record<string, string | null> = {}
  for (const name of exitNames) exits[name] = wired.get(name) ?? dangling[name] ?? null
  const entries: [string, unknown][] = Object.entries(node)
  if (exitsPlace) {
    const after = exitsPlace.after === null ? -1 : entries.findIndex(([k]) => k === exitsPlace.after)
    entries.splice(after < 0 && exitsPlace.after !== null ? entries.length : after + 1, 0, ['exits', exits])
  } else if (exitNames.length) {
    entries.push(['exits', exits])
  }
  return Object.fromEntries(entries) as FlowNodeDoc
}

export function graphToDoc(graph: FlowGraph): FlowDoc {
  const bySource = new Map<string, Edge[]>()
  for (const edge of graph.edges) {
    const list = bySource.get(edge.source) ?? []
    list.push(edge)
    bySource.set(edge.source, list)
  }
  const nodes = graph.nodes.map((n) => nodeToDoc(n, bySource.get(n.id) ?? []))
  const layout: Record<string, Position> = {}
  for (const n of graph.nodes) layout[n.id] = { x: n.position.x, y: n.position.y }
  Object.assign(layout, graph.extraLayout)
  const parts: Record<string, unknown> = { ...graph.rest, nodes, layout }
  // Keys in document order; keys the editor added (a first trigger, a start node) go last.
  const order = [...graph.keyOrder]
  for (const key of Object.keys(parts)) if (!order.includes(key)) order.push(key)
  const out: Record<string, unknown> = {}
  for (const key of order) if (key in parts) out[key] = parts[key]
  return out as FlowDoc
}
