import { describe, expect, it } from 'vitest'
import { docToGraph } from './convert'
import { insertVariable, liquidVariables, suggestions, typedVariable, upstream } from './liquid'
import type { FlowDoc } from './document'

const doc = {
  format: 1,
  metadata: { name: 'x' },
  triggers: [{ type: 'business_event', event: 'cart.abandoned' }],
  nodes: [
    { id: 'ask', type: 'ai_classify_intent', config: { save_as: 'intent' }, exits: { next: 'tag' } },
    { id: 'tag', type: 'add_tag', config: {}, exits: { next: 'send' } },
    { id: 'send', type: 'whatsapp_text', config: { text: '' }, exits: { next: null } },
    { id: 'other', type: 'whatsapp_text', config: { save_as: 'nope' }, exits: {} },
  ],
} as unknown as FlowDoc

describe('liquid variables', () => {
  const graph = docToGraph(doc)
  it('lists the nodes that run before a node', () => {
    expect(upstream(graph, 'send')).toEqual(['tag', 'ask'])
    expect(upstream(graph, 'ask')).toEqual([])
  })
  it('offers contact, custom fields, earlier results and the trigger', () => {
    const paths = liquidVariables(graph, 'send', ['plan']).map((v) => v.path)
    expect(paths).toContain('contact.first_name')
    expect(paths).toContain('contact.fields.plan')
    expect(paths).toContain('results.intent')
    expect(paths).toContain('results.tag')
    expect(paths).not.toContain('results.nope')
    expect(paths).toContain('trigger.data')
    expect(paths).toContain('event')
  })
  it('finds the variable being typed and completes it', () => {
    expect(typedVariable('Hola {{ contact.fi', 18)).toEqual({ start: 8, prefix: 'contact.fi' })
    expect(typedVariable('Hola {{ contact.name }} y', 25)).toBeNull()
    const vars = liquidVariables(graph, 'send', [])
    expect(suggestions(vars, 'contact.fi').map((v) => v.path)).toEqual(['contact.first_name'])
    expect(suggestions(vars, 'intent').map((v) => v.path)).toEqual(['results.intent'])
    expect(insertVariable('Hola {{ contact.fi', 18, 'contact.first_name'))
      .toEqual({ text: 'Hola {{ contact.first_name }}', caret: 29 })
    expect(insertVariable('Hola {{ con }}!', 11, 'contact.name'))
      .toEqual({ text: 'Hola {{ contact.name }}!', caret: 20 })
  })
})
