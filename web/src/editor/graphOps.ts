/** Edits of the editor's graph. Pure: each returns a new graph and leaves its input alone. */
import type { Connection, Edge } from '@xyflow/react'
import { edgeId } from './convert'
import type { FlowGraph, FlowGraphNode } from './convert'
import type { NodeType, Position } from './document'

/** A fresh node id for a type: `whatsapp_text`, `whatsapp_text_2`, … */
export function newNodeId(graph: FlowGraph, type: string): string {
  const taken = new Set(graph.nodes.map((n) => n.id))
  if (!taken.has(type)) return type
  for (let i = 2; ; i++) if (!taken.has(`${type}_${i}`)) return `${type}_${i}`
}

/** Add a node of `nodeType` at `position`, configured like the type's documented example. */
export function addNode(graph: FlowGraph, nodeType: NodeType, position: Position): [FlowGraph, string] {
  const id = newNodeId(graph, nodeType.type)
  const config = structuredClone(nodeType.example.config ?? {})
  const node: FlowGraphNode = {
    id,
    type: 'flow',
    position: { x: Math.round(position.x), y: Math.round(position.y) },
    data: {
      node: { id, type: nodeType.type, config },
      exitsPlace: { after: 'config' },
      exitNames: [...nodeType.example_exits],
      dangling: {},
    },
  }
  return [{ ...graph, nodes: [...graph.nodes, node] }, id]
}

/** Wire `sourceHandle` (an exit) of `source` to `target`; an exit leads to one node only. */
export function connect(graph: FlowGraph, c: Connection): FlowGraph {
  if (!c.source || !c.target || !c.sourceHandle || c.source === c.target) return graph
  const id = edgeId(c.source, c.sourceHandle)
  const edges: Edge[] = graph.edges.filter((e) => e.id !== id)
  edges.push({ id, source: c.source, sourceHandle: c.sourceHandle, target: c.target })
  const nodes = graph.nodes.map((n) => {
    if (n.id !== c.source || !(c.sourceHandle! in n.data.dangling)) return n
    const { [c.sourceHandle!]: _gone, ...dangling } = n.data.dangling
    return { ...n, data: { ...n.data, dangling } }
  })
  return { ...graph, nodes, edges }
}

export function removeEdges(graph: FlowGraph, ids: readonly string[]): FlowGraph {
  if (!ids.length) return graph
  const drop = new Set(ids)
  return { ...graph, edges: graph.edges.filter((e) => !drop.has(e.id)) }
}

/** Remove nodes, the edges touching them, and a `start` that pointed at one of them. */
export function removeNodes(graph: FlowGraph, ids: readonly string[]): FlowGraph {
  if (!ids.length) return graph
  const drop = new Set(ids)
  let rest = graph.rest
  if (typeof rest.start === 'string' && drop.has(rest.start)) {
    const { start: _s, ...others } = rest
    rest = others
  }
  return {
    ...graph,
    rest,
    nodes: graph.nodes.filter((n) => !drop.has(n.id)),
    edges: graph.edges.filter((e) => !drop.has(e.source) && !drop.has(e.target)),
  }
}

/** Change a node's label or config (exits follow once the server lists them: `applyExits`). */
export function updateNode(
  graph: FlowGraph,
  id: string,
  patch: { name?: string; config?: Record<string, unknown> },
): FlowGraph {
  const nodes = graph.nodes.map((n) => {
    if (n.id !== id) return n
    const node = { ...n.data.node }
    if (patch.config !== undefined) node.config = patch.config
    if (patch.name !== undefined) {
      if (patch.name === '') delete node.name
      else if ('name' in node) node.name = patch.name
      else {
        // A new label goes after `type`, where a document written by hand would have it.
        const entries = Object.entries(node)
        const at = entries.findIndex(([k]) => k === 'type') + 1
        entries.splice(at, 0, ['name', patch.name])
        return { ...n, data: { ...n.data, node: Object.fromEntries(entries) as typeof node } }
      }
    }
    return { ...n, data: { ...n.data, node } }
  })
  return { ...graph, nodes }
}

/** Give nodes the exits the server listed for their current config. Edges and dangling
 * targets of exits that no longer exist are dropped; wiring of the others is kept. */
export function applyExits(graph: FlowGraph, exits: Record<string, string[]>): FlowGraph {
  let changed = false
  const gone = new Set<string>()
  const nodes = graph.nodes.map((n) => {
    const names = exits[n.id]
    if (!names || sameList(names, n.data.exitNames)) return n
    changed = true
    const keep = new Set(names)
    for (const old of n.data.exitNames) if (!keep.has(old)) gone.add(edgeId(n.id, old))
    const dangling = Object.fromEntries(Object.entries(n.data.dangling).filter(([k]) => keep.has(k)))
    return { ...n, data: { ...n.data, exitNames: [...names], dangling } }
  })
  if (!changed) return graph
  return { ...graph, nodes, edges: graph.edges.filter((e) => !gone.has(e.id)) }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
