// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { diffSummary } from './diff'
import type { FlowDoc } from './document'

const v1: FlowDoc = {
  metadata: { name: 'f' },
  triggers: [{ type: 'inbound_message' }],
  nodes: [
    { id: 'a', type: 'add_tag', config: { tags: ['x'] }, exits: { next: 'b' } },
    { id: 'b', type: 'end', config: {} },
  ],
  layout: { a: { x: 0, y: 0 }, b: { x: 1, y: 1 } },
}

describe('version diff summary', () => {
  it('counts added, removed and changed nodes and ignores positions', () => {
    const draft: FlowDoc = {
      ...v1,
      nodes: [
        { id: 'a', type: 'add_tag', config: { tags: ['y'] }, exits: { next: 'c' } },
        { id: 'c', type: 'end', config: {} },
      ],
      layout: { a: { x: 50, y: 0 }, c: { x: 1, y: 1 } },
    }
    expect(diffSummary(v1, draft)).toEqual({ added: ['c'], removed: ['b'], changed: ['a'], flowChanged: false })
    expect(diffSummary(v1, { ...v1, layout: {} })).toEqual({ added: [], removed: [], changed: [], flowChanged: false })
    expect(diffSummary(v1, { ...v1, triggers: [] }).flowChanged).toBe(true)
  })
})
