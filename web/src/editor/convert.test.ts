// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { autoPosition, docToGraph, graphToDoc } from './convert'
import type { FlowDoc } from './document'

/** Scene 1 of the seeds: a lead writes, gets a menu, sales leads are handed to an agent. */
const leadFlow: FlowDoc = {
  format: 1,
  metadata: { name: 'Leads de WhatsApp', description: 'Escena 1', tags: ['ventas'], language: 'es' },
  triggers: [{ type: 'message', keywords: ['hola'] }],
  settings: { reentry: 'after_end', stop_on_reply: false },
  start: 'welcome',
  nodes: [
    {
      id: 'welcome',
      type: 'whatsapp_buttons',
      name: 'Bienvenida',
      config: {
        body: 'Hola {{ contact.first_name }}, ¿qué te interesa?',
        buttons: [
          { id: 'buy', title: 'Comprar ahora' },
          { id: 'sales', title: 'Asesor comercial' },
        ],
        timeout: '1d',
      },
      exits: { buy: 'tag', sales: 'handoff', replied: null, timeout: 'nudge', failed: null },
    },
    { id: 'tag', type: 'add_tag', config: { tags: ['lead'] }, exits: { next: 'bye' } },
    {
      id: 'nudge',
      type: 'delay',
      config: { duration: '7d' },
      // wired to a node that is not in the flow: kept so validation can report it
      exits: { next: 'missing_node' },
    },
    { id: 'handoff', type: 'handoff', config: { team: 'ventas' }, exits: { returned: 'bye', failed: null } },
    { id: 'bye', type: 'end', config: {} },
  ],
  layout: {
    welcome: { x: 0, y: 0 },
    tag: { x: 320, y: -80 },
    nudge: { x: 320, y: 160.5 },
    handoff: { x: 320, y: 40 },
    bye: { x: 640, y: 0 },
    ghost: { x: 1, y: 2 },
  },
  x_custom: { kept: true },
}

describe('flow document ↔ graph', () => {
  it('round-trips a document unchanged, key order included', () => {
    const back = graphToDoc(docToGraph(leadFlow))
    expect(back).toEqual(leadFlow)
    expect(JSON.stringify(back)).toBe(JSON.stringify(leadFlow))
  })

  it('round-trips twice (graph → doc → graph → doc)', () => {
    const once = graphToDoc(docToGraph(leadFlow))
    expect(JSON.stringify(graphToDoc(docToGraph(once)))).toBe(JSON.stringify(leadFlow))
  })

  it('makes one edge per wired exit, from the handle named after the exit', () => {
    const graph = docToGraph(leadFlow)
    const edges = graph.edges.map((e) => `${e.source}.${e.sourceHandle}->${e.target}`).sort()
    expect(edges).toEqual([
      'handoff.returned->bye',
      'tag.next->bye',
      'welcome.buy->tag',
      'welcome.sales->handoff',
      'welcome.timeout->nudge',
    ])
    const welcome = graph.nodes.find((n) => n.id === 'welcome')!
    expect(welcome.data.exitNames).toEqual(['buy', 'sales', 'replied', 'timeout', 'failed'])
    expect(graph.nodes.find((n) => n.id === 'nudge')!.data.dangling).toEqual({ next: 'missing_node' })
  })

  it('uses stored positions and places nodes without one on a grid', () => {
    const { layout: _drop, ...noLayout } = leadFlow
    const graph = docToGraph(noLayout as FlowDoc)
    expect(graph.nodes.map((n) => n.position)).toEqual([0, 1, 2, 3, 4].map(autoPosition))
    expect(docToGraph(leadFlow).nodes[2].position).toEqual({ x: 320, y: 160.5 })
    // the editor writes the positions it chose
    expect(Object.keys(graphToDoc(graph).layout!)).toEqual(['welcome', 'tag', 'nudge', 'handoff', 'bye'])
  })

  it('round-trips an empty flow', () => {
    const empty: FlowDoc = { format: 1, metadata: { name: 'Vacío' }, nodes: [], layout: {} }
    expect(JSON.stringify(graphToDoc(docToGraph(empty)))).toBe(JSON.stringify(empty))
  })

  it('keeps document keys the editor adds (a first trigger, a start node)', () => {
    const bare: FlowDoc = { format: 1, metadata: { name: 'Nuevo' }, nodes: [], layout: {} }
    const graph = docToGraph(bare)
    graph.rest = { ...graph.rest, triggers: [{ type: 'inbound_message' }], start: 'x' }
    expect(graphToDoc(graph)).toEqual({ ...bare, triggers: [{ type: 'inbound_message' }], start: 'x' })
  })

  it('does not modify its input', () => {
    const copy = structuredClone(leadFlow)
    const graph = docToGraph(leadFlow)
    graph.nodes[0].position.x = 999
    graphToDoc(graph)
    expect(leadFlow).toEqual(copy)
  })
})
