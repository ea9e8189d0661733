// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { canRedo, canUndo, commit, createHistory, redo, replace, undo, COALESCE_MS } from './history'

describe('undo/redo history', () => {
  it('undoes and redoes in order', () => {
    let h = createHistory('a')
    h = commit(h, 'b', null, 0)
    h = commit(h, 'c', null, 10)
    expect(canUndo(h)).toBe(true)
    h = undo(h)
    expect(h.present).toBe('b')
    h = undo(h)
    expect(h.present).toBe('a')
    expect(canUndo(h)).toBe(false)
    h = redo(h)
    expect(h.present).toBe('b')
    h = commit(h, 'x', null, 20)
    expect(canRedo(h)).toBe(false)
    expect(undo(h).present).toBe('b')
  })

  it('groups quick edits with the same key into one step', () => {
    let h = createHistory('')
    h = commit(h, 'H', 'typing', 0)
    h = commit(h, 'Ho', 'typing', 300)
    h = commit(h, 'Hol', 'typing', 600)
    expect(undo(h).present).toBe('')
    h = commit(h, 'Hola', 'typing', 600 + COALESCE_MS + 1)
    expect(undo(h).present).toBe('Hol')
  })

  it('replaces without an undo step', () => {
    let h = commit(createHistory(1), 2, null, 0)
    h = replace(h, 3)
    expect(h.present).toBe(3)
    expect(undo(h).present).toBe(1)
  })
})
