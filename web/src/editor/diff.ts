/** What changed between two flow documents, in numbers a person can read. Pure. */
import type { FlowDoc } from './document'

export interface DiffSummary {
  added: string[]
  removed: string[]
  changed: string[]
  /** Triggers or settings differ. */
  flowChanged: boolean
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/** Nodes added, removed and changed (config, exits, label) from `before` to `after`. Positions
 * are layout, not behaviour, and are ignored. */
export function diffSummary(before: FlowDoc, after: FlowDoc): DiffSummary {
  const old = new Map(before.nodes.map((n) => [n.id, n]))
  const now = new Map(after.nodes.map((n) => [n.id, n]))
  const added = [...now.keys()].filter((id) => !old.has(id))
  const removed = [...old.keys()].filter((id) => !now.has(id))
  const changed = [...now.keys()].filter((id) => old.has(id) && !same(old.get(id), now.get(id)))
  const flowChanged = !same(before.triggers, after.triggers) || !same(before.settings, after.settings)
    || !same(before.start, after.start)
  return { added, removed, changed, flowChanged }
}
