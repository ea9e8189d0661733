// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { docToGraph, graphToDoc } from './convert'
import type { FlowDoc, NodeType } from './document'
import { addNode, applyExits, connect, removeEdges, removeNodes, updateNode } from './graphOps'

const buttons: NodeType = {
  type: 'whatsapp_buttons',
  category: 'message',
  summary: '',
  waits: true,
  free_form_whatsapp: true,
  dynamic_exits: 'one per button id',
  config_schema: { type: 'object' },
  example: {
    id: 'menu',
    type: 'whatsapp_buttons',
    config: { body: '¿Qué te interesa?', buttons: [{ id: 'buy', title: 'Comprar' }] },
    exits: { buy: null, replied: null, timeout: null, failed: null },
  },
  exits: ['replied', 'timeout', 'failed'],
  example_exits: ['buy', 'replied', 'timeout', 'failed'],
}

const base: FlowDoc = { format: 1, metadata: { name: 'f' }, nodes: [], layout: {} }

describe('graph edits', () => {
  it('adds a node from the palette and wires its exits into the document', () => {
    let [graph, first] = addNode(docToGraph(base), buttons, { x: 10.4, y: 20.6 })
    let second: string
    ;[graph, second] = addNode(graph, buttons, { x: 300, y: 20 })
    expect([first, second]).toEqual(['whatsapp_buttons', 'whatsapp_buttons_2'])
    graph = connect(graph, { source: first, sourceHandle: 'buy', target: second, targetHandle: null })
    const doc = graphToDoc(graph)
    expect(doc.nodes[0]).toEqual({
      id: 'whatsapp_buttons',
      type: 'whatsapp_buttons',
      config: { body: '¿Qué te interesa?', buttons: [{ id: 'buy', title: 'Comprar' }] },
      exits: { buy: 'whatsapp_buttons_2', replied: null, timeout: null, failed: null },
    })
    expect(doc.layout!.whatsapp_buttons).toEqual({ x: 10, y: 21 })
    // the example's config was copied, not shared
    expect(doc.nodes[0].config).not.toBe(buttons.example.config)
  })

  it('rewires an exit to one target only and ignores self-loops', () => {
    let [graph, a] = addNode(docToGraph(base), buttons, { x: 0, y: 0 })
    let b: string, c: string
    ;[graph, b] = addNode(graph, buttons, { x: 0, y: 0 })
    ;[graph, c] = addNode(graph, buttons, { x: 0, y: 0 })
    graph = connect(graph, { source: a, sourceHandle: 'buy', target: b, targetHandle: null })
    graph = connect(graph, { source: a, sourceHandle: 'buy', target: c, targetHandle: null })
    graph = connect(graph, { source: a, sourceHandle: 'replied', target: a, targetHandle: null })
    expect(graphToDoc(graph).nodes[0].exits).toEqual({ buy: c, replied: null, timeout: null, failed: null })
  })

  it('removes nodes with their edges and a start that pointed at them', () => {
    let [graph, a] = addNode(docToGraph({ ...base, start: 'whatsapp_buttons' }), buttons, { x: 0, y: 0 })
    let b: string
    ;[graph, b] = addNode(graph, buttons, { x: 0, y: 0 })
    graph = connect(graph, { source: b, sourceHandle: 'buy', target: a, targetHandle: null })
    graph = removeNodes(graph, [a])
    const doc = graphToDoc(graph)
    expect(doc.start).toBeUndefined()
    expect(doc.nodes.map((n) => n.id)).toEqual([b])
    expect(doc.nodes[0].exits!.buy).toBeNull()
    expect(doc.layout).toEqual({ [b]: { x: 0, y: 0 } })
  })

  it('removes edges by id', () => {
    let [graph, a] = addNode(docToGraph(base), buttons, { x: 0, y: 0 })
    let b: string
    ;[graph, b] = addNode(graph, buttons, { x: 0, y: 0 })
    graph = connect(graph, { source: a, sourceHandle: 'buy', target: b, targetHandle: null })
    graph = removeEdges(graph, [graph.edges[0].id])
    expect(graphToDoc(graph).nodes[0].exits!.buy).toBeNull()
  })

  it('follows the exits the server lists after a config change, keeping the wiring of the rest', () => {
    let [graph, a] = addNode(docToGraph(base), buttons, { x: 0, y: 0 })
    let b: string
    ;[graph, b] = addNode(graph, buttons, { x: 0, y: 0 })
    graph = connect(graph, { source: a, sourceHandle: 'buy', target: b, targetHandle: null })
    graph = connect(graph, { source: a, sourceHandle: 'timeout', target: b, targetHandle: null })
    graph = updateNode(graph, a, {
      config: { body: 'x', buttons: [{ id: 'info', title: 'Info' }] },
      name: 'Menú',
    })
    const same = applyExits(graph, { [b]: ['buy', 'replied', 'timeout', 'failed'] })
    expect(same).toBe(graph)
    graph = applyExits(graph, { [a]: ['info', 'replied', 'timeout', 'failed'] })
    const node = graphToDoc(graph).nodes[0]
    expect(Object.keys(node)).toEqual(['id', 'type', 'name', 'config', 'exits'])
    expect(node.exits).toEqual({ info: null, replied: null, timeout: b, failed: null })
  })
})
