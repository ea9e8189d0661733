/** Undo/redo over immutable snapshots. Pure. */

export interface History<T> {
  past: T[]
  present: T
  future: T[]
  /** Edits with the same key in quick succession (typing, one drag) make one undo step. */
  lastKey: string | null
  lastAt: number
}

export const HISTORY_LIMIT = 200
export const COALESCE_MS = 1000

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], lastKey: null, lastAt: 0 }
}

/** Record a new present. `key` groups edits into one undo step while they keep coming. */
export function commit<T>(h: History<T>, next: T, key: string | null, now: number): History<T> {
  if (next === h.present) return h
  if (key !== null && key === h.lastKey && now - h.lastAt < COALESCE_MS) {
    return { ...h, present: next, future: [], lastAt: now }
  }
  const past = [...h.past, h.present]
  if (past.length > HISTORY_LIMIT) past.shift()
  return { past, present: next, future: [], lastKey: key, lastAt: now }
}

/** Replace the present without an undo step (measurements, server-derived exits). */
export function replace<T>(h: History<T>, next: T): History<T> {
  return next === h.present ? h : { ...h, present: next }
}

export function undo<T>(h: History<T>): History<T> {
  if (!h.past.length) return h
  const past = h.past.slice(0, -1)
  return { past, present: h.past[h.past.length - 1], future: [h.present, ...h.future], lastKey: null, lastAt: 0 }
}

export function redo<T>(h: History<T>): History<T> {
  if (!h.future.length) return h
  const [next, ...future] = h.future
  return { past: [...h.past, h.present], present: next, future, lastKey: null, lastAt: 0 }
}

export const canUndo = <T,>(h: History<T>): boolean => h.past.length > 0
export const canRedo = <T,>(h: History<T>): boolean => h.future.length > 0
